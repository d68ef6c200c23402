// The shape and hyper-parameters of a decoder model, read from a Hugging Face
// config.json or from GGUF metadata. Qwen2 is the reference; Llama (no q/k/v
// biases) and Qwen3 (q/k RMSNorm, explicit head_dim) are small variations.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace ember::formats {
class GgufFile;
}

namespace ember::model {

enum class Architecture { kQwen2, kQwen3, kLlama };
const char* architecture_name(Architecture a);

struct ModelConfig {
  Architecture arch = Architecture::kQwen2;
  int64_t hidden = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t ffn = 0;
  int64_t vocab = 0;
  int64_t max_position = 0;   // context length the model was trained for
  float rms_eps = 1e-6f;
  float rope_theta = 10000.0f;
  bool qkv_bias = true;       // Qwen2: biases on q/k/v
  bool qk_norm = false;       // Qwen3: RMSNorm on q and k per head
  bool tie_embeddings = false;

  int64_t q_dim() const { return n_heads * head_dim; }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
  // Checks the numbers are positive and consistent (heads divide, etc.).
  Status validate() const;
};

// config.json of a Hugging Face model directory.
Result<ModelConfig> config_from_hf_json(const std::string& config_json_path);
// GGUF metadata (general.architecture and <arch>.* keys); vocab from the
// embedding tensor's shape.
Result<ModelConfig> config_from_gguf(const formats::GgufFile& gguf);

}  // namespace ember::model
