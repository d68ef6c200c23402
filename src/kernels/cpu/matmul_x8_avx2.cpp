// AVX2 matmul on weights repacked with 8 rows interleaved (formats in
// matmul_x8_avx2.h): packing, activation quantization, the Q8_0 and BF16
// tiles, and the driver (Q4_K / Q6_K tiles: matmul_kx8_avx2.cpp).
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "kernels/cpu/matmul_repacked.h"
#include "kernels/cpu/matmul_simd.h"
#include "kernels/cpu/matmul_x8_avx2.h"
#include "tensor/fp16.h"
#include "tensor/quant.h"

namespace ember::kernels::avx2 {
namespace {

constexpr int kTokens = 4;                    // tokens per tile (int8 kernels)
constexpr int kMaxTokens = 5;                 // tokens per tile (BF16: 10 accumulators hide the FMA latency)
constexpr size_t kActCacheBytes = 160 << 10;  // activations of a token chunk, kept in L2
constexpr int64_t kMaxChunk = 64;              // tokens per chunk at most
// tokens per chunk at least, even past kActCacheBytes (ffn_down's Q8_K rows
// are 10.8 KB): 16 sequences decoding are one chunk, so the weights stream
// once and the work goes out in balanced pieces
constexpr int64_t kMinChunk = 16;
constexpr int64_t kBF16KBlock = 2048;          // BF16 values per K-block (even; 64 KiB per group pair)

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// 8 int32 vectors -> 32 int8 in order (values already within int8).
inline __m256i pack_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
  const __m256i v = _mm256_packs_epi16(ab, cd);  // lanes interleaved: a0 b0 c0 d0 | a1 b1 c1 d1 (4 each)
  return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// --- activations ----------------------------------------------------------

// As quantize_row(kQ8_0): d = amax / 127 (stored as f16), q = round(x / d).
void quantize_act_q8(const float* x, ActQ8* out, int64_t nb) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < nb; ++b, x += 32) {
    __m256 v[4], amax = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(x + 8 * i);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[i]));
    }
    const float d = hmax(amax) / 127.0f;
    const __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
    out[b].d = f16_to_f32(f32_to_f16(d));
    __m256i q[4];
    for (int i = 0; i < 4; ++i) q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], id));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[b].qs), pack_i8(q[0], q[1], q[2], q[3]));
  }
}

// As quantize_row(kQ8_K): iscale = -127 / (the value of largest magnitude,
// the first one on ties), q = min(127, round(iscale x)); plus sums per 16 and 32.
void quantize_act_q8k(const float* x, ActQ8K* out, int64_t nb) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < nb; ++b, x += 256) {
    ActQ8K& o = out[b];
    __m256 amax = _mm256_setzero_ps();
    for (int i = 0; i < 256; i += 8) amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
    const float m = hmax(amax);
    if (m == 0.0f) {
      std::memset(&o, 0, sizeof o);
      continue;
    }
    int first = 0;
    while (first < 255 && std::fabs(x[first]) != m) ++first;
    const float iscale = -127.0f / x[first];
    const __m256 is = _mm256_set1_ps(iscale), top = _mm256_set1_ps(127.0f);
    for (int i = 0; i < 256; i += 32) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k)
        q[k] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * k), is), top));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o.qs + i), pack_i8(q[0], q[1], q[2], q[3]));
    }
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int i = 0; i < 16; ++i) s += o.qs[16 * g + i];
      o.bsums[g] = static_cast<int16_t>(s);
    }
    for (int j = 0; j < 8; ++j) o.sums[j] = static_cast<int16_t>(o.bsums[2 * j] + o.bsums[2 * j + 1]);
    o.d = 1.0f / iscale;
  }
}

// --- Q8_0 and BF16 tiles ----------------------------------------------------

// Q8_0 blocks are small: the next group's lines are prefetched 4 blocks at a time.
constexpr size_t kQ8_0x8Prefetch = 4 * kQ8_0x8Bytes;

