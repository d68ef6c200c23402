// embedding, rms_norm, rope_neox, silu_mul and add_inplace against their
// formulas evaluated in float64, on random non-zero inputs, odd sizes,
// aliased outputs and strided rows.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/ops.h"
#include "tensor/fp16.h"
#include "tensor/quant.h"

namespace ember::kernels {
namespace {

std::vector<float> randn(size_t n, std::mt19937& rng, float sigma = 1.0f) {
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) {
    do x = d(rng); while (x == 0.0f);
  }
  return v;
}

TEST(Embedding, EveryDtypeGivesTheDecodedRow) {
  std::mt19937 rng(1);
  const int64_t vocab = 37;
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K}) {
    SCOPED_TRACE(dtype_name(dt));
    const int64_t dim = is_quantized(dt) ? 512 : 67;
    const auto f = randn(static_cast<size_t>(vocab * dim), rng);
    const size_t row = row_bytes(dt, dim);
    std::vector<uint8_t> table(row * vocab);
    for (int64_t v = 0; v < vocab; ++v) quantize_row(dt, f.data() + v * dim, table.data() + v * row, dim);
    const std::vector<int32_t> ids = {0, 36, 5, 5, 17, 0, 35};
    std::vector<float> out(ids.size() * dim, NAN);
    embedding(dt, table.data(), dim, ids.data(), static_cast<int64_t>(ids.size()), out.data());
    for (size_t i = 0; i < ids.size(); ++i) {
      std::vector<float> want(dim);
      dequantize_row(dt, table.data() + ids[i] * row, want.data(), dim);
      for (int64_t k = 0; k < dim; ++k) {
        ASSERT_EQ(out[i * dim + k], want[k]) << "id " << ids[i] << " col " << k;
        // Float tables: the value itself, rounded by the table's dtype.
        const float src = f[ids[i] * dim + k];
        if (dt == DType::kF32) ASSERT_EQ(out[i * dim + k], src);
        if (dt == DType::kF16) ASSERT_EQ(out[i * dim + k], f16_to_f32(f32_to_f16(src)));
        if (dt == DType::kBF16) ASSERT_EQ(out[i * dim + k], bf16_to_f32(f32_to_bf16(src)));
      }
    }
  }
}

TEST(RmsNorm, MatchesTheFormula) {
  std::mt19937 rng(2);
  for (int64_t dim : {1, 7, 64, 129, 1536}) {
    for (float scale : {1e-3f, 1.0f, 300.0f}) {
      const int64_t n = 5;
      const auto x = randn(static_cast<size_t>(n * dim), rng, scale);
      const auto w = randn(static_cast<size_t>(dim), rng);
      const float eps = 1e-6f;
      std::vector<float> y(x.size(), NAN), in_place = x;
      rms_norm(x.data(), w.data(), n, dim, eps, y.data());
      rms_norm(in_place.data(), w.data(), n, dim, eps, in_place.data());  // y may alias x
      for (int64_t r = 0; r < n; ++r) {
        double ss = 0;
        for (int64_t i = 0; i < dim; ++i) ss += static_cast<double>(x[r * dim + i]) * x[r * dim + i];
        const double inv = 1.0 / std::sqrt(ss / dim + eps);
        for (int64_t i = 0; i < dim; ++i) {
          const double want = x[r * dim + i] * inv * w[i];
          ASSERT_NEAR(y[r * dim + i], want, 4e-7 * std::fabs(want) + 1e-30) << "dim " << dim << " row " << r;
          ASSERT_EQ(in_place[r * dim + i], y[r * dim + i]);
        }
      }
    }
  }
  // A zero row stays zero (eps keeps it finite).
  std::vector<float> z(8, 0.0f), w(8, 1.0f), out(8, NAN);
  rms_norm(z.data(), w.data(), 1, 8, 1e-6f, out.data());
  for (float v : out) EXPECT_EQ(v, 0.0f);
}

