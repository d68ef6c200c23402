// AVX2 attention tiles and SwiGLU (attention_avx2.h).
//
// For one query row, the query heads that share a KV head (up to 6 at once)
// are scored and accumulated together, straight from the cache's 16-bit (f32 or
// Q8_0) rows: each K or V vector is converted once into a register and used
// by every head of the group, so nothing is converted into a buffer and read
// back.
//  - Scores: two keys at a time, one accumulator of 8 dimensions per (head,
//    key), reduced by a horizontal-add tree into one vector of 8 scores.
//  - Softmax over a chunk of keys with a vector exp; online max and sum.
//  - P·V: 16 dimensions at a time, 2 accumulators per head, the
//    probabilities broadcast one key at a time.
// Each (row, head) value is computed in an order fixed by its own position
// and the keys' positions, so it does not depend on the batch, the tile or
// the other heads of its group.
#include "kernels/cpu/attention_avx2.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

namespace ember::kernels::avx2 {
namespace {

constexpr int64_t kKeyChunk = 64;  // keys scored before their softmax and P·V
constexpr int kMaxHeads = 6;       // heads of a group processed together (register budget)

// e^x for 8 lanes, relative error ~2e-7 (Cephes' expf polynomial on
// x - n ln 2, |.| <= ln 2 / 2). Lanes below -87.3 (including -inf) give 0,
// lanes above 88.37 +inf.
inline __m256 exp256(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.3365448f), hi = _mm256_set1_ps(88.3762626647949f);
  const __m256 zero_mask = _mm256_cmp_ps(x, lo, _CMP_LT_OQ), inf_mask = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const __m256 r2n = _mm256_andnot_ps(zero_mask, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
  return _mm256_blendv_ps(r2n, _mm256_set1_ps(INFINITY), inf_mask);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Values per scale of a cache row: Q8_0 rows are blocks of 32 int8 codes
// after an f16 scale; the other types need none (one step of 8).
template <DType DT>
constexpr int64_t kScaleBlock = DT == DType::kQ8_0 ? 32 : 8;

// The scale of the block holding value d of a Q8_0 row, in every lane
// (unused for the other types).
template <DType DT>
inline __m256 row_scale(const void* row, int64_t d) {
  if constexpr (DT == DType::kQ8_0) {
    uint16_t h;
    __builtin_memcpy(&h, static_cast<const uint8_t*>(row) + d / 32 * 34, 2);
    return _mm256_set1_ps(_cvtsh_ss(h));
  } else {
    return _mm256_setzero_ps();
  }
}

// 8 cache values as f32: the cache's element type decides the conversion
// (Q8_0: codes times `scale`, row_scale of the same block).
template <DType DT>
inline __m256 load8(const void* row, int64_t d, __m256 scale) {
  if constexpr (DT == DType::kF32) {
    return _mm256_loadu_ps(static_cast<const float*>(row) + d);
  } else if constexpr (DT == DType::kQ8_0) {
    const uint8_t* q = static_cast<const uint8_t*>(row) + d / 32 * 34 + 2 + d % 32;
    const __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q))));
    return _mm256_mul_ps(v, scale);
  } else {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + d));
    if constexpr (DT == DType::kF16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));  // bf16: an f32's high half
  }
}

// One query row against one chunk of keys, for H heads of a KV group.
struct ChunkArgs {
  const float* q;    // H scaled query vectors, hd apart
  float* acc;        // H accumulators, hd apart
  float* m;          // H running maxima
  float* l;          // H running sums
  float* s;          // H x kKeyChunk scores, then probabilities
  __m256* pairs;     // H x 4 partly reduced score pairs
  const void* const* k;  // the chunk's key rows (kKeyChunk, padded with valid rows)
  const void* const* v;
  int64_t visible;   // keys of the chunk this row sees
  int64_t hd;
  // The next chunk's rows to prefetch while this one is computed (rows that
  // are scattered over the pool, from DRAM in a long context), or none.
  const void* const* next_k;
  const void* const* next_v;
  int64_t next_count;
};

inline void prefetch_row(const void* row, int64_t bytes) {
  for (int64_t o = 0; o < bytes; o += 64) _mm_prefetch(static_cast<const char*>(row) + o, _MM_HINT_T0);
}

