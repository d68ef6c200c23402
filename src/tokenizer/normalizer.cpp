#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>
#include <cstring>

namespace ember::tokenizer {
namespace {

int utf8proc_options(NormalForm form) {
  switch (form) {
    case NormalForm::kNFC: return UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    case NormalForm::kNFD: return UTF8PROC_STABLE | UTF8PROC_DECOMPOSE;
    case NormalForm::kNFKC: return UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    case NormalForm::kNFKD: return UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
  }
  return UTF8PROC_STABLE | UTF8PROC_COMPOSE;
}

// Appends form(text) to out. text is valid UTF-8, so utf8proc cannot fail
// except for memory; then the text is kept as it is.
void append_normalized(std::string_view text, NormalForm form, std::string* out) {
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          static_cast<utf8proc_ssize_t>(text.size()), &dst,
                                          static_cast<utf8proc_option_t>(utf8proc_options(form)));
  if (n < 0 || !dst) {
    out->append(text);
  } else {
    out->append(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
  }
  std::free(dst);
}

size_t first_non_ascii(std::string_view s, size_t from) {
  size_t i = from;
  const size_t n = s.size();
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ull) break;
    i += 8;
  }
  while (i < n && static_cast<uint8_t>(s[i]) < 0x80) ++i;
  return i;
}

// One form over text, segment by segment: a segment is a run of non-ASCII
// characters plus the ASCII character before it (which may compose with
// combining marks that follow it); ASCII elsewhere is copied.
bool normalize_one(std::string_view text, NormalForm form, std::string* out) {
  size_t j = first_non_ascii(text, 0);
  if (j == text.size()) return false;
  out->clear();
  out->reserve(text.size() + text.size() / 8);
  size_t i = 0;
  while (j < text.size()) {
    const size_t seg = j > i ? j - 1 : j;
    out->append(text.data() + i, seg - i);
    size_t k = j;
    while (k < text.size() && static_cast<uint8_t>(text[k]) >= 0x80) ++k;
    append_normalized(text.substr(seg, k - seg), form, out);
    i = k;
    j = first_non_ascii(text, k);
  }
  out->append(text.data() + i, text.size() - i);
  return true;
}

}  // namespace

const char* normal_form_name(NormalForm form) {
  switch (form) {
    case NormalForm::kNFC: return "NFC";
    case NormalForm::kNFD: return "NFD";
    case NormalForm::kNFKC: return "NFKC";
    case NormalForm::kNFKD: return "NFKD";
  }
  return "?";
}

bool Normalizer::normalize(std::string_view text, std::string* out) const {
  if (forms_.empty()) return false;
  if (forms_.size() == 1) return normalize_one(text, forms_[0], out);
  std::string cur(text), next;
  bool changed = false;
  for (NormalForm f : forms_) {
    if (normalize_one(cur, f, &next)) {
      cur.swap(next);
      changed = true;
    }
  }
  if (changed) *out = std::move(cur);
  return changed;
}

std::string normalize_whole(std::string_view text, NormalForm form) {
  std::string out;
  append_normalized(text, form, &out);
  return out;
}

}  // namespace ember::tokenizer
