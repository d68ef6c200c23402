// Hugging Face tokenizer files: tokenizer.json (the model, added tokens,
// normalizer, pre-tokenizer, post-processor, decoder) and
// tokenizer_config.json (which tokens are BOS / EOS / PAD, add_bos_token,
// the chat template). What the Qwen2-family and DeepSeek files use is
// supported; anything else is a clear `unsupported` naming the component.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_spec.h"

namespace ember::tokenizer {

// tokenizer.json text -> spec. `source` names the file in messages.
Result<TokenizerSpec> spec_from_tokenizer_json(std::string_view json_text, const std::string& source);

// What ember reads of tokenizer_config.json.
struct TokenizerConfig {
  std::string bos_token, eos_token, pad_token;  // token contents; empty: none
  std::optional<bool> add_bos_token, add_eos_token;
  std::string tokenizer_class;
  nlohmann::ordered_json chat_template;         // string, list of {name, template}, or null
  int64_t model_max_length = 0;                 // 0: not given
};

Result<TokenizerConfig> parse_tokenizer_config(const nlohmann::ordered_json& config, const std::string& source);

// Resolves the named tokens to ids and, for LlamaTokenizerFast (as
// transformers does), rebuilds the post-processor from add_bos_token /
// add_eos_token.
Status apply_tokenizer_config(const TokenizerConfig& config, TokenizerSpec* spec);

// A Hugging Face directory's tokenizer.json plus its tokenizer_config.json
// (optional). *config receives the latter when non-null.
Result<std::shared_ptr<const Tokenizer>> load_tokenizer_dir(const std::string& dir, TokenizerConfig* config = nullptr);

}  // namespace ember::tokenizer
