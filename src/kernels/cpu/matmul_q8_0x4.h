// Repacked Q8_0 for AVX-512 VNNI (see matmul_q8_0x4_avx512.cpp).
#pragma once

#include "kernels/ops.h"

namespace ember::kernels {

constexpr int kLayoutQ8_0x4 = 1;  // PackedWeight::layout of a repacked Q8_0 weight

namespace avx512 {
Result<PackedWeight> pack_q8_0x4(const void* data, int64_t rows, int64_t cols);
void matmul_q8_0x4(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool);
}  // namespace avx512

}  // namespace ember::kernels
