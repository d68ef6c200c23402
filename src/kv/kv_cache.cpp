#include "kv/kv_cache.h"

#include <cstring>
#include <new>
#include <string>

namespace ember::kv {

size_t KvCache::bytes_per_token(const model::ModelConfig& c, DType dtype) {
  return 2 * static_cast<size_t>(c.n_layers) * row_bytes(dtype, c.kv_dim());
}

Result<KvCache> KvCache::create(const model::ModelConfig& c, DType dtype, int64_t num_blocks,
                                int64_t block_size) {
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16)
    return invalid_argument("KV cache dtype must be f32, f16 or bf16, got " + std::string(dtype_name(dtype)));
  if (num_blocks <= 0 || block_size <= 0 || block_size > 1024)
    return invalid_argument("KV cache needs a positive block count and a block size in [1, 1024]");
  KvCache kv;
  kv.num_blocks_ = num_blocks;
  kv.view_.dtype = dtype;
  kv.view_.block_size = block_size;
  kv.view_.num_slots = num_blocks * block_size;
  const size_t layer_bytes = row_bytes(dtype, c.kv_dim()) * static_cast<size_t>(kv.view_.num_slots);
  kv.block_bytes_ = row_bytes(dtype, c.kv_dim()) * static_cast<size_t>(block_size);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    for (int which = 0; which < 2; ++which) {
      std::unique_ptr<uint8_t[]> buf(new (std::nothrow) uint8_t[layer_bytes]);
      if (!buf)
        return resource_exhausted("cannot allocate the KV cache (" +
                                  std::to_string(layer_bytes * 2 * c.n_layers >> 20) + " MiB)");
      (which == 0 ? kv.view_.k : kv.view_.v).push_back(buf.get());
      kv.buffers_.push_back(std::move(buf));
      kv.bytes_ += layer_bytes;
    }
  }
  return kv;
}

void KvCache::copy_block(int32_t src, int32_t dst) {
  for (size_t l = 0; l < view_.k.size(); ++l) {
    for (void* base : {view_.k[l], view_.v[l]}) {
      uint8_t* b = static_cast<uint8_t*>(base);
      std::memcpy(b + static_cast<size_t>(dst) * block_bytes_, b + static_cast<size_t>(src) * block_bytes_,
                  block_bytes_);
    }
  }
}

}  // namespace ember::kv