template <DType DT, int H>
void attend_chunk(const ChunkArgs& c) {
  const int64_t hd = c.hd, visible = c.visible, blocks = (visible + 7) / 8;
  const int64_t rb = static_cast<int64_t>(row_bytes(DT, hd));
  __m256 vmax[H];
  for (int h = 0; h < H; ++h) vmax[h] = _mm256_set1_ps(-INFINITY);
  for (int64_t b = 0; b < blocks; ++b) {
    for (int pr = 0; pr < 4; ++pr) {  // keys 8b + 2pr, 8b + 2pr + 1
      const void* k0 = c.k[8 * b + 2 * pr];
      const void* k1 = c.k[8 * b + 2 * pr + 1];
      for (int64_t j = 8 * b + 2 * pr; j < std::min<int64_t>(8 * b + 2 * pr + 2, c.next_count); ++j) {
        prefetch_row(c.next_k[j], rb);
        prefetch_row(c.next_v[j], rb);
      }
      __m256 a0[H], a1[H];
      for (int h = 0; h < H; ++h) a0[h] = a1[h] = _mm256_setzero_ps();
      for (int64_t d0 = 0; d0 < hd; d0 += kScaleBlock<DT>) {
        const __m256 s0 = row_scale<DT>(k0, d0), s1 = row_scale<DT>(k1, d0);
        for (int64_t d = d0; d < d0 + kScaleBlock<DT>; d += 8) {
          const __m256 x0 = load8<DT>(k0, d, s0), x1 = load8<DT>(k1, d, s1);
          for (int h = 0; h < H; ++h) {
            __m256 qd = _mm256_loadu_ps(c.q + h * hd + d);
            __asm__("" : "+x"(qd));  // one load for both keys (GCC would fold it into each FMA)
            a0[h] = _mm256_fmadd_ps(qd, x0, a0[h]);
            a1[h] = _mm256_fmadd_ps(qd, x1, a1[h]);
          }
        }
      }
      for (int h = 0; h < H; ++h) c.pairs[h * 4 + pr] = _mm256_hadd_ps(a0[h], a1[h]);
    }
    const bool partial = 8 * b + 8 > visible;
    __m256 hidden = _mm256_setzero_ps();
    if (partial) {  // keys past `visible` are masked
      const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(8 * b)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
      hidden = _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(static_cast<int>(visible - 1))));
    }
    for (int h = 0; h < H; ++h) {
      const __m256* t = c.pairs + h * 4;
      const __m256 u0 = _mm256_hadd_ps(t[0], t[1]), u1 = _mm256_hadd_ps(t[2], t[3]);  // keys 0-3 | 4-7 halves
      __m256 sc = _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
      if (partial) sc = _mm256_blendv_ps(sc, _mm256_set1_ps(-INFINITY), hidden);
      _mm256_storeu_ps(c.s + h * kKeyChunk + 8 * b, sc);
      vmax[h] = _mm256_max_ps(vmax[h], sc);
    }
  }
  float corr[H];
  for (int h = 0; h < H; ++h) {
    const float m_new = std::max(c.m[h], hmax(vmax[h]));
    corr[h] = std::exp(c.m[h] - m_new);  // 0 for the first chunk (m = -inf)
    const __m256 mv = _mm256_set1_ps(m_new);
    __m256 vsum = _mm256_setzero_ps();
    float* s = c.s + h * kKeyChunk;
    for (int64_t b = 0; b < blocks; ++b) {
      const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(s + 8 * b), mv));
      _mm256_storeu_ps(s + 8 * b, e);
      vsum = _mm256_add_ps(vsum, e);
    }
    c.l[h] = c.l[h] * corr[h] + hsum(vsum);
    c.m[h] = m_new;
  }
  // Q8_0: the V rows' block scales as f32, each read by two 16-dimension steps
  constexpr int64_t kMaxScaleBlocks = 16;  // head_dim <= 512 (attention_supported)
  alignas(32) float vscale[DT == DType::kQ8_0 ? kKeyChunk * kMaxScaleBlocks : 1];
  const int64_t nsb = hd / 32;
  if constexpr (DT == DType::kQ8_0)
    for (int64_t j = 0; j < visible; ++j)
      for (int64_t b = 0; b < nsb; ++b) {
        uint16_t h;
        __builtin_memcpy(&h, static_cast<const uint8_t*>(c.v[j]) + 34 * b, 2);
        vscale[j * nsb + b] = _cvtsh_ss(h);
      }
  // P·V over 16 dimensions at a time (a last 8 when hd is not a multiple of 16)
  for (int64_t d = 0; d < hd; d += 16) {
    const bool two = d + 16 <= hd;
    __m256 a0[H], a1[H];
    for (int h = 0; h < H; ++h) {
      const __m256 ch = _mm256_set1_ps(corr[h]);
      a0[h] = _mm256_mul_ps(_mm256_loadu_ps(c.acc + h * hd + d), ch);
      a1[h] = two ? _mm256_mul_ps(_mm256_loadu_ps(c.acc + h * hd + d + 8), ch) : _mm256_setzero_ps();
    }
    if (two) {
      for (int64_t j = 0; j < visible; ++j) {
        // d and d + 8 are in one block
        const __m256 sv = DT == DType::kQ8_0 ? _mm256_broadcast_ss(vscale + j * nsb + d / 32) : _mm256_setzero_ps();
        const __m256 x0 = load8<DT>(c.v[j], d, sv), x1 = load8<DT>(c.v[j], d + 8, sv);
        for (int h = 0; h < H; ++h) {
          const __m256 pj = _mm256_broadcast_ss(c.s + h * kKeyChunk + j);
          a0[h] = _mm256_fmadd_ps(pj, x0, a0[h]);
          a1[h] = _mm256_fmadd_ps(pj, x1, a1[h]);
        }
      }
    } else {
      for (int64_t j = 0; j < visible; ++j) {
        const __m256 x0 = load8<DT>(c.v[j], d, row_scale<DT>(c.v[j], d));
        for (int h = 0; h < H; ++h) a0[h] = _mm256_fmadd_ps(_mm256_broadcast_ss(c.s + h * kKeyChunk + j), x0, a0[h]);
      }
    }
    for (int h = 0; h < H; ++h) {
      _mm256_storeu_ps(c.acc + h * hd + d, a0[h]);
      if (two) _mm256_storeu_ps(c.acc + h * hd + d + 8, a1[h]);
    }
  }
}

