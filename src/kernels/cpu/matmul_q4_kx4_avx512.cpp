// Q4_K weights repacked for AVX-512 VNNI. Rows in groups of 4; per
// super-block of 256 values a group holds
//   d[4], dmin[4] (f16) | scales[4][8], mins[4][8] (u8, unpacked from 6 bits)
//   | qs[4][128] (the nibbles as GGUF stores them)
// = 592 bytes for 4 x 256 weights (GGUF: 576), streamed front to back.
// A 512-bit register holds one row's 32 code bytes twice; shifting the upper
// half by 4 gives the low nibbles (sub-block 2c) beside the high ones
// (sub-block 2c+1), matching 64 contiguous Q8_K activations.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/cpu/matmul_repacked.h"
#include "tensor/quant.h"

namespace ember::kernels::avx512 {
namespace {

constexpr size_t kHeader = 8 + 8 + 32 + 32;
constexpr size_t kGroupBytes = kHeader + 4 * 128;
constexpr int kTokens = 4;
constexpr int64_t kTokenChunk = 64;

inline float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

template <int T>
void tile(const uint8_t* group, const BlockQ8_K* x, int64_t xs, int64_t nb, float out[][4]) {
  __m512 acc[4][T];
  for (int r = 0; r < 4; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  const __m512i nib = _mm512_set1_epi8(0x0f);
  const __m512i shift = _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = group + b * kGroupBytes;
    _mm_prefetch(reinterpret_cast<const char*>(p) + 2 * kGroupBytes, _MM_HINT_T0);
    const __m128 d = _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    const __m128 dmin = _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8)));
    alignas(16) float dv[4], dminv[4];
    _mm_store_ps(dv, d);
    _mm_store_ps(dminv, dmin);
    for (int r = 0; r < 4; ++r) {
      const uint8_t* sc = p + 16 + 8 * r;
      const uint8_t* mn = p + 48 + 8 * r;
      const uint8_t* qs = p + kHeader + 128 * r;
      // scales as int32 lanes: [sc0..sc7] -> per chunk c: [sc_2c x8, sc_2c+1 x8]
      const __m512i sc32 = _mm512_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc)));
      const __m128i m8 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn)));
      // mins paired with the two 16-value bsums of their sub-block
      const __m256i mins16 = _mm256_set_m128i(_mm_unpackhi_epi16(m8, m8), _mm_unpacklo_epi16(m8, m8));
      __m512i w[4], s[4];
      for (int c = 0; c < 4; ++c) {
        const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c)));
        w[c] = _mm512_and_si512(_mm512_srlv_epi64(q, shift), nib);
        s[c] = _mm512_permutexvar_epi32(
            _mm512_setr_epi32(2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c + 1, 2 * c + 1, 2 * c + 1,
                              2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1),
            sc32);
      }
      for (int t = 0; t < T; ++t) {
        const BlockQ8_K& a = x[t * xs + b];
        __m512i iacc = _mm512_setzero_si512();
        for (int c = 0; c < 4; ++c) {
          const __m512i xv = _mm512_loadu_si512(a.qs + 64 * c);
          iacc = _mm512_add_epi32(iacc, _mm512_mullo_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), w[c], xv), s[c]));
        }
        const __m256i msum = _mm256_madd_epi16(mins16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums)));
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc), _mm512_set1_ps(dv[r] * a.d), acc[r][t]);
        acc[r][t] = _mm512_fnmadd_ps(_mm512_castps256_ps512(_mm256_cvtepi32_ps(msum)),
                                     _mm512_set1_ps(dminv[r] * a.d), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < 4; ++r)
    for (int t = 0; t < T; ++t) out[t][r] = hsum512(acc[r][t]);
}

}  // namespace

Result<PackedWeight> pack_q4_kx4(const void* data, int64_t rows, int64_t cols) {
  if (rows % 4 != 0 || cols % 256 != 0) return unsupported("q4_kx4 needs rows % 4 == 0");
  const int64_t nb = cols / 256;
  const size_t bytes = static_cast<size_t>(rows / 4) * nb * kGroupBytes;
  std::shared_ptr<uint8_t> buf(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)), std::free);
  if (!buf) return resource_exhausted("cannot allocate a repacked weight");
  const BlockQ4_K* src = static_cast<const BlockQ4_K*>(data);
  for (int64_t g = 0; g < rows / 4; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* dst = buf.get() + (g * nb + b) * kGroupBytes;
      for (int r = 0; r < 4; ++r) {
        const BlockQ4_K& blk = src[(g * 4 + r) * nb + b];
        std::memcpy(dst + 2 * r, &blk.d, 2);
        std::memcpy(dst + 8 + 2 * r, &blk.dmin, 2);
        for (int j = 0; j < 8; ++j) q4_k_scale_min(blk.scales, j, dst + 16 + 8 * r + j, dst + 48 + 8 * r + j);
        std::memcpy(dst + kHeader + 128 * r, blk.qs, 128);
      }
    }
  }
  PackedWeight w;
  w.dtype = DType::kQ4_K;
  w.rows = rows;
  w.cols = cols;
  w.data = buf.get();
  w.layout = kLayoutQ4_Kx4;
  w.owned = buf;
  w.bytes = bytes;
  return w;
}

void matmul_q4_kx4(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool) {
  const int64_t K = w.cols, M = w.rows, nb = K / 256, groups = M / 4;
  // Reused between calls; workers get a plain pointer (a lambda names a
  // thread_local per executing thread).
  static thread_local std::vector<BlockQ8_K> act_buffer;
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
        const uint8_t* group = base + g * nb * kGroupBytes;
        for (int64_t t = c0; t < c1; t += kTokens) {
          const int toks = static_cast<int>(std::min<int64_t>(kTokens, c1 - t));
          const BlockQ8_K* xa = act + t * nb;
          switch (toks) {
            case 1: tile<1>(group, xa, nb, nb, out); break;
            case 2: tile<2>(group, xa, nb, nb, out); break;
            case 3: tile<3>(group, xa, nb, nb, out); break;
            default: tile<4>(group, xa, nb, nb, out); break;
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
