// AVX2 attention tiles and SwiGLU (attention_avx2.h). Scores: one query
// vector against 8 keys at a time, 8 accumulators over the head dimension,
// reduced by a horizontal-add tree into one vector of 8 scores; softmax with
// a vector exp; P·V: 4 accumulators of 8 dimensions per vector, the
// probabilities broadcast one key at a time.
#include "kernels/cpu/attention_avx2.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ember::kernels::avx2 {
namespace {

constexpr int64_t kKeyChunk = 32;  // keys converted to f32 together (K and V: 32 KiB at head_dim 128)

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

// The 8 lane sums of a[0..7], in order.
inline __m256 reduce8(const __m256 a[8]) {
  const __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);  // [sums of lanes 0-3 | 4-7], keys 0-3 / 4-7
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// hd values of a cache row as f32.
inline void load_row(const void* cache, DType dt, int64_t base, int64_t hd, float* out) {
  if (dt == DType::kF32) {
    std::memcpy(out, static_cast<const float*>(cache) + base, hd * sizeof(float));
  } else if (dt == DType::kF16) {
    const uint16_t* p = static_cast<const uint16_t*>(cache) + base;
    for (int64_t d = 0; d < hd; d += 8)
      _mm256_storeu_ps(out + d, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + d))));
  } else {  // bf16: the high half of an f32
    const uint16_t* p = static_cast<const uint16_t*>(cache) + base;
    for (int64_t d = 0; d < hd; d += 8) {
      const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + d)));
      _mm256_storeu_ps(out + d, _mm256_castsi256_ps(_mm256_slli_epi32(h, 16)));
    }
  }
}

// acc[0, hd) = acc * corr + sum_j<keys s[j] v[j]; D accumulators of 8 dims.
template <int D>
inline void accumulate_pv(float* acc, float corr, const float* s, const float* v, int64_t keys, int64_t hd) {
  const __m256 c = _mm256_set1_ps(corr);
  for (int64_t d = 0; d + 8 * D <= hd; d += 8 * D) {
    __m256 a[D];
    for (int i = 0; i < D; ++i) a[i] = _mm256_mul_ps(_mm256_loadu_ps(acc + d + 8 * i), c);
    for (int64_t j = 0; j < keys; ++j) {
      const __m256 pj = _mm256_broadcast_ss(s + j);
      const float* vj = v + j * hd + d;
      for (int i = 0; i < D; ++i) a[i] = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 8 * i), a[i]);
    }
    for (int i = 0; i < D; ++i) _mm256_storeu_ps(acc + d + 8 * i, a[i]);
  }
}

}  // namespace

bool attention_supported(const AttentionParams& p) { return p.head_dim % 8 == 0 && p.head_dim > 0; }

AttentionTiles::AttentionTiles(const AttentionParams& p, int64_t max_rows) : p_(p) {
  const int64_t hd = p.head_dim, vectors = max_rows * (p.n_heads / p.n_kv_heads);
  q_.resize(vectors * hd);
  acc_.resize(vectors * hd);
  m_.resize(vectors);
  l_.resize(vectors);
  k_.resize(kKeyChunk * hd);
  v_.resize(kKeyChunk * hd);
  s_.resize(kKeyChunk);
}

void AttentionTiles::run(const AttentionSeq& seq, int64_t row0, int64_t rows, int64_t kvh) {
  const AttentionParams& p = p_;
  const int64_t hd = p.head_dim, group = p.n_heads / p.n_kv_heads, kv_dim = p.n_kv_heads * hd;
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
  float* const kc = k_.data();
  float* const vc = v_.data();
  float* const s = s_.data();

  const int64_t last_key = first_pos + row0 + rows - 1;  // the tile's last row sees keys [0, last_key]
  for (int64_t c0 = 0; c0 <= last_key; c0 += kKeyChunk) {
    const int64_t count = std::min(kKeyChunk, last_key + 1 - c0), blocks = (count + 7) / 8;
    for (int64_t j = 0; j < count; ++j) {
      const int64_t pos = c0 + j;
      const int64_t slot = static_cast<int64_t>(seq.block_table[pos / p.block_size]) * p.block_size + pos % p.block_size;
      load_row(p.k_cache, p.kv_dtype, slot * kv_dim + kvh * hd, hd, kc + j * hd);
      load_row(p.v_cache, p.kv_dtype, slot * kv_dim + kvh * hd, hd, vc + j * hd);
    }
    std::fill(kc + count * hd, kc + blocks * 8 * hd, 0.0f);  // scored, then masked
    for (int64_t i = 0; i < vectors; ++i) {
      const int64_t pos = first_pos + row0 + i / group;
      const int64_t visible = std::min(count, pos + 1 - c0);  // causal mask
      if (visible <= 0) continue;
      const float* q = q_.data() + i * hd;
      __m256 vmax = _mm256_set1_ps(-INFINITY);
      for (int64_t b = 0; b < blocks; ++b) {
        __m256 a[8];
        for (int e = 0; e < 8; ++e) a[e] = _mm256_setzero_ps();
        const float* kb = kc + b * 8 * hd;
        for (int64_t d = 0; d < hd; d += 8) {
          const __m256 qd = _mm256_loadu_ps(q + d);
          for (int e = 0; e < 8; ++e) a[e] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(kb + e * hd + d), a[e]);
        }
        __m256 sc = reduce8(a);
        if (8 * b + 8 > visible) {  // keys past `visible` are masked
          const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(8 * b)),
                                               _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
          const __m256 hidden = _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(static_cast<int>(visible - 1))));
          sc = _mm256_blendv_ps(sc, _mm256_set1_ps(-INFINITY), hidden);
        }
        _mm256_storeu_ps(s + 8 * b, sc);
        vmax = _mm256_max_ps(vmax, sc);
      }
      const float m_new = std::max(m_[i], hmax(vmax));
      const float corr = std::exp(m_[i] - m_new);  // 0 for the first chunk (m = -inf)
      const __m256 mv = _mm256_set1_ps(m_new);
      __m256 vsum = _mm256_setzero_ps();
      for (int64_t b = 0; b < blocks; ++b) {
        const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(s + 8 * b), mv));
        _mm256_storeu_ps(s + 8 * b, e);
        vsum = _mm256_add_ps(vsum, e);
      }
      float* acc = acc_.data() + i * hd;
      if (hd % 32 == 0) accumulate_pv<4>(acc, corr, s, vc, visible, hd);
      else accumulate_pv<1>(acc, corr, s, vc, visible, hd);
      l_[i] = l_[i] * corr + hsum(vsum);
      m_[i] = m_new;
    }
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