template <DType DT>
void attend_chunk_heads(const ChunkArgs& c, int heads) {
  switch (heads) {
    case 1: return attend_chunk<DT, 1>(c);
    case 2: return attend_chunk<DT, 2>(c);
    case 3: return attend_chunk<DT, 3>(c);
    case 4: return attend_chunk<DT, 4>(c);
    case 5: return attend_chunk<DT, 5>(c);
    default: return attend_chunk<DT, 6>(c);
  }
}

void attend_chunk_any(DType dt, const ChunkArgs& c, int heads) {
  if (dt == DType::kF16) return attend_chunk_heads<DType::kF16>(c, heads);
  if (dt == DType::kBF16) return attend_chunk_heads<DType::kBF16>(c, heads);
  if (dt == DType::kQ8_0) return attend_chunk_heads<DType::kQ8_0>(c, heads);
  return attend_chunk_heads<DType::kF32>(c, heads);
}

}  // namespace

bool attention_supported(const AttentionParams& p) {
  if (p.kv_dtype == DType::kQ8_0) return p.head_dim > 0 && p.head_dim % 32 == 0 && p.head_dim <= 512;
  return p.head_dim > 0 && p.head_dim % 8 == 0;
}

AttentionTiles::AttentionTiles(const AttentionParams& p, int64_t max_rows) : p_(p) {
  const int64_t hd = p.head_dim, vectors = max_rows * (p.n_heads / p.n_kv_heads);
  q_.resize(vectors * hd);
  acc_.resize(vectors * hd);
  m_.resize(vectors);
  l_.resize(vectors);
  s_.resize(kMaxHeads * kKeyChunk);
  rows_k_.resize(2 * kKeyChunk);
  rows_v_.resize(2 * kKeyChunk);
}

