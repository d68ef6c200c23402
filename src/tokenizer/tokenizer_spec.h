// Everything a Tokenizer is built from, independent of where it was read
// (tokenizer.json or a GGUF vocabulary): the plain data the two loaders fill
// and Tokenizer::create checks and compiles.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"

namespace ember::tokenizer {

// One item of the post-processor's template for a single sequence.
struct TemplateItem {
  bool is_sequence = false;  // the encoded text goes here
  std::vector<int32_t> ids;  // else: these special token ids
};

struct TokenizerSpec {
  std::string source;  // file name, for messages

  // BPE model. Token texts are in the byte-level alphabet.
  std::vector<std::pair<std::string, int32_t>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  std::string unk_token;  // empty: none
  bool fuse_unk = false;
  bool ignore_merges = false;

  std::vector<AddedToken> added_tokens;
  std::vector<NormalForm> normalizer;          // applied in order; empty: none
  std::vector<PreTokenizerStep> pre_tokenizer;
  std::vector<TemplateItem> post_processor;    // for add_special_tokens; empty: nothing added

  // Named special tokens (-1: none): tokenizer_config.json or GGUF keys.
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t pad_id = -1;
  int32_t unk_id = -1;
};

}  // namespace ember::tokenizer
