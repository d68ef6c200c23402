// Block codecs of the GGUF weight formats, bit-compatible with ggml's
// layouts, as scalar reference code: decoding rows to f32, encoding f32 rows
// (the quantizers of `--quantize` and `make-random`), and the int8
// activation formats that quantized dot products multiply against.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace ember {

// GGUF block structs (QK_K = 256). Sizes are static_assert'ed against dtype.cpp.
struct BlockQ8_0 {
  uint16_t d;      // f16 scale
  int8_t qs[32];
};
struct BlockQ4_0 {
  uint16_t d;      // f16 scale
  uint8_t qs[16];  // element i in the low nibble of qs[i], element i+16 in the high one; value = d*(q-8)
};
struct BlockQ4_K {
  uint16_t d;           // f16 super-block scale of the 6-bit sub-block scales
  uint16_t dmin;        // f16 super-block scale of the 6-bit sub-block mins
  uint8_t scales[12];   // 8 scales and 8 mins, 6 bits each, packed
  uint8_t qs[128];      // 4-bit values, 64 per 32 bytes (low nibbles first)
};
struct BlockQ6_K {
  uint8_t ql[128];      // low 4 bits
  uint8_t qh[64];       // high 2 bits
  int8_t scales[16];    // sub-block (16 values) scales
  uint16_t d;           // f16 super-block scale
};
struct BlockQ8_K {      // activation format for K-quant dot products
  float d;
  int8_t qs[256];
  int16_t bsums[16];    // sums of qs in groups of 16
};

static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// Decodes n values (a multiple of t's block size) of type t to f32. Supports
// every type with dtype_info(t).supported, plus Q8_K.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);

// Encodes n values to type t (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k, q8_k).
// n must be a multiple of the block size.
void quantize_row(DType t, const float* src, void* dst, int64_t n);

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K block.
void q4_k_scale_min(const uint8_t* scales, int j, uint8_t* scale, uint8_t* min);

}  // namespace ember