// Q8_0 has signed codes: |w| * (x with w's sign) keeps maddubs from saturating.
template <int T>
void tile_q8_0x8(const uint8_t* group, const ActQ8* x, int64_t xs, int64_t nb, NextGroup next, float out[][16]) {
  __m256 facc[T];
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) facc[t] = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = group + b * kQ8_0x8Bytes;
    _mm_prefetch(reinterpret_cast<const char*>(p + 4 * kQ8_0x8Bytes), _MM_HINT_T0);
    if constexpr (T > 1)
      if (b % 4 == 0) prefetch_next<kQ8_0x8Prefetch>(next, b / 4);
    __m256i iacc[T];
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) iacc[t] = _mm256_setzero_si256();
    #pragma GCC unroll 16
    for (int i = 0; i < 8; i += 2) {
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16 + 32 * i));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 48 + 32 * i));
      const __m256i aw0 = _mm256_sign_epi8(w0, w0), aw1 = _mm256_sign_epi8(w1, w1);
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t) {
        const int8_t* xq = x[t * xs + b].qs + 4 * i;
        const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(aw0, _mm256_sign_epi8(bcast32(xq), w0)), ones);
        const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(aw1, _mm256_sign_epi8(bcast32(xq + 4), w1)), ones);
        iacc[t] = _mm256_add_epi32(iacc[t], _mm256_add_epi32(p0, p1));
        keep(iacc[t]);
      }
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t)
      facc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iacc[t]), _mm256_mul_ps(d, _mm256_set1_ps(x[t * xs + b].d)), facc[t]);
  }
  #pragma GCC unroll 16
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(out[t], facc[t]);
}

// G groups (8 G rows) x T tokens of f32 activations (token stride xs floats),
// K values. A 32-byte load holds 2 values of 8 rows: shifting left by 16 gives
// the even ones as f32, masking the odd ones. With one token, two
// accumulators per group hide the FMA latency.
template <int G, int T>
void tile_bf16x8(const uint8_t* group, size_t group_bytes, const float* x, int64_t xs, int64_t K, float out[][16]) {
  constexpr int A = T == 1 ? 2 : 1;
  __m256 acc[A][G][T];
  #pragma GCC unroll 16
  for (int a = 0; a < A; ++a)
    #pragma GCC unroll 16
    for (int g = 0; g < G; ++g)
      #pragma GCC unroll 16
      for (int t = 0; t < T; ++t) acc[a][g][t] = _mm256_setzero_ps();
  const __m256i hi = _mm256_set1_epi32(static_cast<int>(0xffff0000u));
  for (int64_t k = 0; k < K; k += 2) {
    // each broadcast feeds all G groups
    __m256 wv[G];
    #pragma GCC unroll 16
    for (int g = 0; g < G; ++g)
      wv[g] = _mm256_castsi256_ps(_mm256_slli_epi32(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + g * group_bytes + 16 * k)), 16));
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const __m256 xv = _mm256_broadcast_ss(x + t * xs + k);
      #pragma GCC unroll 16
      for (int g = 0; g < G; ++g) acc[0][g][t] = _mm256_fmadd_ps(wv[g], xv, acc[0][g][t]);
    }
    #pragma GCC unroll 16
    for (int g = 0; g < G; ++g)
      wv[g] = _mm256_castsi256_ps(_mm256_and_si256(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + g * group_bytes + 16 * k)), hi));
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const __m256 xv = _mm256_broadcast_ss(x + t * xs + k + 1);
      #pragma GCC unroll 16
      for (int g = 0; g < G; ++g) acc[A - 1][g][t] = _mm256_fmadd_ps(wv[g], xv, acc[A - 1][g][t]);
    }
  }
  #pragma GCC unroll 16
  for (int g = 0; g < G; ++g)
    #pragma GCC unroll 16
    for (int t = 0; t < T; ++t)
      _mm256_storeu_ps(out[t] + 8 * g, A == 2 ? _mm256_add_ps(acc[0][g][t], acc[A - 1][g][t]) : acc[0][g][t]);
}

// --- packing ----------------------------------------------------------------

