// Paged causal attention on the CPU, flash-attention style: for one sequence,
// one KV head and a tile of query rows, keys are visited in chunks whose K/V
// rows are converted to f32 once and reused by every query of the tile and
// every query head sharing the KV head (GQA); an online softmax keeps one
// running max / sum / accumulator per (query row, head).
//
// The inner loops are plain C++ written for the vectorizer (`omp simd`, with
// -fopenmp-simd); target_clones builds an AVX-512 and an AVX2 copy that the
// loader picks at run time, besides the baseline one.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/attention_avx2.h"
#include "kernels/isa.h"
#include "kernels/ops.h"
#include "tensor/fp16.h"
#include "tensor/quant.h"

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define EMBER_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EMBER_MULTIVERSION
#endif

namespace ember::kernels {
namespace {

constexpr int64_t kKeyChunk = 64;   // keys converted and scored together
constexpr int64_t kQueryTile = 16;  // query rows sharing one pass over the keys

EMBER_MULTIVERSION
void load_rows(const void* cache, DType dt, const int64_t* offsets, int64_t count, int64_t hd, float* out) {
  for (int64_t j = 0; j < count; ++j) {
    const int64_t base = offsets[j];
    float* o = out + j * hd;
    if (dt == DType::kF32) {
      std::memcpy(o, static_cast<const float*>(cache) + base, hd * sizeof(float));
    } else if (dt == DType::kF16) {
      const uint16_t* p = static_cast<const uint16_t*>(cache) + base;
#pragma omp simd
      for (int64_t d = 0; d < hd; ++d) o[d] = f16_to_f32_branchless(p[d]);
    } else if (dt == DType::kBF16) {
      const uint16_t* p = static_cast<const uint16_t*>(cache) + base;
#pragma omp simd
      for (int64_t d = 0; d < hd; ++d) o[d] = bf16_to_f32(p[d]);
    } else {  // Q8_0: a head's row is whole blocks (head_dim % 32 == 0)
      dequantize_row(dt, static_cast<const uint8_t*>(cache) + row_bytes(dt, base), o, hd);
    }
  }
}

// n values of src into the cache from element `base` on (for Q8_0 a multiple
// of 32: each head's row is quantized in blocks of its own).
void store_values(void* cache, DType dt, int64_t base, const float* src, int64_t n) {
  switch (dt) {
    case DType::kF32:
      std::memcpy(static_cast<float*>(cache) + base, src, n * sizeof(float));
      break;
    case DType::kF16: {
      uint16_t* p = static_cast<uint16_t*>(cache) + base;
      for (int64_t i = 0; i < n; ++i) p[i] = f32_to_f16(src[i]);
      break;
    }
    case DType::kQ8_0:
      quantize_row(dt, src, static_cast<uint8_t*>(cache) + row_bytes(dt, base), n);
      break;
    default: {
      uint16_t* p = static_cast<uint16_t*>(cache) + base;
      for (int64_t i = 0; i < n; ++i) p[i] = f32_to_bf16(src[i]);
      break;
    }
  }
}

using Tile = AttentionTile;

// Scratch of one thread, sized for a tile.
struct Workspace {
  std::vector<float> k, v, q, acc, m, l, s;
  std::vector<int64_t> offsets;  // of the chunk's cache rows
  void reserve(int64_t hd, int64_t vectors) {
    k.resize(kKeyChunk * hd);
    v.resize(kKeyChunk * hd);
    q.resize(vectors * hd);
    acc.resize(vectors * hd);
    m.resize(vectors);
    l.resize(vectors);
    s.resize(kKeyChunk);
    offsets.resize(kKeyChunk);
  }
};

EMBER_MULTIVERSION
void attend_tile(const AttentionParams& p, const Tile& t, Workspace& w) {
  const int64_t hd = p.head_dim, group = p.n_heads / p.n_kv_heads;
  const AttentionSeq& seq = *t.seq;
  const int64_t first_pos = seq.context_len - seq.q_len;  // position of query row 0
  const int64_t vectors = t.rows * group;                 // (row, head) pairs, row-major
  // Queries pre-scaled, so scores need no extra multiply.
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t g = 0; g < group; ++g) {
      const float* src = p.q + (seq.q_begin + t.row0 + r) * p.q_stride + (t.kvh * group + g) * hd;
      float* dst = w.q.data() + (r * group + g) * hd;
      for (int64_t d = 0; d < hd; ++d) dst[d] = src[d] * p.scale;
    }
  std::fill_n(w.acc.data(), vectors * hd, 0.0f);
  std::fill_n(w.m.data(), vectors, -INFINITY);
  std::fill_n(w.l.data(), vectors, 0.0f);

