#include "tensor/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/fp16.h"

namespace ember {
namespace {

inline int nearest_int(float x) { return static_cast<int>(std::lrintf(x)); }

// --- Q8_0 / Q4_0 ---------------------------------------------------------

void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 32) {
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    for (int i = 0; i < 32; ++i) y[b].qs[i] = static_cast<int8_t>(nearest_int(x[i] * id));
  }
}

void dequantize_q8_0(const BlockQ8_0* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b) {
    const float d = f16_to_f32(x[b].d);
    for (int i = 0; i < 32; ++i) *y++ = d * x[b].qs[i];
  }
}

void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 32) {
    // The value of largest magnitude maps to -8 so its sign uses the longer side.
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < 32; ++i)
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        max = x[i];
      }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    for (int i = 0; i < 16; ++i) {
      const int q0 = std::min(15, static_cast<int>(x[i] * id + 8.5f));
      const int q1 = std::min(15, static_cast<int>(x[i + 16] * id + 8.5f));
      y[b].qs[i] = static_cast<uint8_t>(std::max(0, q0) | (std::max(0, q1) << 4));
    }
  }
}

void dequantize_q4_0(const BlockQ4_0* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += 32) {
    const float d = f16_to_f32(x[b].d);
    for (int i = 0; i < 16; ++i) {
      y[i] = d * ((x[b].qs[i] & 0x0f) - 8);
      y[i + 16] = d * ((x[b].qs[i] >> 4) - 8);
    }
  }
}

// --- Q4_K ----------------------------------------------------------------

// Fits x[0..n) ~ scale * q - min with q in [0, nmax], min >= 0, trying a few
// scales around the range-based one and keeping the lowest squared error.
void fit_scale_min(const float* x, int n, int nmax, float* scale, float* min) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  lo = std::min(lo, 0.0f);
  if (hi <= lo) {
    *scale = 0.0f;
    *min = -lo;
    return;
  }
  float best_err = INFINITY, best_s = (hi - lo) / nmax, best_m = -lo;
  for (int step = -4; step <= 4; ++step) {
    const float s = (hi - lo) / (nmax + 0.1f * step);
    if (s <= 0.0f) continue;
    // Least-squares refit of scale and offset for the rounded codes.
    float sum_q = 0, sum_q2 = 0, sum_x = 0, sum_qx = 0;
    int q[256];
    for (int i = 0; i < n; ++i) {
      q[i] = std::clamp(nearest_int((x[i] - lo) / s), 0, nmax);
      sum_q += q[i];
      sum_q2 += static_cast<float>(q[i]) * q[i];
      sum_x += x[i];
      sum_qx += q[i] * x[i];
    }
    const float det = n * sum_q2 - sum_q * sum_q;
    float fs = s, fo = lo;
    if (det > 0) {
      fs = (n * sum_qx - sum_q * sum_x) / det;
      fo = (sum_q2 * sum_x - sum_q * sum_qx) / det;
    }
    if (fo > 0.0f || fs <= 0.0f) {
      fs = s;
      fo = lo;
    }
    float err = 0;
    for (int i = 0; i < n; ++i) {
      const float d = fs * q[i] + fo - x[i];
      err += d * d;
    }
    if (err < best_err) {
      best_err = err;
      best_s = fs;
      best_m = -fo;
    }
  }
  *scale = best_s;
  *min = best_m;
}

void quantize_q4_k(const float* x, BlockQ4_K* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 256) {
    float scales[8], mins[8];
    for (int j = 0; j < 8; ++j) fit_scale_min(x + 32 * j, 32, 15, &scales[j], &mins[j]);
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 8; ++j) {
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
      ls[j] = static_cast<uint8_t>(std::min(63, nearest_int(inv_scale * scales[j])));
      lm[j] = static_cast<uint8_t>(std::min(63, nearest_int(inv_min * mins[j])));
    }
    std::memset(y[b].scales, 0, 12);
    for (int j = 0; j < 8; ++j) {
      if (j < 4) {
        y[b].scales[j] = ls[j];
        y[b].scales[j + 4] = lm[j];
      } else {
        y[b].scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xf) | ((lm[j] & 0xf) << 4));
        y[b].scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
        y[b].scales[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
      }
    }
    y[b].d = f32_to_f16(max_scale / 63.0f);
    y[b].dmin = f32_to_f16(max_min / 63.0f);
    const float d = f16_to_f32(y[b].d), dmin = f16_to_f32(y[b].dmin);
    uint8_t q[256];
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      q4_k_scale_min(y[b].scales, j, &sc, &m);
      const float ds = d * sc, dm = dmin * m;
      for (int i = 0; i < 32; ++i) {
        const int v = ds != 0.0f ? nearest_int((x[32 * j + i] + dm) / ds) : 0;
        q[32 * j + i] = static_cast<uint8_t>(std::clamp(v, 0, 15));
      }
    }
    for (int c = 0; c < 4; ++c)  // 64 values per 32 bytes: low nibbles then high nibbles
      for (int i = 0; i < 32; ++i)
        y[b].qs[32 * c + i] = static_cast<uint8_t>(q[64 * c + i] | (q[64 * c + 32 + i] << 4));
  }
}

