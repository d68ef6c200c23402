// Q4_K and Q6_K tiles on the 8-row interleaved layouts (matmul_x8_avx2.h),
// AVX2 without VNNI: codes are unsigned, so maddubs(code, activation) is
// exact, and several of its 16-bit results are summed before one madd with
// the sub-block scale (no mullo, no madd with ones):
//  - Q4_K: 8 maddubs per sub-block of 32, each <= 15 * 127 * 2, sum < 2^15;
//  - Q6_K: 2 maddubs per pair, each <= 63 * 127 * 2, sum < 2^15.
// Q4_K mins and the Q6_K code offset of 32 are applied through activation
// sums, 8 rows per madd.
#include <immintrin.h>

#include "kernels/cpu/matmul_x8_avx2.h"

namespace ember::kernels::avx2 {

namespace {
inline __m256 load_f16x8(const uint8_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline __m256i load(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
}  // namespace

template <int T>
void tile_q4_kx8(const uint8_t* group, const ActQ8K* x, int64_t xs, int64_t nb, NextGroup next, float out[][16]) {
  __m256 facc[T];
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) facc[t] = _mm256_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  // 8 row scales (bytes 0..7) -> int16 pairs [s_r, s_r] per 32-bit lane r
  const __m256i dup = _mm256_setr_epi8(0, -1, 0, -1, 1, -1, 1, -1, 2, -1, 2, -1, 3, -1, 3, -1,
                                       4, -1, 4, -1, 5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7, -1);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = group + b * kQ4_Kx8Bytes;
    if constexpr (T > 1) prefetch_next<kQ4_Kx8Bytes>(next, b);
    _mm_prefetch(reinterpret_cast<const char*>(p + 2 * kQ4_Kx8Bytes), _MM_HINT_T0);
    __m256i iacc[T];
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) iacc[t] = _mm256_setzero_si256();
    #pragma GCC unroll 16
    for (int j = 0; j < 8; ++j) {
      int64_t sv;
      __builtin_memcpy(&sv, p + 32 + 8 * j, 8);
      const __m256i sc = _mm256_shuffle_epi8(_mm256_set1_epi64x(sv), dup);
      const uint8_t* q = p + 160 + 128 * j;
      __m256i sum[T];
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t) sum[t] = _mm256_setzero_si256();
      #pragma GCC unroll 16
      for (int h = 0; h < 2; ++h) {
        const __m256i q0 = load(q + 64 * h), q1 = load(q + 64 * h + 32);
        const __m256i w0 = _mm256_and_si256(q0, m4), w1 = _mm256_and_si256(_mm256_srli_epi16(q0, 4), m4);
        const __m256i w2 = _mm256_and_si256(q1, m4), w3 = _mm256_and_si256(_mm256_srli_epi16(q1, 4), m4);
        #pragma GCC unroll 16
        for (int t = 0; t < T; ++t) {
          const int8_t* xq = x[t * xs + b].qs + 32 * j + 8 * h;
          const __m256i a = _mm256_add_epi16(_mm256_maddubs_epi16(w0, bcast32(xq)),
                                             _mm256_maddubs_epi16(w1, bcast32(xq + 16)));
          const __m256i c = _mm256_add_epi16(_mm256_maddubs_epi16(w2, bcast32(xq + 4)),
                                             _mm256_maddubs_epi16(w3, bcast32(xq + 20)));
          sum[t] = _mm256_add_epi16(sum[t], _mm256_add_epi16(a, c));
          keep(sum[t]);
        }
      }
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        iacc[t] = _mm256_add_epi32(iacc[t], _mm256_madd_epi16(sum[t], sc));
        keep(iacc[t]);
      }
    }
    const __m256 d = load_f16x8(p), dmin = load_f16x8(p + 16);
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const ActQ8K& a = x[t * xs + b];
      __m256i msum = _mm256_setzero_si256();
      #pragma GCC unroll 16
      for (int k = 0; k < 4; ++k) {
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 96 + 16 * k)));
        msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins, bcast32(a.sums + 2 * k)));
      }
      const __m256 ad = _mm256_set1_ps(a.d);
      facc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iacc[t]), _mm256_mul_ps(d, ad), facc[t]);
      facc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmin, ad), facc[t]);
    }
  }
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(out[t], facc[t]);
}

namespace {
// The 4 code vectors of Q6_K unit u (96 bytes at q): bits 0-5 of X, Y, Z and
// the fourth value's code gathered from their bits 6-7.
struct Q6Codes {
  __m256i w0, w1, w2, w3;
};
inline Q6Codes unpack_unit(const uint8_t* q) {
  const __m256i m63 = _mm256_set1_epi8(0x3f), m03 = _mm256_set1_epi8(0x03), m0c = _mm256_set1_epi8(0x0c),
                m30 = _mm256_set1_epi8(0x30);
  const __m256i X = load(q), Y = load(q + 32), Z = load(q + 64);
  return {_mm256_and_si256(X, m63), _mm256_and_si256(Y, m63), _mm256_and_si256(Z, m63),
          _mm256_or_si256(
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(X, 6), m03), _mm256_and_si256(_mm256_srli_epi16(Y, 4), m0c)),
              _mm256_and_si256(_mm256_srli_epi16(Z, 2), m30))};
}

// Where a Q6_K tile's codes come from: unpacked from the packed group here
// (kPacked), the same and also stored to `store` for the group's later tiles
// (kPackedStore), or read back from `codes` (kCodes).
enum class Q6Source { kPacked, kPackedStore, kCodes };

