// The weights of a decoder model, bound by name from a TensorSource and
// prepared for the kernels: matmul weights packed (in place when the kernel
// reads the file's bytes as they are), small vectors (norms, biases) as f32.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "kernels/ops.h"
#include "model/model_config.h"
#include "model/tensor_source.h"

namespace ember::model {

struct WeightOptions {
  // Matmul weights of a float checkpoint converted to this type at load:
  // "auto" keeps the file's type; "bf16", "f16", "f32" convert.
  std::string dtype = "auto";
  // Quantize matmul weights of a 16/32-bit checkpoint at load: "", "q8_0", "q4_k".
  std::string quantize;
};

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;           // [hidden]
  kernels::PackedWeight wq, wk, wv, wo;             // [q_dim|kv_dim, hidden], [hidden, q_dim]
  std::vector<float> bq, bk, bv;                    // empty when the model has no biases
  std::vector<float> q_norm, k_norm;                // Qwen3: [head_dim]
  kernels::PackedWeight w_gate, w_up, w_down;       // [ffn, hidden] x2, [hidden, ffn]
};

struct ModelWeights {
  DType embed_dtype = DType::kF32;
  const void* embed = nullptr;                      // [vocab, hidden] rows in embed_dtype
  std::vector<float> final_norm;                    // [hidden]
  kernels::PackedWeight lm_head;                    // [vocab, hidden]
  std::vector<LayerWeights> layers;
  std::vector<std::shared_ptr<void>> owned;         // converted buffers
  size_t matmul_bytes = 0;                          // bytes read by one full pass of matmuls
};

Result<ModelWeights> load_weights(const TensorSource& src, const ModelConfig& config,
                                  const WeightOptions& options, ThreadPool& pool);

}  // namespace ember::model