void pack_group(DType dt, const uint8_t* src, size_t row, int64_t cols, uint8_t* dst) {
  switch (dt) {
    case DType::kQ8_0:
      for (int64_t b = 0; b < cols / 32; ++b, dst += kQ8_0x8Bytes)
        for (int r = 0; r < 8; ++r) {
          const BlockQ8_0& blk = reinterpret_cast<const BlockQ8_0*>(src + r * row)[b];
          std::memcpy(dst + 2 * r, &blk.d, 2);
          for (int i = 0; i < 8; ++i) std::memcpy(dst + 16 + 32 * i + 4 * r, blk.qs + 4 * i, 4);
        }
      break;
    case DType::kQ4_K:
      for (int64_t b = 0; b < cols / 256; ++b, dst += kQ4_Kx8Bytes)
        for (int r = 0; r < 8; ++r) {
          const BlockQ4_K& blk = reinterpret_cast<const BlockQ4_K*>(src + r * row)[b];
          std::memcpy(dst + 2 * r, &blk.d, 2);
          std::memcpy(dst + 16 + 2 * r, &blk.dmin, 2);
          for (int j = 0; j < 8; ++j)
            q4_k_scale_min(blk.scales, j, dst + 32 + 8 * j + r, dst + 96 + 16 * (j / 2) + 2 * r + j % 2);
          // GGUF: byte 32c + l holds value 64c + l (low nibble) and 64c + 32 + l (high)
          for (int c = 0; c < 4; ++c)
            for (int i = 0; i < 4; ++i) {  // 4 values at a time
              uint32_t a, h;
              std::memcpy(&a, blk.qs + 32 * c + 4 * i, 4);
              std::memcpy(&h, blk.qs + 32 * c + 16 + 4 * i, 4);
              const uint32_t lo = (a & 0x0f0f0f0fu) | (h & 0x0f0f0f0fu) << 4, hi = (a >> 4 & 0x0f0f0f0fu) | (h & 0xf0f0f0f0u);
              std::memcpy(dst + 160 + 256 * c + 32 * i + 4 * r, &lo, 4);
              std::memcpy(dst + 160 + 256 * c + 128 + 32 * i + 4 * r, &hi, 4);
            }
        }
      break;
    case DType::kQ6_K:
      for (int64_t b = 0; b < cols / 256; ++b, dst += kQ6_Kx8Bytes)
        for (int r = 0; r < 8; ++r) {
          const BlockQ6_K& blk = reinterpret_cast<const BlockQ6_K*>(src + r * row)[b];
          std::memcpy(dst + 2 * r, &blk.d, 2);
          for (int s = 0; s < 16; ++s) dst[16 + 16 * (s / 2) + 2 * r + s % 2] = static_cast<uint8_t>(blk.scales[s]);
          uint8_t lo[256], hi[256];  // GGUF: as dequantize_q6_k walks it
          for (int h = 0; h < 2; ++h)
            for (int l = 0; l < 32; ++l) {
              const uint8_t a = blk.ql[64 * h + l], c = blk.ql[64 * h + 32 + l], q = blk.qh[32 * h + l];
              uint8_t* o = lo + 128 * h + l;
              uint8_t* g = hi + 128 * h + l;
              o[0] = a & 0x0f, o[32] = c & 0x0f, o[64] = a >> 4, o[96] = c >> 4;
              g[0] = q & 3, g[32] = (q >> 2) & 3, g[64] = (q >> 4) & 3, g[96] = q >> 6;
            }
          for (int u = 0; u < 16; ++u) {
            uint8_t* q = dst + 144 + 96 * u + 4 * r;
            for (int e = 0; e < 4; ++e) {
              const int k = 16 * u + e;
              auto code = [&](int i) { return lo[k + 4 * i] | hi[k + 4 * i] << 4; };  // 6 bits
              q[e] = static_cast<uint8_t>(code(0) | (code(3) & 3) << 6);
              q[32 + e] = static_cast<uint8_t>(code(1) | (code(3) >> 2 & 3) << 6);
              q[64 + e] = static_cast<uint8_t>(code(2) | (code(3) >> 4) << 6);
            }
          }
        }
      break;
    default:  // BF16
      for (int64_t k = 0; k < cols; k += 2, dst += kBF16x8Bytes)
        for (int r = 0; r < 8; ++r) std::memcpy(dst + 4 * r, src + r * row + 2 * k, 4);
      break;
  }
}