void AttentionTiles::run(const Tile& tile, const Tile* next) {
  const AttentionParams& p = p_;
  const AttentionSeq& seq = *tile.seq;
  const int64_t row0 = tile.row0, rows = tile.rows, kvh = tile.kvh;
  const int64_t hd = p.head_dim, group = p.n_heads / p.n_kv_heads;
  const int64_t first_pos = seq.context_len - seq.q_len;  // position of query row 0
  const int64_t vectors = rows * group;                   // (row, head) pairs, row-major
  for (int64_t r = 0; r < rows; ++r)  // queries pre-scaled, so scores need no extra multiply
    for (int64_t g = 0; g < group; ++g) {
      const float* src = p.q + (seq.q_begin + row0 + r) * p.q_stride + (kvh * group + g) * hd;
      float* dst = q_.data() + (r * group + g) * hd;
      for (int64_t d = 0; d < hd; ++d) dst[d] = src[d] * p.scale;
    }
  std::fill_n(acc_.data(), vectors * hd, 0.0f);
  std::fill_n(m_.data(), vectors, -INFINITY);
  std::fill_n(l_.data(), vectors, 0.0f);
  const auto* kbase = static_cast<const uint8_t*>(p.k_cache);
  const auto* vbase = static_cast<const uint8_t*>(p.v_cache);
  alignas(32) __m256 pairs[kMaxHeads * 4];

  // the tile's last row sees keys [0, last_key]
  auto last_key_of = [](const Tile& t) { return t.seq->context_len - t.seq->q_len + t.row0 + t.rows - 1; };
  const int64_t last_key = last_key_of(tile);
  // the cache rows of tile t's chunk c0 into half `half` of rows_k_ / rows_v_; their count
  auto chunk_rows = [&](const Tile& t, int64_t c0, int half) {
    const int64_t count = std::max<int64_t>(0, std::min(kKeyChunk, last_key_of(t) + 1 - c0));
    const void** rk = rows_k_.data() + half * kKeyChunk;
    const void** rv = rows_v_.data() + half * kKeyChunk;
    for (int64_t j = 0; j < count; ++j) {
      const size_t off = row_bytes(p.kv_dtype, kv_cache_offset(p, *t.seq, c0 + j, t.kvh));
      rk[j] = kbase + off;
      rv[j] = vbase + off;
    }
    // keys scored in groups of 8: the padding repeats a real row, then is masked
    for (int64_t j = count; j < std::min(kKeyChunk, (count + 7) / 8 * 8); ++j) rk[j] = rk[0];
    return count;
  };
  int64_t count = chunk_rows(tile, 0, 0);
  for (int64_t c0 = 0, half = 0; c0 <= last_key; c0 += kKeyChunk, half ^= 1) {
    int64_t next_count = chunk_rows(tile, c0 + kKeyChunk, half ^ 1);
    // the last chunk: prefetch the next tile's first (the loop ends here, so
    // the other half is free to hold its rows)
    if (next_count == 0 && next) next_count = chunk_rows(*next, 0, half ^ 1);
    bool prefetch = true;  // by the chunk's first call
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t pos = first_pos + row0 + r;
      const int64_t visible = std::min(count, pos + 1 - c0);  // causal mask
      if (visible <= 0) continue;
      for (int64_t g0 = 0; g0 < group; g0 += kMaxHeads) {
        const int heads = static_cast<int>(std::min<int64_t>(kMaxHeads, group - g0));
        const int64_t i = r * group + g0;
        const ChunkArgs c{q_.data() + i * hd, acc_.data() + i * hd, m_.data() + i, l_.data() + i, s_.data(),
                          pairs, rows_k_.data() + half * kKeyChunk, rows_v_.data() + half * kKeyChunk, visible, hd,
                          rows_k_.data() + (half ^ 1) * kKeyChunk, rows_v_.data() + (half ^ 1) * kKeyChunk,
                          prefetch ? next_count : 0};
        attend_chunk_any(p.kv_dtype, c, heads);
        prefetch = false;
      }
    }
    count = next_count;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < group; ++g) {
      const int64_t i = r * group + g;
      float* o = p.out + (seq.q_begin + row0 + r) * (p.n_heads * hd) + (kvh * group + g) * hd;
      const __m256 inv = _mm256_set1_ps(1.0f / l_[i]);
      for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(o + d, _mm256_mul_ps(_mm256_loadu_ps(acc_.data() + i * hd + d), inv));
    }
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp256(_mm256_xor_ps(g, sign));  // e^-g
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace ember::kernels::avx2
