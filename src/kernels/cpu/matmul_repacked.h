// Weights repacked at load so a tile streams one contiguous run: for the
// AVX-512 VNNI kernels rows in groups of 4 with each block's scales beside
// its values (matmul_q8_0x4_avx512.cpp, matmul_q4_kx4_avx512.cpp); for AVX2
// rows in groups of 8 interleaved, one row per 32-bit lane (matmul_x8_avx2.h).
#pragma once

#include "kernels/ops.h"

namespace ember::kernels {

// PackedWeight::layout values.
constexpr int kLayoutQ8_0x4 = 1;
constexpr int kLayoutQ4_Kx4 = 2;
constexpr int kLayoutX8Avx2 = 3;  // 8 rows interleaved, see matmul_x8_avx2.h

namespace avx512 {
Result<PackedWeight> pack_q8_0x4(const void* data, int64_t rows, int64_t cols);
void matmul_q8_0x4(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool);
Result<PackedWeight> pack_q4_kx4(const void* data, int64_t rows, int64_t cols);
void matmul_q4_kx4(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool);
// Q6_K in the GGUF layout (rows % 4 == 0), 512-bit.
void matmul_q6_k(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool);
}  // namespace avx512

namespace avx2 {
// Whether pack_x8 takes this weight (Q8_0, Q4_K, Q6_K; BF16 with cols % 8 == 0; rows >= 8).
bool supports_x8(DType dtype, int64_t rows, int64_t cols);
Result<PackedWeight> pack_x8(DType dtype, const void* data, int64_t rows, int64_t cols);
void matmul_x8(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool);
// Whether matmul_x8_shared_input takes outs: x8 weights, whole groups only,
// the same cols, one activation format (Q4_K and Q6_K share Q8_K), at most 4.
bool can_share_input_x8(std::span<const MatmulOutput> outs);
void matmul_x8_shared_input(std::span<const MatmulOutput> outs, const float* x, int64_t n, ThreadPool& pool);
}  // namespace avx2

}  // namespace ember::kernels
