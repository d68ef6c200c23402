// AVX2 kernels on weights repacked at load with 8 rows interleaved, so that
// each 32-bit lane of a vector belongs to one output row: a 32-byte load holds
// 4 consecutive values of each of 8 rows, a broadcast of 4 activation bytes
// meets it in one maddubs, and the per-row scales multiply 8 outputs at once
// (no horizontal sums, no scalar scale products). Formats, per group of 8
// rows (g) and block (b), streamed front to back:
//   Q8_0x8  per 32 values, 272 bytes (GGUF: 8 x 34):
//           d[8] f16 | qs[8 quads][8 rows][4]
//   Q4_Kx8  per 256 values, 1184 bytes (GGUF: 8 x 144):
//           d[8], dmin[8] f16 | scales[8 sub][8 rows] u8 | mins[4 pairs][8 rows][2] u8
//           | per sub-block j of 32 values, 4 x 32 bytes: load i, byte 4r + e:
//             low nibble = value 32j + 4i + e of row r, high = value 32j + 16 + 4i + e
//   Q6_Kx8  per 256 values, 1680 bytes (GGUF: 8 x 210):
//           d[8] f16 | scales[8 pairs][8 rows][2] i8
//           | per unit u of 16 values, 96 bytes: X, Y, Z (32 bytes each), byte 4r + e:
//             bits 0-5 = the 6-bit code of value 16u + e (X), 16u + 4 + e (Y),
//             16u + 8 + e (Z); bits 6-7 = bits 0-1 (X), 2-3 (Y), 4-5 (Z) of
//             the code of value 16u + 12 + e
//   BF16x8  per 2 values, 32 bytes: [8 rows][2] bf16
// Rows past the last whole group follow in the GGUF layout (plain kernels).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace ember::kernels::avx2 {

constexpr size_t kQ8_0x8Bytes = 16 + 256;
constexpr size_t kQ4_Kx8Bytes = 16 + 16 + 64 + 64 + 1024;
constexpr size_t kQ6_Kx8Bytes = 16 + 128 + 16 * 96;
constexpr size_t kBF16x8Bytes = 32;

// Activations for Q8_0 weights: one block of 32 (scale rounded through f16,
// as llama.cpp stores it).
struct ActQ8 {
  float d;
  int8_t qs[32];
};

// Activations for Q4_K / Q6_K weights: Q8_K (256 values) with its sums per
// 16 values and per 32 (for the Q4_K mins).
struct ActQ8K {
  float d;
  int16_t bsums[16];
  int16_t sums[8];
  int8_t qs[256];
};

// Lines [line0, line1) of each block of the next group, which a tile
// prefetches into L2 as it goes. A group's later token tiles find its weights
// in cache and leave the memory idle, and the hardware prefetcher does not
// run ahead through them, so they fetch the next group's weights instead.
struct NextGroup {
  const uint8_t* base = nullptr;
  int line0 = 0, line1 = 0;
};

// Tiles: 8 rows (one group) x T tokens, over nb blocks; token t's blocks
// start at x + t * xs. out[t][r] receives the dot products. A group has
// one-token tiles only when it has one tile: those never prefetch.
template <int T>
void tile_q4_kx8(const uint8_t* group, const ActQ8K* x, int64_t xs, int64_t nb, NextGroup next, float out[][16]);
template <int T>
void tile_q6_kx8(const uint8_t* group, const ActQ8K* x, int64_t xs, int64_t nb, NextGroup next, float out[][16]);

// A group's Q6_K codes unpacked to one byte each, kQ6_KCodesBytes per block
// (per unit u of 16 values: the 4 vectors the tile would unpack from its 96
// bytes). With several token tiles per group, the first unpacks and also
// stores the codes (tile_q6_kx8_unpacking), and the others read them back
// from L1/L2 (tile_q6_kx8_codes): a fifth fewer vector ops per tile.
constexpr size_t kQ6_KCodesBytes = 16 * 128;
template <int T>
void tile_q6_kx8_unpacking(const uint8_t* group, uint8_t* codes, const ActQ8K* x, int64_t xs, int64_t nb,
                           NextGroup next, float out[][16]);
// tile_q6_kx8 on codes stored by tile_q6_kx8_unpacking (group still gives the scales).
template <int T>
void tile_q6_kx8_codes(const uint8_t* group, const uint8_t* codes, const ActQ8K* x, int64_t xs, int64_t nb,
                       NextGroup next, float out[][16]);

inline __m256i bcast32(const void* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Pins v to a register at this point: keeps the compiler (GCC's
// reassociation) from computing every product of a tile before adding any,
// which spills most of them.
inline void keep(__m256i& v) { __asm__("" : "+x"(v)); }

// next's lines of its block b (Bytes bytes per block) into L2.
template <size_t Bytes>
inline void prefetch_next(const NextGroup& next, int64_t b) {
  if (next.line0 == next.line1) return;
  const uint8_t* p = next.base + b * Bytes;
  for (int l = next.line0; l < next.line1; ++l) _mm_prefetch(reinterpret_cast<const char*>(p + 64 * l), _MM_HINT_T1);
}

}  // namespace ember::kernels::avx2
