// Unicode normalization of the text between added tokens (the tokenizer.json
// "normalizer": NFC for the Qwen2 family), with utf8proc. ASCII never changes
// under any of the four forms and always starts a new normalization segment,
// so only the runs around non-ASCII characters go through utf8proc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ember::tokenizer {

enum class NormalForm { kNFC, kNFD, kNFKC, kNFKD };

const char* normal_form_name(NormalForm form);

class Normalizer {
 public:
  Normalizer() = default;  // the identity
  explicit Normalizer(std::vector<NormalForm> forms) : forms_(std::move(forms)) {}

  bool is_identity() const { return forms_.empty(); }
  const std::vector<NormalForm>& forms() const { return forms_; }

  // Normalizes `text` (valid UTF-8). Returns false, leaving *out untouched,
  // when the text certainly stays as it is (identity, or all ASCII), so the
  // caller keeps using `text`; else true with the result in *out.
  bool normalize(std::string_view text, std::string* out) const;

 private:
  std::vector<NormalForm> forms_;  // applied in order (a "Sequence")
};

// One form applied to the whole of `text` with utf8proc, no segmenting
// (the reference the segmenting path is tested against).
std::string normalize_whole(std::string_view text, NormalForm form);

}  // namespace ember::tokenizer
