// Q6_K weights (GGUF layout, used in place) with Q8_K activations on
// AVX-512 VNNI. Per half super-block a 512-bit register holds 64 6-bit
// codes: the 64 ql bytes give the low nibbles, the 32 qh bytes (in both
// 256-bit halves, shifted by a per-half amount) the two high bits. Codes are
// value + 32, so vpdpbusd multiplies them as unsigned bytes and the offset
// is removed through the activation block sums.
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "kernels/cpu/matmul_repacked.h"
#include "tensor/quant.h"

namespace ember::kernels::avx512 {
namespace {

constexpr int kTokens = 4;
constexpr int64_t kTokenChunk = 64;

template <int T>
void tile(const uint8_t* w, size_t ws, const BlockQ8_K* x, int64_t xs, int64_t nb, float out[][4]) {
  __m512 acc[4][T];
  for (int r = 0; r < 4; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  const __m512i m4 = _mm512_set1_epi8(0x0f), m2 = _mm512_set1_epi8(0x03);
  const __m512i shift_lo = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);  // q1 | q2
  const __m512i shift_hi = _mm512_setr_epi64(4, 4, 4, 4, 6, 6, 6, 6);  // q3 | q4
  for (int64_t b = 0; b < nb; ++b) {
    for (int r = 0; r < 4; ++r) {
      const BlockQ6_K& blk = reinterpret_cast<const BlockQ6_K*>(w + r * ws)[b];
      const __m512i sc32 = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)));
      const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)));
      const float d = _cvtsh_ss(blk.d);
      __m512i q[4], s[4];
      for (int h = 0; h < 2; ++h) {
        const __m512i l = _mm512_loadu_si512(blk.ql + 64 * h);
        const __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h)));
        const __m512i h_lo = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(hb, shift_lo), m2), 4);
        const __m512i h_hi = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(hb, shift_hi), m2), 4);
        q[2 * h] = _mm512_or_si512(_mm512_and_si512(l, m4), h_lo);                               // values 128h + 0..63
        q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), h_hi);  // values 128h + 64..127
      }
      for (int k = 0; k < 4; ++k) {  // 64 values = 4 groups of 16 = lanes (4 each)
        const int g = 4 * k;
        s[k] = _mm512_permutexvar_epi32(
            _mm512_setr_epi32(g, g, g, g, g + 1, g + 1, g + 1, g + 1, g + 2, g + 2, g + 2, g + 2, g + 3, g + 3, g + 3,
                              g + 3),
            sc32);
      }
      for (int t = 0; t < T; ++t) {
        const BlockQ8_K& a = x[t * xs + b];
        __m512i iacc = _mm512_setzero_si512();
        for (int k = 0; k < 4; ++k) {
          const __m512i xv = _mm512_loadu_si512(a.qs + 64 * k);
          iacc = _mm512_add_epi32(iacc, _mm512_mullo_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), q[k], xv), s[k]));
        }
        // codes are value + 32: subtract 32 Σ_g scale_g · bsum_g
        const __m256i corr = _mm256_slli_epi32(
            _mm256_madd_epi16(sc16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums))), 5);
        iacc = _mm512_sub_epi32(iacc, _mm512_zextsi256_si512(corr));
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc), _mm512_set1_ps(d * a.d), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < 4; ++r)
    for (int t = 0; t < T; ++t) out[t][r] = _mm512_reduce_add_ps(acc[r][t]);
}

}  // namespace

void matmul_q6_k(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool) {
  const int64_t K = w.cols, M = w.rows, nb = K / 256, groups = M / 4;
  const size_t ws = row_bytes(DType::kQ6_K, K);
  static thread_local std::vector<BlockQ8_K> act_buffer;  // workers get the pointer below
  if (act_buffer.size() < static_cast<size_t>(n * nb)) act_buffer.resize(static_cast<size_t>(n * nb));
  BlockQ8_K* const act = act_buffer.data();
  pool.parallel_for(n, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) quantize_row(DType::kQ8_K, x + t * K, act + t * nb, K);
  });
  const uint8_t* base = static_cast<const uint8_t*>(w.data);
  pool.parallel_for(groups, 4, [&](int64_t g0, int64_t g1) {
    float out[kTokens][4];
    for (int64_t c0 = 0; c0 < n; c0 += kTokenChunk) {
      const int64_t c1 = std::min(n, c0 + kTokenChunk);
      for (int64_t g = g0; g < g1; ++g) {
        const uint8_t* rows = base + g * 4 * ws;
        for (int64_t t = c0; t < c1; t += kTokens) {
          const int toks = static_cast<int>(std::min<int64_t>(kTokens, c1 - t));
          const BlockQ8_K* xa = act + t * nb;
          switch (toks) {
            case 1: tile<1>(rows, ws, xa, nb, nb, out); break;
            case 2: tile<2>(rows, ws, xa, nb, nb, out); break;
            case 3: tile<3>(rows, ws, xa, nb, nb, out); break;
            default: tile<4>(rows, ws, xa, nb, nb, out); break;
          }
          for (int i = 0; i < toks; ++i)
            for (int r = 0; r < 4; ++r) {
              const int64_t row = g * 4 + r;
              y[(t + i) * M + row] = out[i][r] + (bias ? bias[row] : 0.0f);
            }
        }
      }
    }
  });
}

}  // namespace ember::kernels::avx512