size_t group_bytes(DType dt, int64_t cols) {
  switch (dt) {
    case DType::kQ8_0: return cols / 32 * kQ8_0x8Bytes;
    case DType::kQ4_K: return cols / 256 * kQ4_Kx8Bytes;
    case DType::kQ6_K: return cols / 256 * kQ6_Kx8Bytes;
    default: return cols / 2 * kBF16x8Bytes;
  }
}

// --- driver ------------------------------------------------------------------

// What token tile ti of `tiles` prefetches of the next group (at next,
// `lines` lines per block): nothing for the first, which streams its own
// group; an equal share of the lines for each of the others.
NextGroup next_group(const uint8_t* next, int lines, int64_t ti, int64_t tiles, bool more) {
  if (!more || ti == 0 || lines == 0) return {};
  return {next, static_cast<int>(lines * (ti - 1) / (tiles - 1)), static_cast<int>(lines * ti / (tiles - 1))};
}

// Which of its group's token tiles (in a chunk) a tile is.
struct TilePlace {
  int64_t index, count;
};

// One weight of a for_each_tile pass: its groups (gb bytes each, from base)
// and where its outputs go (y: [n, M], + bias for the first K-block).
struct Segment {
  const uint8_t* base = nullptr;
  size_t gb = 0;
  int64_t groups = 0;
  DType dtype = DType::kF32;
  int64_t M = 0;
  const float* bias = nullptr;
  float* y = nullptr;
};
constexpr int kMaxSegments = 4;

// The lines per block (per 4 blocks for Q8_0) a tile of dt prefetches of the
// next group; BF16 tiles prefetch none.
int prefetch_lines(DType dt) {
  switch (dt) {
    case DType::kQ8_0: return static_cast<int>((kQ8_0x8Prefetch + 63) / 64);
    case DType::kQ4_K: return static_cast<int>((kQ4_Kx8Bytes + 63) / 64);
    case DType::kQ6_K: return static_cast<int>((kQ6_Kx8Bytes + 63) / 64);
    default: return 0;
  }
}

