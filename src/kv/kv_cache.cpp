#include "kv/kv_cache.h"

#include <cstring>
#include <new>
#include <string>

namespace ember::kv {

size_t KvCache::bytes_per_token(const model::ModelConfig& c, DType dtype) {
  return 2 * static_cast<size_t>(c.n_layers) * row_bytes(dtype, c.kv_dim());
}

namespace {
bool is_kv_dtype(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16 || t == DType::kQ8_0; }
}  // namespace

Result<DType> parse_kv_cache_dtype(const std::string& name, DType weights_dtype) {
  if (name == "auto") return weights_dtype == DType::kF32 ? DType::kF32 : DType::kF16;
  const auto t = parse_dtype(name);
  if (!t || !is_kv_dtype(*t))
    return invalid_argument("--kv-cache-dtype must be auto, f16, bf16, f32 or q8_0, got '" + name + "'");
  return *t;
}

Result<KvCache> KvCache::create(const model::ModelConfig& c, DType dtype, int64_t num_blocks,
                                int64_t block_size) {
  if (!is_kv_dtype(dtype))
    return invalid_argument("KV cache dtype must be f32, f16, bf16 or q8_0, got " + std::string(dtype_name(dtype)));
  if (dtype == DType::kQ8_0 && c.head_dim % 32 != 0)
    return invalid_argument("a q8_0 KV cache needs a head size that is a multiple of 32 (this model's is " +
                            std::to_string(c.head_dim) + "): use f16");
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
