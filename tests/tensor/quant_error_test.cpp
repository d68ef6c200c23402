// quantize_row → dequantize_row error bounds on random data, derived from
// each format: Q8_0 and Q4_0 per value (half a step, plus the f16 rounding
// of the block scale, plus Q4_0's one clamped code), the K formats by their
// relative RMS error on Gaussian data, and for every format: no NaN or Inf
// from finite input, zeros stay zeros, and never worse than dropping a block.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tensor/fp16.h"
#include "tensor/quant.h"

namespace ember {
namespace {

std::vector<float> round_trip(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_bytes(t, static_cast<int64_t>(x.size())));
  quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
  std::vector<float> y(x.size());
  dequantize_row(t, q.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

double rel_rms(const std::vector<float>& x, const std::vector<float>& y) {
  double e = 0, s = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    e += (static_cast<double>(y[i]) - x[i]) * (static_cast<double>(y[i]) - x[i]);
    s += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(e / s);
}

std::vector<float> gaussian(size_t n, float sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> x(n);
  for (auto& v : x) v = d(rng);
  return x;
}

// A mix of shapes of data a weight row can have, in blocks of 256.
std::vector<std::vector<float>> data_sets() {
  std::vector<std::vector<float>> sets;
  sets.push_back(gaussian(256 * 64, 0.05f, 1));
  sets.push_back(gaussian(256 * 16, 3.0f, 2));
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> uni(256 * 16), pos(256 * 8), neg(256 * 8), outliers(256 * 8), tiny(256 * 4), mixed(256 * 8);
  for (auto& v : uni) v = u(rng);
  for (auto& v : pos) v = 0.5f + std::fabs(u(rng));
  for (auto& v : neg) v = -0.5f - std::fabs(u(rng));
  for (size_t i = 0; i < outliers.size(); ++i) outliers[i] = (i % 97 == 0) ? 40.0f * u(rng) : 0.01f * u(rng);
  for (auto& v : tiny) v = 1e-6f * u(rng);
  // Blocks of very different magnitude next to each other.
  for (size_t i = 0; i < mixed.size(); ++i) mixed[i] = u(rng) * std::pow(10.0f, static_cast<float>(i / 32 % 5) - 2);
  for (auto* s : {&uni, &pos, &neg, &outliers, &tiny, &mixed}) sets.push_back(*s);
  return sets;
}

const DType kQuantTypes[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K, DType::kQ8_K};

TEST(QuantError, Q8_0WithinHalfAStepPerValue) {
  for (const auto& x : data_sets()) {
    std::vector<uint8_t> q(row_bytes(DType::kQ8_0, static_cast<int64_t>(x.size())));
    quantize_row(DType::kQ8_0, x.data(), q.data(), static_cast<int64_t>(x.size()));
    const auto y = round_trip(DType::kQ8_0, x);
    for (size_t b = 0; b < x.size() / 32; ++b) {
      float amax = 0;
      for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[32 * b + i]));
      const double d = amax / 127.0;  // the format's step
      uint16_t h;
      std::memcpy(&h, q.data() + 34 * b, 2);
      const double d16 = f16_to_f32(h);
      const double bound = d / 2 + 127 * std::fabs(d16 - d) + 1e-6 * amax;
      for (int i = 0; i < 32; ++i)
        ASSERT_LE(std::fabs(static_cast<double>(y[32 * b + i]) - x[32 * b + i]), bound) << "block " << b << " value " << i;
    }
  }
  EXPECT_LT(rel_rms(gaussian(1 << 16, 1.0f, 9), round_trip(DType::kQ8_0, gaussian(1 << 16, 1.0f, 9))), 0.008);
}

TEST(QuantError, Q4_0WithinOneStepPerValue) {
  for (const auto& x : data_sets()) {
    std::vector<uint8_t> q(row_bytes(DType::kQ4_0, static_cast<int64_t>(x.size())));
    quantize_row(DType::kQ4_0, x.data(), q.data(), static_cast<int64_t>(x.size()));
    const auto y = round_trip(DType::kQ4_0, x);
    for (size_t b = 0; b < x.size() / 32; ++b) {
      float amax = 0;
      for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[32 * b + i]));
      const double d = amax / 8.0;  // |step|; the extreme maps to code 0 (-8 steps)
      uint16_t h;
      std::memcpy(&h, q.data() + 18 * b, 2);
      const double d16 = std::fabs(f16_to_f32(h));
      // Half a step, except values beyond +7.5 steps that clamp to code 15: one step.
      const double bound = d + 8 * std::fabs(d16 - d) + 1e-6 * amax;
      int over_half = 0;
      for (int i = 0; i < 32; ++i) {
        const double e = std::fabs(static_cast<double>(y[32 * b + i]) - x[32 * b + i]);
        ASSERT_LE(e, bound) << "block " << b << " value " << i;
        over_half += e > d / 2 + 8 * std::fabs(d16 - d) + 1e-6 * amax;
      }
      // Only values within half a step of the far end (x / step in (7.5, 8]) clamp.
      for (int i = 0; i < 32 && over_half; ++i) {
        const double r = std::fabs(x[32 * b + i]) / d;
        if (r > 7.5) --over_half;
      }
      EXPECT_LE(over_half, 0) << "block " << b;
    }
  }
  EXPECT_LT(rel_rms(gaussian(1 << 16, 1.0f, 9), round_trip(DType::kQ4_0, gaussian(1 << 16, 1.0f, 9))), 0.12);
}

