#include "tokenizer/gguf_vocab.h"

#include "tokenizer/fast_splitter.h"

namespace ember::tokenizer {
namespace {

// The pre-tokenizer regex of each tokenizer.ggml.pre value ember knows.
const char* pre_pattern(const std::string& pre) {
  if (pre == "qwen2" || pre == "deepseek-r1-qwen") return kQwen2Pattern.data();
  if (pre == "llama3" || pre == "llama-bpe" || pre == "smaug-bpe") return kLlama3Pattern.data();
  return nullptr;
}

}  // namespace

Result<TokenizerSpec> spec_from_gguf_vocab(const GgufVocab& v) {
  const std::string& src = v.source;
  if (v.model != "gpt2")
    return Status(unsupported(src + ": tokenizer.ggml.model '" + v.model + "' is not supported (gpt2 byte-level BPE is)"));
  const char* pattern = pre_pattern(v.pre);
  if (!pattern)
    return Status(unsupported(src + ": tokenizer.ggml.pre '" + v.pre +
                              "' is not supported (qwen2, deepseek-r1-qwen, llama3, llama-bpe are)"));
  if (v.tokens.empty()) return Status(corrupt(src + ": tokenizer.ggml.tokens is empty"));
  if (!v.token_types.empty() && v.token_types.size() != v.tokens.size())
    return Status(corrupt(src + ": tokenizer.ggml.token_type has " + std::to_string(v.token_types.size()) +
                          " entries, expected one per token (" + std::to_string(v.tokens.size()) + ")"));

  TokenizerSpec spec;
  spec.source = src;
  spec.vocab.reserve(v.tokens.size());
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const int64_t type = v.token_types.empty() ? int64_t{kGgufNormal} : v.token_types[id];
    const auto i = static_cast<int32_t>(id);
    if (type == kGgufUnused) continue;
    if (type == kGgufControl || type == kGgufUserDefined) {
      AddedToken a;
      a.id = i;
      a.content = v.tokens[id];
      a.special = type == kGgufControl;
      a.normalized = false;
      spec.added_tokens.push_back(std::move(a));
    } else {
      spec.vocab.emplace_back(v.tokens[id], i);
    }
  }
  spec.merges.reserve(v.merges.size());
  for (size_t i = 0; i < v.merges.size(); ++i) {
    const std::string& s = v.merges[i];
    const size_t sp = s.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 == s.size())
      return Status(corrupt(src + ": tokenizer.ggml.merges[" + std::to_string(i) + "] '" + s +
                            "' is not two tokens separated by a space"));
    spec.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
  }
  spec.normalizer = {NormalForm::kNFC};
  PreTokenizerStep split;
  split.kind = PreTokenizerStep::Kind::kSplit;
  split.pattern = pattern;
  PreTokenizerStep byte_level;
  byte_level.use_regex = false;
  spec.pre_tokenizer = {split, byte_level};

  auto id_or_none = [&](int64_t id, const char* key, int32_t* out) -> Status {
    if (id < 0) return ok_status();
    if (id >= static_cast<int64_t>(v.tokens.size()))
      return corrupt(src + ": tokenizer.ggml." + key + " " + std::to_string(id) + " is not a token id");
    *out = static_cast<int32_t>(id);
    return ok_status();
  };
  EMBER_RETURN_IF_ERROR(id_or_none(v.bos_id, "bos_token_id", &spec.bos_id));
  EMBER_RETURN_IF_ERROR(id_or_none(v.eos_id, "eos_token_id", &spec.eos_id));
  EMBER_RETURN_IF_ERROR(id_or_none(v.pad_id, "padding_token_id", &spec.pad_id));
  if (v.add_bos.value_or(false)) {
    if (spec.bos_id < 0) return Status(corrupt(src + ": tokenizer.ggml.add_bos_token is set but there is no bos_token_id"));
    spec.post_processor.push_back({false, {spec.bos_id}});
  }
  if (!spec.post_processor.empty() || v.add_eos.value_or(false)) spec.post_processor.push_back({true, {}});
  if (v.add_eos.value_or(false)) {
    if (spec.eos_id < 0) return Status(corrupt(src + ": tokenizer.ggml.add_eos_token is set but there is no eos_token_id"));
    spec.post_processor.push_back({false, {spec.eos_id}});
  }
  return spec;
}

}  // namespace ember::tokenizer
