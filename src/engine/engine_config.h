// Options of the serving engine (flags of `ember serve` / `ember run`),
// validated once into a Status.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "model/model.h"

namespace ember::engine {

struct EngineConfig {
  std::string model;                     // HF directory or .gguf
  model::LoadOptions load;
  int threads = 0;                       // 0: physical cores
  std::string kv_cache_dtype = "auto";   // auto (f32 for f32 weights, else f16) | f16 | bf16 | f32 | q8_0
  int64_t block_size = 16;
  int64_t kv_cache_memory = 0;           // bytes; 0: from memory_utilization
  double memory_utilization = 0.0;       // share of available memory for KV; 0: CPU default
  int64_t max_num_batched_tokens = 2048;
  int64_t max_num_seqs = 256;
  int64_t max_model_len = 0;             // 0: the model's, lowered to what the pool holds
  bool enable_prefix_caching = true;

  Status validate() const;
};

}  // namespace ember::engine