// NeoX rotation: within each head, value i and i + d/2 rotate together by
// pos · theta^(-2i/d).
void check_rope(int64_t n_heads, int64_t hd, int64_t stride, std::vector<int32_t> pos, float theta, std::mt19937& rng) {
  SCOPED_TRACE(::testing::Message() << "heads " << n_heads << " head_dim " << hd << " stride " << stride
                                    << " theta " << theta);
  const int64_t n = static_cast<int64_t>(pos.size());
  const auto x = randn(static_cast<size_t>(n * stride), rng);
  std::vector<float> y = x;
  rope_neox(y.data(), n, stride, n_heads, hd, pos.data(), theta);
  const int64_t half = hd / 2;
  for (int64_t t = 0; t < n; ++t) {
    // float32 holds the angle pos · f to about ulp(pos); allow twice that.
    const double angle_tol = 2.0 * std::max(1, pos[t]) * std::ldexp(1.0, -23) + 2e-6;
    for (int64_t h = 0; h < n_heads; ++h)
      for (int64_t i = 0; i < half; ++i) {
        const int64_t a = t * stride + h * hd + i, b = a + half;
        const double f = std::pow(static_cast<double>(theta), -2.0 * i / hd);
        const double ang = pos[t] * f;
        const double ya = x[a] * std::cos(ang) - x[b] * std::sin(ang);
        const double yb = x[a] * std::sin(ang) + x[b] * std::cos(ang);
        const double tol = (std::fabs(x[a]) + std::fabs(x[b])) * angle_tol;
        ASSERT_NEAR(y[a], ya, tol) << "token " << t << " head " << h << " i " << i;
        ASSERT_NEAR(y[b], yb, tol) << "token " << t << " head " << h << " i " << i + half;
      }
    // Columns past the heads (the rest of a fused row) are untouched.
    for (int64_t c = n_heads * hd; c < stride; ++c) ASSERT_EQ(y[t * stride + c], x[t * stride + c]);
  }
}

TEST(RopeNeox, MatchesTheFormula) {
  std::mt19937 rng(3);
  check_rope(1, 2, 2, {0, 1, 2}, 10000.0f, rng);
  check_rope(4, 32, 128, {0, 1, 7, 100}, 10000.0f, rng);
  check_rope(2, 128, 256, {5, 4095, 3, 0}, 10000.0f, rng);
  check_rope(3, 64, 3 * 64 + 2 * 64 + 2 * 64, {17, 2, 999}, 1000000.0f, rng);  // q part of a fused qkv row
  check_rope(2, 256, 512, {32767, 1}, 10000.0f, rng);
  check_rope(12, 128, 1536, {131071}, 10000.0f, rng);
}

// Regression: rope_neox once kept its frequency tables in stack arrays of
// 512 floats, so head_dim > 1024 (no current model has one, but nothing
// rejects it) wrote past them (fixed in 844740f).
TEST(RopeNeox, HeadDimAbove1024) {
  std::mt19937 rng(4);
  check_rope(1, 2048, 2048, {3}, 10000.0f, rng);
}

TEST(SiluMul, MatchesTheFormula) {
  std::mt19937 rng(5);
  for (int64_t n : {1, 3, 17, 1000}) {
    auto g = randn(static_cast<size_t>(n), rng, 4.0f);
    const auto u = randn(static_cast<size_t>(n), rng);
    if (n == 1000) {  // saturating inputs
      g[0] = -1000.0f;
      g[1] = 1000.0f;
      g[2] = -88.0f;
      g[3] = 89.0f;
    }
    std::vector<float> out(n, NAN), aliased = g;
    silu_mul(g.data(), u.data(), n, out.data());
    silu_mul(aliased.data(), u.data(), n, aliased.data());  // out may alias gate
    for (int64_t i = 0; i < n; ++i) {
      const double want = g[i] / (1.0 + std::exp(-static_cast<double>(g[i]))) * u[i];
      ASSERT_TRUE(std::isfinite(out[i])) << g[i];
      ASSERT_NEAR(out[i], want, 4e-7 * std::fabs(want) + 1e-37) << "gate " << g[i];
      ASSERT_EQ(aliased[i], out[i]);
    }
  }
}

TEST(AddInplace, AddsElementwise) {
  std::mt19937 rng(6);
  auto x = randn(33, rng);
  const auto y = randn(33, rng);
  const auto x0 = x;
  add_inplace(x.data(), y.data(), 33);
  for (int i = 0; i < 33; ++i) EXPECT_EQ(x[i], x0[i] + y[i]);
}

}  // namespace
}  // namespace ember::kernels
