#include "model/model_config.h"

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "formats/gguf.h"

namespace ember::model {

const char* architecture_name(Architecture a) {
  switch (a) {
    case Architecture::kQwen2: return "qwen2";
    case Architecture::kQwen3: return "qwen3";
    case Architecture::kLlama: return "llama";
  }
  return "unknown";
}

Status ModelConfig::validate() const {
  auto positive = [](int64_t v, const char* name) -> Status {
    if (v <= 0 || v > (int64_t{1} << 31))
      return invalid_argument(std::string(name) + " must be a positive integer, got " +
                              std::to_string(v));
    return ok_status();
  };
  EMBER_RETURN_IF_ERROR(positive(hidden, "hidden size"));
  EMBER_RETURN_IF_ERROR(positive(n_layers, "layer count"));
  EMBER_RETURN_IF_ERROR(positive(n_heads, "attention head count"));
  EMBER_RETURN_IF_ERROR(positive(n_kv_heads, "KV head count"));
  EMBER_RETURN_IF_ERROR(positive(head_dim, "head dim"));
  EMBER_RETURN_IF_ERROR(positive(ffn, "intermediate size"));
  EMBER_RETURN_IF_ERROR(positive(vocab, "vocabulary size"));
  if (n_heads % n_kv_heads != 0)
    return invalid_argument("attention heads (" + std::to_string(n_heads) +
                            ") must be a multiple of KV heads (" + std::to_string(n_kv_heads) + ")");
  if (head_dim % 2 != 0 || head_dim > 1024)
    return unsupported("head dim " + std::to_string(head_dim) + " (must be even and <= 1024)");
  if (!(rms_eps > 0.0f) || !(rope_theta > 0.0f))
    return invalid_argument("rms_norm_eps and rope_theta must be positive");
  return ok_status();
}

namespace {

Result<int64_t> json_int(const nlohmann::json& j, const char* key, const std::string& file) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer())
    return invalid_argument(file + ": '" + key + "' missing or not an integer");
  return it->get<int64_t>();
}

}  // namespace

