// Weights repacked at load for the AVX-512 VNNI kernels: rows in groups of
// 4 with each block's scales beside its values, so a tile streams one
// contiguous run (see matmul_q8_0x4_avx512.cpp and matmul_q4_kx4_avx512.cpp).
#pragma once

#include "kernels/ops.h"

namespace ember::kernels {

// PackedWeight::layout values.
constexpr int kLayoutQ8_0x4 = 1;
constexpr int kLayoutQ4_Kx4 = 2;

namespace avx512 {
Result<PackedWeight> pack_q8_0x4(const void* data, int64_t rows, int64_t cols);
void matmul_q8_0x4(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool);
Result<PackedWeight> pack_q4_kx4(const void* data, int64_t rows, int64_t cols);
void matmul_q4_kx4(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool);
// Q6_K in the GGUF layout (rows % 4 == 0), 512-bit.
void matmul_q6_k(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool);
}  // namespace avx512

}  // namespace ember::kernels
