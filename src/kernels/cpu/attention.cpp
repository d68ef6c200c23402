// Paged causal attention on the CPU: one pass over a sequence's cached K/V per
// (query row, KV head), with an online softmax, processing together the query
// heads that share the KV head (GQA).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/ops.h"
#include "tensor/fp16.h"

namespace ember::kernels {
namespace {

inline void load_row(const void* cache, DType dt, int64_t slot, int64_t offset, int64_t n,
                     int64_t kv_dim, float* out) {
  const int64_t base = slot * kv_dim + offset;
  switch (dt) {
    case DType::kF32:
      std::memcpy(out, static_cast<const float*>(cache) + base, n * sizeof(float));
      break;
    case DType::kF16: {
      const uint16_t* p = static_cast<const uint16_t*>(cache) + base;
      for (int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(p[i]);
      break;
    }
    default: {  // bf16
      const uint16_t* p = static_cast<const uint16_t*>(cache) + base;
      for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(p[i]);
      break;
    }
  }
}

inline void store_row(void* cache, DType dt, int64_t slot, const float* src, int64_t n) {
  const int64_t base = slot * n;
  switch (dt) {
    case DType::kF32:
      std::memcpy(static_cast<float*>(cache) + base, src, n * sizeof(float));
      break;
    case DType::kF16: {
      uint16_t* p = static_cast<uint16_t*>(cache) + base;
      for (int64_t i = 0; i < n; ++i) p[i] = f32_to_f16(src[i]);
      break;
    }
    default: {
      uint16_t* p = static_cast<uint16_t*>(cache) + base;
      for (int64_t i = 0; i < n; ++i) p[i] = f32_to_bf16(src[i]);
      break;
    }
  }
}

}  // namespace

void kv_write(const float* k, const float* v, int64_t row_stride, int64_t n_tokens, int64_t kv_dim,
              const int64_t* slots, DType kv_dtype, void* k_cache, void* v_cache) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    store_row(k_cache, kv_dtype, slots[t], k + t * row_stride, kv_dim);
    store_row(v_cache, kv_dtype, slots[t], v + t * row_stride, kv_dim);
  }
}

void attention(const AttentionParams& p, ThreadPool& pool) {
  const int64_t group = p.n_heads / p.n_kv_heads;
  const int64_t hd = p.head_dim;
  const int64_t kv_dim = p.n_kv_heads * hd;
  // Work items: (sequence, query row, kv head).
  struct Item {
    const AttentionSeq* seq;
    int64_t row;
    int64_t kvh;
  };
  std::vector<Item> items;
  for (int64_t s = 0; s < p.n_seqs; ++s)
    for (int64_t r = 0; r < p.seqs[s].q_len; ++r)
      for (int64_t h = 0; h < p.n_kv_heads; ++h) items.push_back({&p.seqs[s], r, h});

  pool.parallel_for(static_cast<int64_t>(items.size()), 1, [&](int64_t begin, int64_t end) {
    std::vector<float> kbuf(hd), vbuf(hd), acc(group * hd), m(group), l(group), score(group);
    for (int64_t it = begin; it < end; ++it) {
      const Item& item = items[it];
      const AttentionSeq& seq = *item.seq;
      const int64_t pos = seq.context_len - seq.q_len + item.row;
      const int64_t qrow = seq.q_begin + item.row;
      std::fill(acc.begin(), acc.end(), 0.0f);
      std::fill(m.begin(), m.end(), -INFINITY);
      std::fill(l.begin(), l.end(), 0.0f);
      for (int64_t j = 0; j <= pos; ++j) {
        const int64_t slot = static_cast<int64_t>(seq.block_table[j / p.block_size]) * p.block_size +
                             j % p.block_size;
        load_row(p.k_cache, p.kv_dtype, slot, item.kvh * hd, hd, kv_dim, kbuf.data());
        load_row(p.v_cache, p.kv_dtype, slot, item.kvh * hd, hd, kv_dim, vbuf.data());
        for (int64_t g = 0; g < group; ++g) {
          const float* q = p.q + qrow * p.q_stride + (item.kvh * group + g) * hd;
          float s = 0.0f;
          for (int64_t d = 0; d < hd; ++d) s += q[d] * kbuf[d];
          s *= p.scale;
          const float m_new = std::max(m[g], s);
          const float correction = std::exp(m[g] - m_new);
          const float w = std::exp(s - m_new);
          float* a = acc.data() + g * hd;
          for (int64_t d = 0; d < hd; ++d) a[d] = a[d] * correction + w * vbuf[d];
          l[g] = l[g] * correction + w;
          m[g] = m_new;
        }
      }
      for (int64_t g = 0; g < group; ++g) {
        float* o = p.out + qrow * (p.n_heads * hd) + (item.kvh * group + g) * hd;
        const float inv = 1.0f / l[g];
        for (int64_t d = 0; d < hd; ++d) o[d] = acc[g * hd + d] * inv;
      }
    }
  });
}

}  // namespace ember::kernels