// Runs tile(segment, first group, groups (1 or G), token, tokens, TilePlace,
// K-block, the next unit's first group's lines to prefetch (next_group; none
// across segments of different dtypes), out) over the units of G groups of
// every segment x tokens [0, n) x K-blocks [0, kblocks); the segments' units
// are one list, so weights sharing an input (q/k/v) make one pass of the
// pool. With one token chunk (decode), the units go out in pieces of about
// 1/64 of a thread's share, balanced between the threads. With several
// (prefill), each thread takes its share whole, token chunks of `chunk`
// outermost, then K-blocks, so a chunk's activations for one K-block stay in
// L2 while the weights stream (smaller pieces would read every chunk's
// activations again from L3 for each). Stores out (+ bias) into the
// segment's y for the first K-block, adds it for the others.
template <int G, int TT, class Tile>
void for_each_tile(std::span<const Segment> segs, int64_t n, int64_t chunk, int64_t kblocks, ThreadPool& pool,
                   Tile&& tile) {
  const int ns = static_cast<int>(segs.size());
  int64_t first[kMaxSegments + 1] = {0};  // each segment's first unit
  for (int s = 0; s < ns; ++s) first[s + 1] = first[s] + (segs[s].groups + G - 1) / G;
  const int64_t units = first[ns];
  const int64_t piece = n <= chunk ? std::max<int64_t>(1, units / (64 * pool.size())) : (units + pool.size() - 1) / pool.size();
  pool.parallel_for_balanced(units, piece, [&](int64_t u0, int64_t u1) {
    alignas(32) float out[kMaxTokens][16];
    for (int64_t c0 = 0; c0 < n; c0 += chunk) {
      const int64_t c1 = std::min(n, c0 + chunk);
      for (int64_t kb = 0; kb < kblocks; ++kb) {
        int s = 0;
        for (int64_t u = u0; u < u1; ++u) {
          while (u >= first[s + 1]) ++s;
          const Segment& S = segs[s];
          const int64_t g = (u - first[s]) * G;
          const int gs = static_cast<int>(std::min<int64_t>(G, S.groups - g));
          const uint8_t* next = u + 1 < first[s + 1] ? S.base + (g + G) * S.gb
                                : s + 1 < ns && segs[s + 1].dtype == S.dtype ? segs[s + 1].base
                                                                              : nullptr;
          const int lines = prefetch_lines(S.dtype);
          // tiles of as even sizes as TT allows (BF16, 16 tokens: 4 x 4 rather than 5, 5, 5, 1)
          const int64_t tiles = (c1 - c0 + TT - 1) / TT;
          for (int64_t ti = 0, t = c0; ti < tiles; ++ti) {
            const int toks = static_cast<int>((c1 - c0) * (ti + 1) / tiles - (c1 - c0) * ti / tiles);
            tile(S, g, gs, t, toks, TilePlace{ti, tiles}, kb, next_group(next, lines, ti, tiles, next != nullptr), out);
            for (int i = 0; i < toks; ++i)
              for (int k = 0; k < gs; ++k) {
                float* dst = S.y + (t + i) * S.M + 8 * (g + k);
                __m256 v = _mm256_load_ps(out[i] + 8 * k);
                if (kb > 0) v = _mm256_add_ps(v, _mm256_loadu_ps(dst));
                else if (S.bias) v = _mm256_add_ps(v, _mm256_loadu_ps(S.bias + 8 * (g + k)));
                _mm256_storeu_ps(dst, v);
              }
            t += toks;
          }
        }
      }
    }
  });
}

template <int TT, class Run>
void dispatch_tokens(int toks, Run&& run) {
  switch (toks) {
    case 1: run.template operator()<1>(); break;
    case 2: run.template operator()<2>(); break;
    case 3: run.template operator()<3>(); break;
    case 4: run.template operator()<4>(); break;
    case 5: if constexpr (TT >= 5) run.template operator()<5>(); break;
    default: if constexpr (TT >= 6) run.template operator()<6>(); break;
  }
}

// The n rows of x (K values each) as nb activation blocks per row, made by
// quantize(row, blocks, nb) on the pool, in a buffer the calling thread
// reuses between calls (the workers get a plain pointer: a lambda naming a
// thread_local would see each executing thread's own).
template <class Act>
const Act* quantized_activations(const float* x, int64_t n, int64_t K, int64_t nb, ThreadPool& pool,
                                 void (*quantize)(const float*, Act*, int64_t)) {
  static thread_local std::vector<Act> buffer;
  if (buffer.size() < static_cast<size_t>(n * nb)) buffer.resize(static_cast<size_t>(n * nb));
  Act* const act = buffer.data();
  pool.parallel_for(n, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) quantize(x + t * K, act + t * nb, nb);
  });
  return act;
}

int64_t token_chunk(size_t act_bytes_per_token, int64_t tile_tokens) {
  const int64_t c = std::min<int64_t>(kMaxChunk, kActCacheBytes / std::max<size_t>(1, act_bytes_per_token));
  return std::max<int64_t>(std::max(tile_tokens, kMinChunk / tile_tokens * tile_tokens), c / tile_tokens * tile_tokens);
}

}  // namespace

bool supports_x8(DType dt, int64_t rows, int64_t cols) {
  if (rows < 8) return false;
  switch (dt) {
    case DType::kQ8_0: case DType::kQ4_K: case DType::kQ6_K: return true;
    case DType::kBF16: return cols % 8 == 0;
    default: return false;
  }
}

