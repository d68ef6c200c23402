// Matrix products on the CPU in portable C++ (the reference every SIMD path
// is tested against, and the fallback): y = x · wᵀ over output rows split
// between threads. Quantized weights are multiplied with int8 activations
// the way llama.cpp does it (Q8_0 activations for Q8_0/Q4_0 weights, Q8_K
// for Q4_K/Q6_K), so logits match its results closely; float weights use
// f32 dot products.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/matmul_reference.h"
#include "tensor/fp16.h"
#include "tensor/quant.h"

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define EMBER_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EMBER_MULTIVERSION
#endif

namespace ember::kernels::ref {

EMBER_MULTIVERSION
float dot_f32(const float* a, const float* b, int64_t n) {
  float acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int k = 0; k < 16; ++k) acc[k] += a[i + k] * b[i + k];
  float s = 0.0f;
  for (; i < n; ++i) s += a[i] * b[i];
  for (int k = 0; k < 16; ++k) s += acc[k];
  return s;
}

EMBER_MULTIVERSION
float dot_q8_0(const void* w, const void* x, int64_t nb) {
  const BlockQ8_0* a = static_cast<const BlockQ8_0*>(w);
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);
  float s = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    int sum = 0;
    for (int k = 0; k < 32; ++k) sum += a[i].qs[k] * b[i].qs[k];
    s += f16_to_f32(a[i].d) * f16_to_f32(b[i].d) * static_cast<float>(sum);
  }
  return s;
}

EMBER_MULTIVERSION
float dot_q4_0(const void* w, const void* x, int64_t nb) {
  const BlockQ4_0* a = static_cast<const BlockQ4_0*>(w);
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);
  float s = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    int sum = 0;
    for (int k = 0; k < 16; ++k) {
      sum += ((a[i].qs[k] & 0x0f) - 8) * b[i].qs[k];
      sum += ((a[i].qs[k] >> 4) - 8) * b[i].qs[k + 16];
    }
    s += f16_to_f32(a[i].d) * f16_to_f32(b[i].d) * static_cast<float>(sum);
  }
  return s;
}

EMBER_MULTIVERSION
float dot_q4_k(const void* w, const void* x, int64_t nb) {
  const BlockQ4_K* a = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  float s = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    int sum_q = 0, sum_m = 0;
    const uint8_t* q = a[i].qs;
    const int8_t* y = b[i].qs;
    for (int c = 0; c < 4; ++c, q += 32, y += 64) {
      uint8_t sc0, m0, sc1, m1;
      q4_k_scale_min(a[i].scales, 2 * c, &sc0, &m0);
      q4_k_scale_min(a[i].scales, 2 * c + 1, &sc1, &m1);
      int lo = 0, hi = 0;
      for (int k = 0; k < 32; ++k) {
        lo += (q[k] & 0x0f) * y[k];
        hi += (q[k] >> 4) * y[k + 32];
      }
      sum_q += sc0 * lo + sc1 * hi;
      sum_m += m0 * (b[i].bsums[4 * c] + b[i].bsums[4 * c + 1]) + m1 * (b[i].bsums[4 * c + 2] + b[i].bsums[4 * c + 3]);
    }
    s += b[i].d * (f16_to_f32(a[i].d) * static_cast<float>(sum_q) - f16_to_f32(a[i].dmin) * static_cast<float>(sum_m));
  }
  return s;
}

EMBER_MULTIVERSION
float dot_q6_k(const void* w, const void* x, int64_t nb) {
  const BlockQ6_K* a = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  float s = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    int8_t q[256];
    const uint8_t* ql = a[i].ql;
    const uint8_t* qh = a[i].qh;
    for (int h = 0; h < 2; ++h, ql += 64, qh += 32) {
      int8_t* o = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        o[l] = static_cast<int8_t>(((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32);
        o[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32);
        o[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        o[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int sum = 0;
    for (int g = 0; g < 16; ++g) {
      int part = 0;
      for (int k = 0; k < 16; ++k) part += q[16 * g + k] * b[i].qs[16 * g + k];
      sum += a[i].scales[g] * part;
    }
    s += f16_to_f32(a[i].d) * b[i].d * static_cast<float>(sum);
  }
  return s;
}

DType activation_type(DType weight) {
  switch (weight) {
    case DType::kQ8_0:
    case DType::kQ4_0: return DType::kQ8_0;
    case DType::kQ4_K:
    case DType::kQ6_K: return DType::kQ8_K;
    default: return DType::kF32;
  }
}

void matmul(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool) {
  const int64_t K = w.cols, M = w.rows;
  const DType act = activation_type(w.dtype);
  const size_t w_row = row_bytes(w.dtype, K);
  const uint8_t* wb = static_cast<const uint8_t*>(w.data);

  if (act == DType::kF32) {
    pool.parallel_for(M, 16, [&](int64_t r0, int64_t r1) {
      std::vector<float> row(w.dtype == DType::kF32 ? 0 : K);
      for (int64_t r = r0; r < r1; ++r) {
        const float* wr = reinterpret_cast<const float*>(wb + r * w_row);
        if (w.dtype != DType::kF32) {
          dequantize_row(w.dtype, wb + r * w_row, row.data(), K);
          wr = row.data();
        }
        const float b = bias ? bias[r] : 0.0f;
        for (int64_t t = 0; t < n; ++t) y[t * M + r] = dot_f32(wr, x + t * K, K) + b;
      }
    });
    return;
  }

  // Quantize the activation rows once; every weight row reuses them.
  const size_t x_row = row_bytes(act, K);
  std::vector<uint8_t> xq(x_row * n);
  pool.parallel_for(n, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) quantize_row(act, x + t * K, xq.data() + t * x_row, K);
  });
  float (*dot)(const void*, const void*, int64_t) = nullptr;
  int64_t nb = K / 32;
  switch (w.dtype) {
    case DType::kQ8_0: dot = dot_q8_0; break;
    case DType::kQ4_0: dot = dot_q4_0; break;
    case DType::kQ4_K: dot = dot_q4_k; nb = K / 256; break;
    case DType::kQ6_K: dot = dot_q6_k; nb = K / 256; break;
    default: return;
  }
  pool.parallel_for(M, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float b = bias ? bias[r] : 0.0f;
      for (int64_t t = 0; t < n; ++t) y[t * M + r] = dot(wb + r * w_row, xq.data() + t * x_row, nb) + b;
    }
  });
}

}  // namespace ember::kernels::ref