  const int64_t last_key = first_pos + t.row0 + t.rows - 1;  // the tile's last row sees keys [0, last_key]
  for (int64_t c0 = 0; c0 <= last_key; c0 += kKeyChunk) {
    const int64_t count = std::min(kKeyChunk, last_key + 1 - c0);
    for (int64_t j = 0; j < count; ++j) w.offsets[j] = kv_cache_offset(p, seq, c0 + j, t.kvh);
    load_rows(p.k_cache, p.kv_dtype, w.offsets.data(), count, hd, w.k.data());
    load_rows(p.v_cache, p.kv_dtype, w.offsets.data(), count, hd, w.v.data());
    for (int64_t i = 0; i < vectors; ++i) {
      const int64_t pos = first_pos + t.row0 + i / group;
      const int64_t visible = std::min(count, pos + 1 - c0);  // causal mask
      if (visible <= 0) continue;
      const float* q = w.q.data() + i * hd;
      float chunk_max = -INFINITY;
      for (int64_t j = 0; j < visible; ++j) {
        const float* k = w.k.data() + j * hd;
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int64_t d = 0; d < hd; ++d) dot += q[d] * k[d];
        w.s[j] = dot;
        chunk_max = std::max(chunk_max, dot);
      }
      const float m_new = std::max(w.m[i], chunk_max);
      const float correction = std::exp(w.m[i] - m_new);
      float* acc = w.acc.data() + i * hd;
      float sum = 0.0f;
      for (int64_t j = 0; j < visible; ++j) {
        w.s[j] = std::exp(w.s[j] - m_new);
        sum += w.s[j];
      }
#pragma omp simd
      for (int64_t d = 0; d < hd; ++d) acc[d] *= correction;
      for (int64_t j = 0; j < visible; ++j) {
        const float pj = w.s[j];
        const float* v = w.v.data() + j * hd;
#pragma omp simd
        for (int64_t d = 0; d < hd; ++d) acc[d] += pj * v[d];
      }
      w.l[i] = w.l[i] * correction + sum;
      w.m[i] = m_new;
    }
  }
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t g = 0; g < group; ++g) {
      const int64_t i = r * group + g;
      float* o = p.out + (seq.q_begin + t.row0 + r) * (p.n_heads * hd) + (t.kvh * group + g) * hd;
      const float inv = 1.0f / w.l[i];
      for (int64_t d = 0; d < hd; ++d) o[d] = w.acc[i * hd + d] * inv;
    }
}

}  // namespace

void kv_write(const float* k, const float* v, int64_t row_stride, int64_t n_tokens, int64_t n_kv_heads,
              int64_t head_dim, int64_t block_size, const int64_t* slots, DType kv_dtype, void* k_cache,
              void* v_cache) {
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t h = 0; h < n_kv_heads; ++h) {
      const int64_t base = kv_cache_offset(slots[t], h, n_kv_heads, head_dim, block_size);
      store_values(k_cache, kv_dtype, base, k + t * row_stride + h * head_dim, head_dim);
      store_values(v_cache, kv_dtype, base, v + t * row_stride + h * head_dim, head_dim);
    }
}

void attention(const AttentionParams& p, ThreadPool& pool) {
  const int64_t group = p.n_heads / p.n_kv_heads;
  std::vector<Tile> tiles;
  for (int64_t s = 0; s < p.n_seqs; ++s)
    for (int64_t r = 0; r < p.seqs[s].q_len; r += kQueryTile)
      for (int64_t h = 0; h < p.n_kv_heads; ++h)
        tiles.push_back({&p.seqs[s], r, std::min(kQueryTile, p.seqs[s].q_len - r), h});
  // Later tiles of a sequence see more keys; interleaving the order spreads
  // the work evenly over the threads' contiguous ranges.
  std::vector<Tile> order;
  order.reserve(tiles.size());
  for (size_t i = 0, j = tiles.size(); i < j;) {
    order.push_back(tiles[i++]);
    if (i < j) order.push_back(tiles[--j]);
  }
  if (active_isa() != Isa::kGeneric && avx2::attention_supported(p)) {
    pool.run([&](int thread, int threads) {
      avx2::AttentionTiles tiles_of_thread(p, kQueryTile);
      for (size_t i = thread; i < order.size(); i += threads)
        tiles_of_thread.run(order[i], i + threads < order.size() ? &order[i + threads] : nullptr);
    });
    return;
  }
  pool.run([&](int thread, int threads) {
    Workspace w;
    w.reserve(p.head_dim, kQueryTile * group);
    for (size_t i = thread; i < order.size(); i += threads) attend_tile(p, order[i], w);
  });
}

}  // namespace ember::kernels