Result<PackedWeight> pack_x8(DType dtype, const void* data, int64_t rows, int64_t cols) {
  const int64_t groups = rows / 8, tail = rows % 8;
  const size_t row = row_bytes(dtype, cols), gb = group_bytes(dtype, cols);
  const size_t bytes = static_cast<size_t>(groups) * gb + static_cast<size_t>(tail) * row;
  // 2 MiB aligned and backed by huge pages where the kernel allows: fewer
  // page faults while packing, fewer TLB misses while streaming.
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t align = bytes >= kHuge ? kHuge : 64;
  const size_t alloc = (bytes + align - 1) / align * align;
  std::shared_ptr<uint8_t> buf(static_cast<uint8_t*>(std::aligned_alloc(align, alloc)), std::free);
  if (!buf) return resource_exhausted("cannot allocate a repacked weight");
  if (align == kHuge) madvise(buf.get(), alloc, MADV_HUGEPAGE);  // advisory: failure changes nothing
  const uint8_t* src = static_cast<const uint8_t*>(data);
  // Large weights are packed by a few threads (model load time).
  const int64_t threads = std::clamp<int64_t>(std::min<int64_t>(std::thread::hardware_concurrency(), 8), 1,
                                              std::max<int64_t>(1, groups / 64));
  auto pack_range = [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) pack_group(dtype, src + g * 8 * row, row, cols, buf.get() + g * gb);
  };
  std::vector<std::thread> workers;
  for (int64_t i = 1; i < threads; ++i) workers.emplace_back(pack_range, groups * i / threads, groups * (i + 1) / threads);
  pack_range(0, groups / threads);
  for (auto& t : workers) t.join();
  std::memcpy(buf.get() + groups * gb, src + groups * 8 * row, tail * row);
  PackedWeight w;
  w.dtype = dtype;
  w.rows = rows;
  w.cols = cols;
  w.data = buf.get();
  w.layout = kLayoutX8Avx2;
  w.owned = buf;
  w.bytes = bytes;
  return w;
}

namespace {

Segment segment(const PackedWeight& w, const float* bias, float* y) {
  Segment s;
  s.base = static_cast<const uint8_t*>(w.data);
  s.gb = group_bytes(w.dtype, w.cols);
  s.groups = w.rows / 8;
  s.dtype = w.dtype;
  s.M = w.rows;
  s.bias = bias;
  s.y = y;
  return s;
}

// The whole groups of segments that all take one activation format (BF16,
// Q8_0, or Q4_K and Q6_K with Q8_K), K columns each, on the n rows of x.
void matmul_segments(std::span<const Segment> segs, int64_t K, const float* x, int64_t n, ThreadPool& pool) {
  const DType dt = segs[0].dtype;
  if (dt == DType::kBF16) {
    // K-blocks only when the activations would not stay in L2 anyway (not in decode)
    const bool fits = static_cast<size_t>(n * K) * 4 <= kActCacheBytes;
    const int64_t kc = fits ? K : std::min<int64_t>(K, kBF16KBlock), kblocks = (K + kc - 1) / kc;
    const int64_t chunk = token_chunk(static_cast<size_t>(kc) * 4, kMaxTokens);
    for_each_tile<2, kMaxTokens>(segs, n, chunk, kblocks, pool,
                                 [&](const Segment& S, int64_t g, int gs, int64_t t, int toks, TilePlace, int64_t kb,
                                     NextGroup, float out[][16]) {
      const int64_t k0 = kb * kc, kn = std::min(kc, K - k0);
      const uint8_t* wg = S.base + g * S.gb + k0 * 16;
      const float* xt = x + t * K + k0;
      dispatch_tokens<kMaxTokens>(toks, [&]<int T>() {
        if (gs == 2) tile_bf16x8<2, T>(wg, S.gb, xt, K, kn, out);
        else tile_bf16x8<1, T>(wg, S.gb, xt, K, kn, out);
      });
    });
  } else if (dt == DType::kQ8_0) {
    const int64_t nb = K / 32;
    const ActQ8* const act = quantized_activations<ActQ8>(x, n, K, nb, pool, quantize_act_q8);
    const int64_t chunk = token_chunk(nb * sizeof(ActQ8), kTokens);
    for_each_tile<1, kTokens>(segs, n, chunk, 1, pool,
                              [&](const Segment& S, int64_t g, int, int64_t t, int toks, TilePlace, int64_t,
                                  NextGroup next, float out[][16]) {
      dispatch_tokens<kTokens>(toks, [&]<int T>() { tile_q8_0x8<T>(S.base + g * S.gb, act + t * nb, nb, nb, next, out); });
    });
  } else {
    const int64_t nb = K / 256;
    const ActQ8K* const act = quantized_activations<ActQ8K>(x, n, K, nb, pool, quantize_act_q8k);
    const int64_t chunk = token_chunk(nb * sizeof(ActQ8K), kTokens);
    for_each_tile<1, kTokens>(segs, n, chunk, 1, pool,
                              [&](const Segment& S, int64_t g, int, int64_t t, int toks, TilePlace place, int64_t,
                                  NextGroup next, float out[][16]) {
      const uint8_t* wg = S.base + g * S.gb;
      const bool q4 = S.dtype == DType::kQ4_K;
      // Q6_K with several token tiles per group: the first unpacks the
      // group's codes into this thread's scratch, the others read them
      static thread_local std::vector<uint8_t> codes;
      const bool shared_codes = !q4 && place.count > 1;
      if (shared_codes && place.index == 0 && codes.size() < static_cast<size_t>(nb) * kQ6_KCodesBytes)
        codes.resize(static_cast<size_t>(nb) * kQ6_KCodesBytes);
      dispatch_tokens<kTokens>(toks, [&]<int T>() {
        if (q4) tile_q4_kx8<T>(wg, act + t * nb, nb, nb, next, out);
        else if (!shared_codes) tile_q6_kx8<T>(wg, act + t * nb, nb, nb, next, out);
        else if (place.index == 0) tile_q6_kx8_unpacking<T>(wg, codes.data(), act + t * nb, nb, nb, next, out);
        else tile_q6_kx8_codes<T>(wg, codes.data(), act + t * nb, nb, nb, next, out);
      });
    });
  }
}

// Which activation format a weight's tiles take, named by one weight type
// that takes it (Q6_K tiles take Q4_K's Q8_K).
DType activation_family(DType dt) { return dt == DType::kQ6_K ? DType::kQ4_K : dt; }

}  // namespace

