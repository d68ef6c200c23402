// A GGUF file's tokenizer (the tokenizer.ggml.* keys llama.cpp writes) as
// plain data, and the TokenizerSpec it stands for. The keys are read from
// the file by the engine (formats/ is not a dependency of this layer).
//
// Byte-level BPE only (tokenizer.ggml.model "gpt2"); the pre-tokenizer comes
// from tokenizer.ggml.pre (qwen2, deepseek-r1-qwen, llama3, ...). GGUF keeps
// no normalizer: the Qwen2 family's NFC is implied by its pre value, as in
// the tokenizer.json it was converted from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "tokenizer/tokenizer_spec.h"

namespace ember::tokenizer {

// llama.cpp's token types (tokenizer.ggml.token_type).
enum GgufTokenType : int32_t {
  kGgufNormal = 1, kGgufUnknown = 2, kGgufControl = 3, kGgufUserDefined = 4, kGgufUnused = 5, kGgufByte = 6,
};

struct GgufVocab {
  std::string source;                   // file name, for messages
  std::string model;                    // tokenizer.ggml.model
  std::string pre;                      // tokenizer.ggml.pre
  std::vector<std::string> tokens;      // by id, byte-level text
  std::vector<int64_t> token_types;     // by id; empty: all normal
  std::vector<std::string> merges;      // "a b", in rank order
  int64_t bos_id = -1, eos_id = -1, pad_id = -1;
  std::optional<bool> add_bos, add_eos;
};

// Unused tokens (type 5) get no id; control tokens become special added
// tokens, user-defined ones plain added tokens.
Result<TokenizerSpec> spec_from_gguf_vocab(const GgufVocab& vocab);

}  // namespace ember::tokenizer