// Relative RMS error on Gaussian data. Expected from the step sizes: Q6_K
// 64 levels over ±amax of 16 values (≈ 2σ): step/√12 ≈ 1.8% of σ; Q4_K
// 16 levels over the range of 32 values (≈ 4.2σ): ≈ 8%; Q8_K 255 levels over
// ±amax of 256 values (≈ 3σ): ≈ 0.7%.
TEST(QuantError, KFormatsRelativeRmsOnGaussianData) {
  for (uint32_t seed : {11u, 12u, 13u}) {
    for (float sigma : {0.05f, 1.0f, 100.0f}) {
      const auto x = gaussian(256 * 256, sigma, seed);
      EXPECT_LT(rel_rms(x, round_trip(DType::kQ6_K, x)), 0.03) << sigma;
      EXPECT_LT(rel_rms(x, round_trip(DType::kQ4_K, x)), 0.10) << sigma;
      EXPECT_LT(rel_rms(x, round_trip(DType::kQ8_K, x)), 0.01) << sigma;
    }
  }
}

TEST(QuantError, KFormatsOnOtherShapesOfData) {
  // Not Gaussian: per-value bounds from each format's resolution.
  // Q4_K: a sub-block of 32 gets 15 steps over its [min, max] (one step
  // allowed, as the least-squares fit may move the range by half a step);
  // its 6-bit scale and min are rounded to steps of 1/63 of the block's
  // largest (≤ 2·amax/15 and ≤ amax): ≤ 15·(d/2) + dmin/2 ≈ amax/59 + amax/126.
  // Q6_K: 16 values get 32 steps over [0, amax] (one step where the far side
  // clamps at +31); the 8-bit scales round to 1/128 of the largest: ≤ 32·d/2.
  // Both: the f16 super-block scales have an absolute resolution of 2^-25.
  const double f16_abs = std::ldexp(1.0, -25);
  for (const auto& x : data_sets()) {
    const auto y4 = round_trip(DType::kQ4_K, x), y6 = round_trip(DType::kQ6_K, x);
    for (size_t s = 0; s < x.size() / 32; ++s) {
      float lo = 0, hi = 0, amax = 0, block_amax = 0;
      for (int i = 0; i < 32; ++i) {
        lo = std::min(lo, x[32 * s + i]);
        hi = std::max(hi, x[32 * s + i]);
        amax = std::max(amax, std::fabs(x[32 * s + i]));
      }
      const size_t b0 = s / 8 * 256;
      for (int i = 0; i < 256; ++i) block_amax = std::max(block_amax, std::fabs(x[b0 + i]));
      const double e4 = (hi - lo) / 15.0 + block_amax / 40.0 + (63 * 15 + 63) * f16_abs;
      const double e6 = amax / 32.0 + block_amax / 200.0 + 128 * 32 * f16_abs;
      for (int i = 0; i < 32; ++i) {
        ASSERT_LE(std::fabs(y4[32 * s + i] - x[32 * s + i]), e4) << "q4_k sub-block " << s << " value " << i;
        ASSERT_LE(std::fabs(y6[32 * s + i] - x[32 * s + i]), e6) << "q6_k sub-block " << s << " value " << i;
      }
    }
  }
}

TEST(QuantError, EveryFormatIsFiniteAndKeepsZeros) {
  std::vector<float> zeros(512, 0.0f), constant(512, 0.75f), neg_constant(512, -2.5f);
  std::vector<float> one_hot(512, 0.0f);
  one_hot[77] = 3.0f;
  one_hot[300] = -1e-3f;
  for (DType t : kQuantTypes) {
    SCOPED_TRACE(dtype_name(t));
    for (float v : round_trip(t, zeros)) ASSERT_EQ(v, 0.0f);
    for (const auto* x : {&constant, &neg_constant, &one_hot}) {
      const auto y = round_trip(t, *x);
      for (size_t i = 0; i < x->size(); ++i) {
        ASSERT_TRUE(std::isfinite(y[i])) << i;
        // Never worse than writing zeros for the block.
        ASSERT_LE(std::fabs(y[i] - (*x)[i]), std::fabs((*x)[i]) * 1.001f + 1e-3f) << i;
      }
    }
    EXPECT_LT(rel_rms(constant, round_trip(t, constant)), 0.02);
    EXPECT_NEAR(round_trip(t, one_hot)[77], 3.0f, 3.0f * 0.01f);
    for (const auto& x : data_sets()) {
      const auto y = round_trip(t, x);
      for (size_t i = 0; i < x.size(); ++i) ASSERT_TRUE(std::isfinite(y[i])) << i;
    }
  }
}

TEST(QuantError, Q8_0IsIdempotent) {
  // Decoded values are exactly representable: encoding them again gives the
  // same bytes (the block's extreme is ±127 steps, so the scale comes back).
  const auto x = gaussian(32 * 200, 1.0f, 5);
  std::vector<uint8_t> q1(row_bytes(DType::kQ8_0, 32 * 200)), q2(q1.size());
  quantize_row(DType::kQ8_0, x.data(), q1.data(), 32 * 200);
  std::vector<float> y(x.size());
  dequantize_row(DType::kQ8_0, q1.data(), y.data(), 32 * 200);
  quantize_row(DType::kQ8_0, y.data(), q2.data(), 32 * 200);
  EXPECT_EQ(q1, q2);
}

}  // namespace
}  // namespace ember