template <int T, Q6Source Src>
void q6_k_tile(const uint8_t* group, const uint8_t* codes, uint8_t* store, const ActQ8K* x, int64_t xs, int64_t nb,
               NextGroup next, float out[][16]) {
  constexpr bool Codes = Src == Q6Source::kCodes;
  __m256 facc[T];
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) facc[t] = _mm256_setzero_ps();
  // int16 pairs [s_2p, s_2p+1] per row -> [s_2p, s_2p] and [s_2p+1, s_2p+1]
  const __m256i dup_lo = _mm256_setr_epi8(0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13,
                                          0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13);
  const __m256i dup_hi = _mm256_setr_epi8(2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15,
                                          2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = group + b * kQ6_Kx8Bytes;
    if constexpr (T > 1) prefetch_next<kQ6_Kx8Bytes>(next, b);
    if constexpr (!Codes) {  // the first and the middle line of the block 2 ahead
      _mm_prefetch(reinterpret_cast<const char*>(p + 2 * kQ6_Kx8Bytes), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(p + 2 * kQ6_Kx8Bytes + 832), _MM_HINT_T0);
    }
    __m256i iacc[T];
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) iacc[t] = _mm256_setzero_si256();
    #pragma GCC unroll 16
    for (int pp = 0; pp < 8; ++pp) {
      const __m256i scp = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 + 16 * pp)));
      const __m256i scp32 = _mm256_slli_epi16(scp, 5);  // 32 s: |.| <= 4096
      #pragma GCC unroll 16
      for (int uu = 0; uu < 2; ++uu) {
        const __m256i sc = _mm256_shuffle_epi8(scp, uu ? dup_hi : dup_lo);
        const int u = 2 * pp + uu;
        Q6Codes w;
        if constexpr (Codes) {
          const uint8_t* c = codes + b * kQ6_KCodesBytes + 128 * u;
          w = {load(c), load(c + 32), load(c + 64), load(c + 96)};
        } else {
          w = unpack_unit(p + 144 + 96 * u);
          if constexpr (Src == Q6Source::kPackedStore) {
            uint8_t* c = store + b * kQ6_KCodesBytes + 128 * u;
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(c), w.w0);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + 32), w.w1);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + 64), w.w2);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + 96), w.w3);
          }
        }
        #pragma GCC unroll 16
        for (int t = 0; t < T; ++t) {
          const int8_t* xq = x[t * xs + b].qs + 16 * u;
          const __m256i s01 = _mm256_add_epi16(_mm256_maddubs_epi16(w.w0, bcast32(xq)),
                                               _mm256_maddubs_epi16(w.w1, bcast32(xq + 4)));
          const __m256i s23 = _mm256_add_epi16(_mm256_maddubs_epi16(w.w2, bcast32(xq + 8)),
                                               _mm256_maddubs_epi16(w.w3, bcast32(xq + 12)));
          iacc[t] = _mm256_add_epi32(iacc[t], _mm256_add_epi32(_mm256_madd_epi16(s01, sc), _mm256_madd_epi16(s23, sc)));
          keep(iacc[t]);
        }
      }
      // codes are value + 32: subtract 32 (s_2p bsum_2p + s_2p+1 bsum_2p+1)
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        iacc[t] = _mm256_sub_epi32(iacc[t], _mm256_madd_epi16(scp32, bcast32(x[t * xs + b].bsums + 2 * pp)));
        keep(iacc[t]);
      }
    }
    const __m256 d = load_f16x8(p);
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t)
      facc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iacc[t]), _mm256_mul_ps(d, _mm256_set1_ps(x[t * xs + b].d)), facc[t]);
  }
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(out[t], facc[t]);
}
}  // namespace

template <int T>
void tile_q6_kx8(const uint8_t* group, const ActQ8K* x, int64_t xs, int64_t nb, NextGroup next, float out[][16]) {
  q6_k_tile<T, Q6Source::kPacked>(group, nullptr, nullptr, x, xs, nb, next, out);
}

template <int T>
void tile_q6_kx8_unpacking(const uint8_t* group, uint8_t* codes, const ActQ8K* x, int64_t xs, int64_t nb,
                           NextGroup next, float out[][16]) {
  q6_k_tile<T, Q6Source::kPackedStore>(group, nullptr, codes, x, xs, nb, next, out);
}

template <int T>
void tile_q6_kx8_codes(const uint8_t* group, const uint8_t* codes, const ActQ8K* x, int64_t xs, int64_t nb,
                       NextGroup next, float out[][16]) {
  q6_k_tile<T, Q6Source::kCodes>(group, codes, nullptr, x, xs, nb, next, out);
}

#define EMBER_INSTANTIATE(T)                                                                      \
  template void tile_q4_kx8<T>(const uint8_t*, const ActQ8K*, int64_t, int64_t, NextGroup, float[][16]); \
  template void tile_q6_kx8<T>(const uint8_t*, const ActQ8K*, int64_t, int64_t, NextGroup, float[][16]); \
  template void tile_q6_kx8_unpacking<T>(const uint8_t*, uint8_t*, const ActQ8K*, int64_t, int64_t, NextGroup, float[][16]); \
  template void tile_q6_kx8_codes<T>(const uint8_t*, const uint8_t*, const ActQ8K*, int64_t, int64_t, NextGroup, float[][16]);
EMBER_INSTANTIATE(1)
EMBER_INSTANTIATE(2)
EMBER_INSTANTIATE(3)
EMBER_INSTANTIATE(4)
#undef EMBER_INSTANTIATE

}  // namespace ember::kernels::avx2
