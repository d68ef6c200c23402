// AVX-512 (F, BW, VL, VNNI) build of matmul_simd.inc: int8 dot products with vpdpbusd.
#define EMBER_SIMD_NS avx512
#define EMBER_VNNI 1
#include "kernels/cpu/matmul_simd.inc"
