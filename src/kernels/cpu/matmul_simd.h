// SIMD matmul paths for x86-64. One source (matmul_simd.inc) is compiled
// twice: for AVX2 (+FMA, F16C; int8 dots through maddubs/madd) and for
// AVX-512 (F, BW, VL, VNNI: int8 dots through vpdpbusd). Which one runs is
// decided once in ops.cpp from the CPU's features.
#pragma once

#include "kernels/ops.h"

namespace ember::kernels {

namespace avx2 {
bool supports(DType weight);
void matmul(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool);
}  // namespace avx2

namespace avx512 {
bool supports(DType weight);
void matmul(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool);
}  // namespace avx512

}  // namespace ember::kernels