bool can_share_input_x8(std::span<const MatmulOutput> outs) {
  if (outs.empty() || outs.size() > kMaxSegments) return false;
  for (const MatmulOutput& o : outs)
    if (o.w->layout != kLayoutX8Avx2 || o.w->rows % 8 != 0 || o.w->cols != outs[0].w->cols ||
        activation_family(o.w->dtype) != activation_family(outs[0].w->dtype))
      return false;
  return true;
}

void matmul_x8_shared_input(std::span<const MatmulOutput> outs, const float* x, int64_t n, ThreadPool& pool) {
  Segment segs[kMaxSegments];
  for (size_t i = 0; i < outs.size(); ++i) segs[i] = segment(*outs[i].w, outs[i].bias, outs[i].y);
  matmul_segments(std::span<const Segment>(segs, outs.size()), outs[0].w->cols, x, n, pool);
}

void matmul_x8(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool) {
  const int64_t K = w.cols, M = w.rows, groups = M / 8, tail = M % 8;
  const uint8_t* base = static_cast<const uint8_t*>(w.data);
  const size_t gb = group_bytes(w.dtype, K);
  const Segment seg = segment(w, bias, y);
  matmul_segments(std::span<const Segment>(&seg, 1), K, x, n, pool);

  if (tail > 0) {  // the last rows, in the GGUF layout, through the plain kernels
    PackedWeight rest;
    rest.dtype = w.dtype;
    rest.rows = tail;
    rest.cols = K;
    rest.data = base + groups * gb;
    rest.bytes = tail * row_bytes(w.dtype, K);
    std::vector<float> yt(static_cast<size_t>(n * tail));
    avx2::matmul(rest, x, n, bias ? bias + groups * 8 : nullptr, yt.data(), pool);
    for (int64_t t = 0; t < n; ++t) std::copy_n(yt.data() + t * tail, tail, y + t * M + groups * 8);
  }
}

}  // namespace ember::kernels::avx2
