// Portable matmul paths (see matmul_reference.cpp). Exposed for the kernel
// tests, which compare every SIMD path against these.
#pragma once

#include "kernels/ops.h"

namespace ember::kernels::ref {

// The int8 activation format a quantized weight type multiplies against
// (F32 for float weights).
DType activation_type(DType weight);

float dot_f32(const float* a, const float* b, int64_t n);
// nb blocks of weight row `w` against the quantized activation row `x`.
float dot_q8_0(const void* w, const void* x, int64_t nb);
float dot_q4_0(const void* w, const void* x, int64_t nb);
float dot_q4_k(const void* w, const void* x, int64_t nb);
float dot_q6_k(const void* w, const void* x, int64_t nb);

void matmul(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool);

}  // namespace ember::kernels::ref
