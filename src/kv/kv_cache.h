// The KV tensors: for each layer a K and a V buffer of num_blocks blocks of
// block_size x kv_dim values in 16-bit (default), f32 or Q8_0 (each head's
// row in blocks of 32 int8 with an f16 scale: 8.5 bits a value, 1.88x the
// tokens of f16 in the same memory), each block contiguous (its layout:
// kernels::kv_cache_offset). The only part of kv/ that touches memory; block
// bookkeeping is separate and works on integers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/forward_batch.h"
#include "model/model_config.h"

namespace ember::kv {

// The KV dtype a --kv-cache-dtype value names: auto (f32 for a model with
// f32 weights, given as weights_dtype, else f16), f16, bf16, f32 or q8_0.
Result<DType> parse_kv_cache_dtype(const std::string& name, DType weights_dtype);

class KvCache {
 public:
  static Result<KvCache> create(const model::ModelConfig& config, DType dtype, int64_t num_blocks,
                                int64_t block_size);

  const model::KvCacheView& view() const { return view_; }
  int64_t num_blocks() const { return num_blocks_; }
  int64_t block_size() const { return view_.block_size; }
  size_t bytes() const { return bytes_; }

  // Copies block src's K and V into block dst in every layer (copy-on-write
  // of a shared partial block).
  void copy_block(int32_t src, int32_t dst);

  // Bytes one token's K and V take over all layers.
  static size_t bytes_per_token(const model::ModelConfig& config, DType dtype);

 private:
  std::vector<std::unique_ptr<uint8_t[]>> buffers_;
  model::KvCacheView view_;
  int64_t num_blocks_ = 0;
  size_t bytes_ = 0;
  size_t block_bytes_ = 0;  // one block of one layer's K (or V)
};

}  // namespace ember::kv