Result<ModelConfig> config_from_hf_json(const std::string& path) {
  EMBER_ASSIGN_OR_RETURN(std::string text, read_file(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return corrupt(path + ": not a JSON object");
  ModelConfig c;
  std::string arch;
  if (auto it = j.find("architectures"); it != j.end() && it->is_array() && !it->empty() &&
                                         (*it)[0].is_string())
    arch = (*it)[0].get<std::string>();
  else if (auto mt = j.find("model_type"); mt != j.end() && mt->is_string())
    arch = mt->get<std::string>();
  if (arch == "Qwen2ForCausalLM" || arch == "qwen2") {
    c.arch = Architecture::kQwen2;
    c.qkv_bias = true;
  } else if (arch == "Qwen3ForCausalLM" || arch == "qwen3") {
    c.arch = Architecture::kQwen3;
    c.qkv_bias = false;
    c.qk_norm = true;
  } else if (arch == "LlamaForCausalLM" || arch == "llama") {
    c.arch = Architecture::kLlama;
    c.qkv_bias = false;
  } else {
    return unsupported(path + ": architecture '" + arch +
                       "' (supported: Qwen2ForCausalLM, Qwen3ForCausalLM, LlamaForCausalLM)");
  }
  if (auto it = j.find("attention_bias"); it != j.end() && it->is_boolean())
    c.qkv_bias = it->get<bool>();
  EMBER_ASSIGN_OR_RETURN(c.hidden, json_int(j, "hidden_size", path));
  EMBER_ASSIGN_OR_RETURN(c.n_layers, json_int(j, "num_hidden_layers", path));
  EMBER_ASSIGN_OR_RETURN(c.n_heads, json_int(j, "num_attention_heads", path));
  c.n_kv_heads = c.n_heads;
  if (j.contains("num_key_value_heads")) {
    EMBER_ASSIGN_OR_RETURN(c.n_kv_heads, json_int(j, "num_key_value_heads", path));
  }
  EMBER_ASSIGN_OR_RETURN(c.ffn, json_int(j, "intermediate_size", path));
  EMBER_ASSIGN_OR_RETURN(c.vocab, json_int(j, "vocab_size", path));
  c.head_dim = c.n_heads > 0 ? c.hidden / c.n_heads : 0;
  if (auto it = j.find("head_dim"); it != j.end() && it->is_number_integer())
    c.head_dim = it->get<int64_t>();
  c.max_position = 4096;
  if (auto it = j.find("max_position_embeddings"); it != j.end() && it->is_number_integer())
    c.max_position = it->get<int64_t>();
  if (auto it = j.find("rms_norm_eps"); it != j.end() && it->is_number())
    c.rms_eps = it->get<float>();
  if (auto it = j.find("rope_theta"); it != j.end() && it->is_number())
    c.rope_theta = it->get<float>();
  if (auto it = j.find("tie_word_embeddings"); it != j.end() && it->is_boolean())
    c.tie_embeddings = it->get<bool>();
  if (auto it = j.find("rope_scaling"); it != j.end() && !it->is_null())
    return unsupported(path + ": rope_scaling is not supported yet");
  if (Status s = c.validate(); !s.ok()) return s.with_context(path);
  return c;
}

Result<ModelConfig> config_from_gguf(const formats::GgufFile& g) {
  const std::string& path = g.path();
  EMBER_ASSIGN_OR_RETURN(std::string arch, g.get_string("general.architecture"));
  ModelConfig c;
  if (arch == "qwen2") {
    c.arch = Architecture::kQwen2;
    c.qkv_bias = true;
  } else if (arch == "qwen3") {
    c.arch = Architecture::kQwen3;
    c.qkv_bias = false;
    c.qk_norm = true;
  } else {
    return unsupported(path + ": general.architecture '" + arch + "' (supported: qwen2, qwen3)");
  }
  auto get = [&](const std::string& key) { return g.get_int(arch + "." + key); };
  EMBER_ASSIGN_OR_RETURN(c.hidden, get("embedding_length"));
  EMBER_ASSIGN_OR_RETURN(c.n_layers, get("block_count"));
  EMBER_ASSIGN_OR_RETURN(c.n_heads, get("attention.head_count"));
  c.n_kv_heads = c.n_heads;
  if (g.has(arch + ".attention.head_count_kv")) {
    EMBER_ASSIGN_OR_RETURN(c.n_kv_heads, get("attention.head_count_kv"));
  }
  EMBER_ASSIGN_OR_RETURN(c.ffn, get("feed_forward_length"));
  c.head_dim = c.n_heads > 0 ? c.hidden / c.n_heads : 0;
  if (g.has(arch + ".attention.key_length")) {
    EMBER_ASSIGN_OR_RETURN(c.head_dim, get("attention.key_length"));
  }
  c.max_position = 4096;
  if (g.has(arch + ".context_length")) {
    EMBER_ASSIGN_OR_RETURN(c.max_position, get("context_length"));
  }
  if (g.has(arch + ".attention.layer_norm_rms_epsilon")) {
    EMBER_ASSIGN_OR_RETURN(double eps, g.get_float(arch + ".attention.layer_norm_rms_epsilon"));
    c.rms_eps = static_cast<float>(eps);
  }
  if (g.has(arch + ".rope.freq_base")) {
    EMBER_ASSIGN_OR_RETURN(double theta, g.get_float(arch + ".rope.freq_base"));
    c.rope_theta = static_cast<float>(theta);
  }
  const formats::GgufTensorInfo* emb = g.find_tensor("token_embd.weight");
  if (!emb || emb->shape.size() != 2)
    return corrupt(path + ": tensor 'token_embd.weight' missing or not 2-D");
  c.vocab = emb->shape[1];
  if (g.has(arch + ".vocab_size")) {
    EMBER_ASSIGN_OR_RETURN(int64_t v, get("vocab_size"));
    if (v != c.vocab)
      return corrupt(path + ": " + arch + ".vocab_size " + std::to_string(v) +
                     " disagrees with token_embd.weight rows " + std::to_string(c.vocab));
  }
  c.tie_embeddings = g.find_tensor("output.weight") == nullptr;
  if (Status s = c.validate(); !s.ok()) return s.with_context(path);
  return c;
}

}  // namespace ember::model