void dequantize_q4_k(const BlockQ4_K* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b) {
    const float d = f16_to_f32(x[b].d), dmin = f16_to_f32(x[b].dmin);
    const uint8_t* q = x[b].qs;
    for (int c = 0; c < 4; ++c, q += 32) {
      uint8_t sc, m;
      q4_k_scale_min(x[b].scales, 2 * c, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      q4_k_scale_min(x[b].scales, 2 * c + 1, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int i = 0; i < 32; ++i) *y++ = d1 * (q[i] & 0xf) - m1;
      for (int i = 0; i < 32; ++i) *y++ = d2 * (q[i] >> 4) - m2;
    }
  }
}

// --- Q6_K ----------------------------------------------------------------

void quantize_q6_k(const float* x, BlockQ6_K* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 256) {
    float scales[16];
    float max_abs_scale = 0.0f, max_scale = 0.0f;
    for (int j = 0; j < 16; ++j) {
      // Signed extreme maps to -32 (the longer side of [-32, 31]).
      float amax = 0.0f, extreme = 0.0f;
      for (int i = 0; i < 16; ++i)
        if (std::fabs(x[16 * j + i]) > amax) {
          amax = std::fabs(x[16 * j + i]);
          extreme = x[16 * j + i];
        }
      scales[j] = extreme / -32.0f;
      if (std::fabs(scales[j]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    const float iscale = max_scale != 0.0f ? -128.0f / max_scale : 0.0f;
    y[b].d = f32_to_f16(max_scale != 0.0f ? 1.0f / iscale : 0.0f);
    const float d = f16_to_f32(y[b].d);
    int8_t q[256];
    for (int j = 0; j < 16; ++j) {
      y[b].scales[j] = static_cast<int8_t>(std::clamp(nearest_int(iscale * scales[j]), -128, 127));
      const float ds = d * y[b].scales[j];
      for (int i = 0; i < 16; ++i) {
        const int v = ds != 0.0f ? nearest_int(x[16 * j + i] / ds) : 0;
        q[16 * j + i] = static_cast<int8_t>(std::clamp(v, -32, 31) + 32);
      }
    }
    std::memset(y[b].qh, 0, 64);
    for (int h = 0; h < 2; ++h) {  // two halves of 128 values
      uint8_t* ql = y[b].ql + 64 * h;
      uint8_t* qh = y[b].qh + 32 * h;
      const int8_t* qq = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = qq[l], q2 = qq[l + 32], q3 = qq[l + 64], q4 = qq[l + 96];
        ql[l] = static_cast<uint8_t>((q1 & 0xf) | ((q3 & 0xf) << 4));
        ql[l + 32] = static_cast<uint8_t>((q2 & 0xf) | ((q4 & 0xf) << 4));
        qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
}

void dequantize_q6_k(const BlockQ6_K* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b) {
    const float d = f16_to_f32(x[b].d);
    const uint8_t* ql = x[b].ql;
    const uint8_t* qh = x[b].qh;
    const int8_t* sc = x[b].scales;
    for (int h = 0; h < 2; ++h, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * sc[is + 0] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

// --- Q8_K ----------------------------------------------------------------

void quantize_q8_k(const float* x, BlockQ8_K* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += 256) {
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < 256; ++i)
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        max = x[i];
      }
    if (amax == 0.0f) {
      std::memset(&y[b], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int i = 0; i < 256; ++i) y[b].qs[i] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[i])));
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += y[b].qs[16 * g + i];
      y[b].bsums[g] = static_cast<int16_t>(sum);
    }
    y[b].d = 1.0f / iscale;
  }
}

void dequantize_q8_k(const BlockQ8_K* x, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b)
    for (int i = 0; i < 256; ++i) *y++ = x[b].d * x[b].qs[i];
}

}  // namespace

void q4_k_scale_min(const uint8_t* q, int j, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  switch (t) {
    case DType::kF32: std::memcpy(dst, src, n * sizeof(float)); break;
    case DType::kF16: {
      const uint16_t* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32_branchless(s[i]);
      break;
    }
    case DType::kBF16: {
      const uint16_t* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      break;
    }
    case DType::kQ8_0: dequantize_q8_0(static_cast<const BlockQ8_0*>(src), dst, n / 32); break;
    case DType::kQ4_0: dequantize_q4_0(static_cast<const BlockQ4_0*>(src), dst, n / 32); break;
    case DType::kQ4_K: dequantize_q4_k(static_cast<const BlockQ4_K*>(src), dst, n / 256); break;
    case DType::kQ6_K: dequantize_q6_k(static_cast<const BlockQ6_K*>(src), dst, n / 256); break;
    case DType::kQ8_K: dequantize_q8_k(static_cast<const BlockQ8_K*>(src), dst, n / 256); break;
    default: std::fill_n(dst, n, NAN); break;  // callers check dtype_info().supported first
  }
}

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  switch (t) {
    case DType::kF32: std::memcpy(dst, src, n * sizeof(float)); break;
    case DType::kF16: {
      uint16_t* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_f16(src[i]);
      break;
    }
    case DType::kBF16: {
      uint16_t* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
      break;
    }
    case DType::kQ8_0: quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), n / 32); break;
    case DType::kQ4_0: quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), n / 32); break;
    case DType::kQ4_K: quantize_q4_k(src, static_cast<BlockQ4_K*>(dst), n / 256); break;
    case DType::kQ6_K: quantize_q6_k(src, static_cast<BlockQ6_K*>(dst), n / 256); break;
    case DType::kQ8_K: quantize_q8_k(src, static_cast<BlockQ8_K*>(dst), n / 256); break;
    default: break;
  }
}

}  // namespace ember
