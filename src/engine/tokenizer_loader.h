// Finds and loads a model's tokenizer and chat template: tokenizer.json +
// tokenizer_config.json in a Hugging Face directory, or the tokenizer.ggml.*
// keys and tokenizer.chat_template of a GGUF file. Needs no weights, so
// `ember tokenize` works on a directory that holds only the tokenizer files.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/tokenizer.h"

namespace ember::formats {
class GgufFile;
}

namespace ember::engine {

struct ModelTokenizer {
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;
  // As the files give it: a string, a list of {name, template}, or null.
  nlohmann::ordered_json chat_template;
  std::string bos_token, eos_token, pad_token;  // token texts; empty: none
  int64_t model_max_length = 0;                 // tokenizer_config.json; 0: not given
};

// `path`: a Hugging Face directory or a .gguf file.
Result<ModelTokenizer> load_model_tokenizer(const std::string& path);

// The tokenizer.ggml.* keys of an open GGUF file.
Result<tokenizer::GgufVocab> read_gguf_vocab(const formats::GgufFile& gguf);

}  // namespace ember::engine
