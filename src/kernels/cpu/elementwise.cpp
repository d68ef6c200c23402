// Implementations of the cheap per-element ops. They are a small share of a
// step's time; the compiler vectorizes the simple loops, and SwiGLU, whose
// exp the compiler cannot vectorize, has an AVX2 version (attention_avx2.cpp).
#include <cmath>
#include <vector>

#include "kernels/cpu/attention_avx2.h"
#include "kernels/isa.h"
#include "kernels/ops.h"

namespace ember::kernels {

void rms_norm(const float* x, const float* weight, int64_t n, int64_t dim, float eps, float* y) {
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    double sum = 0.0;
    for (int64_t i = 0; i < dim; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float inv = 1.0f / std::sqrt(static_cast<float>(sum / dim) + eps);
    for (int64_t i = 0; i < dim; ++i) yr[i] = xr[i] * inv * weight[i];
  }
}

void rope_neox(float* x, int64_t n_tokens, int64_t row_stride, int64_t n_heads, int64_t head_dim,
               const int32_t* positions, float theta) {
  const int64_t half = head_dim / 2;
  // inv_freq[i] = theta^(-2i/head_dim), computed once per call.
  std::vector<float> inv_freq(half), cs(half), sn(half);
  for (int64_t i = 0; i < half; ++i)
    inv_freq[i] = std::pow(theta, -2.0f * static_cast<float>(i) / static_cast<float>(head_dim));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float pos = static_cast<float>(positions[t]);
    for (int64_t i = 0; i < half; ++i) {
      const float a = pos * inv_freq[i];
      cs[i] = std::cos(a);
      sn[i] = std::sin(a);
    }
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + t * row_stride + h * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * cs[i] - b * sn[i];
        v[i + half] = a * sn[i] + b * cs[i];
      }
    }
  }
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  if (active_isa() != Isa::kGeneric) return avx2::silu_mul(gate, up, n, out);
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add_inplace(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace ember::kernels
