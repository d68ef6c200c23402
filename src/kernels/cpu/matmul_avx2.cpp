// AVX2 + FMA + F16C build of matmul_simd.inc.
#define EMBER_SIMD_NS avx2
#define EMBER_VNNI 0
#include "kernels/cpu/matmul_simd.inc"
