// Q8_0 weights repacked for AVX-512 VNNI: rows in groups of 4, and per block
// the 4 rows' f16 scales (8 bytes) followed by their 4 x 32 int8 values
// (128 bytes), so a tile streams one contiguous run and two 512-bit loads
// fetch a block of 4 rows. Activations are made unsigned (x + 128) for
// vpdpbusd; the 128 Σw this adds is computed by a second vpdpbusd.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/cpu/matmul_repacked.h"
#include "tensor/fp16.h"
#include "tensor/quant.h"

namespace ember::kernels::avx512 {
namespace {

constexpr size_t kGroupBlockBytes = 8 + 4 * 32;  // 4 f16 scales + 4 x 32 values
constexpr int kTokens = 8;
constexpr int64_t kTokenChunk = 64;

struct Act {  // one activation block: unsigned values x + 128 and the f16-rounded scale
  uint8_t qs[32];
  float d;
};

void quantize_act(const float* x, Act* out, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 32) {
    __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    const float amax = std::max(_mm512_reduce_max_ps(_mm512_abs_ps(v0)), _mm512_reduce_max_ps(_mm512_abs_ps(v1)));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = _cvtsh_ss(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
    const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(id)));
    const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(id)));
    const __m128i b0 = _mm512_cvtepi32_epi8(_mm512_add_epi32(q0, _mm512_set1_epi32(128)));
    const __m128i b1 = _mm512_cvtepi32_epi8(_mm512_add_epi32(q1, _mm512_set1_epi32(128)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs), b0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs + 16), b1);
  }
}

inline float sum_low8(__m512 v) {
  const __m256 h = _mm512_castps512_ps256(v);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int T>
void tile(const uint8_t* group, const Act* x, int64_t xs, int64_t nb, float out[][4]) {
  __m512 acc01[T], acc23[T];
  for (int t = 0; t < T; ++t) acc01[t] = acc23[t] = _mm512_setzero_ps();
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i idx01 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const __m512i idx23 = _mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = group + b * kGroupBlockBytes;
    _mm_prefetch(reinterpret_cast<const char*>(p) + 8 * kGroupBlockBytes, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(p) + 8 * kGroupBlockBytes + 64, _MM_HINT_T0);
    const __m512 dw = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
    // Per block, shared by every token: the rows' scales spread over their
    // lanes, and -128 Σw to start each dot product from.
    const __m512 sw01 = _mm512_permutexvar_ps(idx01, dw), sw23 = _mm512_permutexvar_ps(idx23, dw);
    const __m512i w01 = _mm512_loadu_si512(p + 8), w23 = _mm512_loadu_si512(p + 72);
    const __m512i neg01 = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), bias, w01));
    const __m512i neg23 = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), bias, w23));
    for (int t = 0; t < T; ++t) {
      const Act& a = x[t * xs + b];
      const __m512i xv = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs)));
      const __m512 dx = _mm512_set1_ps(a.d);
      const __m512i p01 = _mm512_dpbusd_epi32(neg01, xv, w01);
      const __m512i p23 = _mm512_dpbusd_epi32(neg23, xv, w23);
      acc01[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p01), _mm512_mul_ps(sw01, dx), acc01[t]);
      acc23[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p23), _mm512_mul_ps(sw23, dx), acc23[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    out[t][0] = sum_low8(acc01[t]);
    out[t][1] = sum_low8(_mm512_shuffle_f32x4(acc01[t], acc01[t], 0xEE));
    out[t][2] = sum_low8(acc23[t]);
    out[t][3] = sum_low8(_mm512_shuffle_f32x4(acc23[t], acc23[t], 0xEE));
  }
}

}  // namespace

Result<PackedWeight> pack_q8_0x4(const void* data, int64_t rows, int64_t cols) {
  if (rows % 4 != 0 || cols % 32 != 0) return unsupported("q8_0x4 needs rows % 4 == 0");
  const int64_t nb = cols / 32;
  const size_t bytes = static_cast<size_t>(rows / 4) * nb * kGroupBlockBytes;
  std::shared_ptr<uint8_t> buf(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)), std::free);
  if (!buf) return resource_exhausted("cannot allocate a repacked weight");
  const BlockQ8_0* src = static_cast<const BlockQ8_0*>(data);
  for (int64_t g = 0; g < rows / 4; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* dst = buf.get() + (g * nb + b) * kGroupBlockBytes;
      for (int r = 0; r < 4; ++r) {
        const BlockQ8_0& blk = src[(g * 4 + r) * nb + b];
        std::memcpy(dst + 2 * r, &blk.d, 2);
        std::memcpy(dst + 8 + 32 * r, blk.qs, 32);
      }
    }
  }
  PackedWeight w;
  w.dtype = DType::kQ8_0;
  w.rows = rows;
  w.cols = cols;
  w.data = buf.get();
  w.layout = kLayoutQ8_0x4;
  w.owned = buf;
  w.bytes = bytes;
  return w;
}

void matmul_q8_0x4(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool) {
  const int64_t K = w.cols, M = w.rows, nb = K / 32, groups = M / 4;
  // Reused between calls: a fresh multi-megabyte buffer per call costs page faults.
  // (A lambda names a thread_local per executing thread, so hand the workers a plain pointer.)
  static thread_local std::vector<Act> act_buffer;
  if (act_buffer.size() < static_cast<size_t>(n * nb)) act_buffer.resize(static_cast<size_t>(n * nb));
  Act* const act = act_buffer.data();
  pool.parallel_for(n, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) quantize_act(x + t * K, act + t * nb, nb);
  });
  const uint8_t* base = static_cast<const uint8_t*>(w.data);
  pool.parallel_for(groups, 4, [&](int64_t g0, int64_t g1) {
    float out[kTokens][4];
    for (int64_t c0 = 0; c0 < n; c0 += kTokenChunk) {
      const int64_t c1 = std::min(n, c0 + kTokenChunk);
      for (int64_t g = g0; g < g1; ++g) {
        const uint8_t* group = base + g * nb * kGroupBlockBytes;
        for (int64_t t = c0; t < c1; t += kTokens) {
          const int toks = static_cast<int>(std::min<int64_t>(kTokens, c1 - t));
          const Act* xa = act + t * nb;
          switch (toks) {
            case 1: tile<1>(group, xa, nb, nb, out); break;
            case 2: tile<2>(group, xa, nb, nb, out); break;
            case 3: tile<3>(group, xa, nb, nb, out); break;
            case 4: tile<4>(group, xa, nb, nb, out); break;
            case 5: tile<5>(group, xa, nb, nb, out); break;
            case 6: tile<6>(group, xa, nb, nb, out); break;
            case 7: tile<7>(group, xa, nb, nb, out); break;
            default: tile<8>(group, xa, nb, nb, out); break;
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
