// kernels::matmul for every weight dtype on every ISA this CPU runs,
// against two references:
//  - ref::matmul, the scalar path: the int8-activation kernels do the same
//    integer math, so they must agree to 1e-5 of Σ|w·x| (float paths: to the
//    float32 summation error of two different orders);
//  - a float64 dot of the dequantized weights with the f32 activations,
//    computed here: the int8-activation paths must stay within the error of
//    quantizing the activations (worst case per output, and on average no
//    more than the rounding-error model predicts), float paths within the
//    float32 summation error.
// Random non-zero inputs; weights both encoded from random floats and made of
// random block bytes (every scale / code pattern, incl. Q8_0 code -128); odd
// token counts (1, 3, 5, 17, 70: partial tiles and more than one token
// chunk), row counts with and without a multiple of 4 or 8 (the AVX-512
// layouts group 4 rows, the AVX2 ones 8 with the rest plain; 40 = an odd
// number of groups of 8, which the AVX2 BF16 tiles take two at a time), with
// and without bias, 1 to 3 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/matmul_reference.h"
#include "kernels/isa.h"
#include "kernels/ops.h"
#include "tensor/fp16.h"
#include "tensor/quant.h"

namespace ember::kernels {
namespace {

constexpr double kU = 1.0 / (1 << 24);  // float32 unit roundoff

const Isa kIsas[] = {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512};

// Restores the CPU's best ISA when a test ends.
struct IsaGuard {
  ~IsaGuard() { set_active_isa(detect_isa()); }
};

struct Weight {
  DType dtype;
  int64_t rows, cols;
  std::vector<uint8_t> bytes;   // GGUF row layout
  std::vector<double> deq;      // [rows, cols], decoded
};

uint16_t random_half(std::mt19937& rng, float lo, float hi) {
  return f32_to_f16(std::uniform_real_distribution<float>(lo, hi)(rng));
}

// Random block bytes: every code and scale pattern the layout allows, with
// the f16 super-scales kept in a realistic range.
void randomize_blocks(Weight& w, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : w.bytes) b = static_cast<uint8_t>(byte(rng));
  const DTypeInfo& info = dtype_info(w.dtype);
  const size_t nblocks = w.bytes.size() / info.block_bytes;
  for (size_t i = 0; i < nblocks; ++i) {
    uint8_t* blk = w.bytes.data() + i * info.block_bytes;
    uint16_t h;
    switch (w.dtype) {
      case DType::kQ8_0: case DType::kQ4_0:
        h = random_half(rng, -0.02f, 0.02f);
        std::memcpy(blk, &h, 2);
        break;
      case DType::kQ4_K:
        h = random_half(rng, 0.0f, 0.004f);
        std::memcpy(blk, &h, 2);
        h = random_half(rng, 0.0f, 0.004f);
        std::memcpy(blk + 2, &h, 2);
        break;
      case DType::kQ6_K:
        h = random_half(rng, -0.002f, 0.002f);
        std::memcpy(blk + 208, &h, 2);
        break;
      default: break;
    }
  }
}

Weight make_weight(DType dt, int64_t rows, int64_t cols, bool random_bytes, std::mt19937& rng) {
  Weight w{dt, rows, cols, std::vector<uint8_t>(row_bytes(dt, cols) * rows), std::vector<double>(rows * cols)};
  if (random_bytes && is_quantized(dt)) {
    randomize_blocks(w, rng);
  } else {
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::vector<float> f(cols);
    for (int64_t r = 0; r < rows; ++r) {
      for (auto& v : f) v = normal(rng);
      quantize_row(dt, f.data(), w.bytes.data() + r * row_bytes(dt, cols), cols);
    }
  }
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(dt, w.bytes.data() + r * row_bytes(dt, cols), row.data(), cols);
    for (int64_t k = 0; k < cols; ++k) w.deq[r * cols + k] = row[k];
  }
  return w;
}

std::vector<float> random_activations(int64_t n, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n * cols);
  for (auto& v : x) {
    do v = normal(rng); while (v == 0.0f);
  }
  return x;
}

// Per-value bound and variance of the activation quantization error the
// kernels' int8 formats allow: Q8_0 activations (blocks of 32, f16 scale)
// for Q8_0/Q4_0 weights, Q8_K (blocks of 256, f32 scale) for Q4_K/Q6_K.
void activation_error(DType weight, const float* x, int64_t cols, std::vector<double>& bound,
                      std::vector<double>& var) {
  bound.assign(cols, 0.0);
  var.assign(cols, 0.0);
  const DType act = ref::activation_type(weight);
  if (act == DType::kF32) return;
  const int64_t block = act == DType::kQ8_0 ? 32 : 256;
  for (int64_t b = 0; b < cols; b += block) {
    double amax = 0;
    for (int64_t k = b; k < b + block; ++k) amax = std::max(amax, std::fabs(static_cast<double>(x[k])));
    const double d = amax / 127.0;
    double e = d / 2 + 4 * kU * amax;
    if (act == DType::kQ8_0) e += 127 * std::fabs(f16_to_f32(f32_to_f16(static_cast<float>(d))) - d);
    for (int64_t k = b; k < b + block; ++k) {
      bound[k] = e;
      var[k] = d * d / 12;
    }
  }
}

struct Stats {
  double err2 = 0, predicted_var = 0;
  int cases = 0;
};

// One shape: every ISA against ref::matmul and the float64 dot.
void check_case(const Weight& w, int64_t n, bool with_bias, ThreadPool& pool, std::mt19937& rng, Stats& stats) {
  const int64_t M = w.rows, K = w.cols;
  SCOPED_TRACE(::testing::Message() << dtype_name(w.dtype) << " rows " << M << " cols " << K << " tokens " << n
                                    << (with_bias ? " bias" : "") << " threads " << pool.size());
  const auto x = random_activations(n, K, rng);
  std::vector<float> bias(M);
  for (auto& b : bias) b = std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng);
  const float* bp = with_bias ? bias.data() : nullptr;

  // float64 reference, and the scale Σ|w·x| of each output.
  std::vector<double> y64(n * M), scale(n * M), bound(n * M), var(n * M);
  std::vector<double> xb, xv;
  for (int64_t t = 0; t < n; ++t) {
    activation_error(w.dtype, x.data() + t * K, K, xb, xv);
    for (int64_t r = 0; r < M; ++r) {
      double s = 0, a = 0, eb = 0, ev = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double wk = w.deq[r * K + k];
        s += wk * x[t * K + k];
        a += std::fabs(wk * x[t * K + k]);
        eb += std::fabs(wk) * xb[k];
        ev += wk * wk * xv[k];
      }
      y64[t * M + r] = s + (bp ? bp[r] : 0.0);
      scale[t * M + r] = a + (bp ? std::fabs(bp[r]) : 0.0);
      bound[t * M + r] = eb + 4 * K * kU * (a + eb) + 2 * kU * scale[t * M + r];
      var[t * M + r] = ev;
    }
  }

  PackedWeight plain;  // the GGUF rows as they are, for ref::matmul
  plain.dtype = w.dtype;
  plain.rows = M;
  plain.cols = K;
  plain.data = w.bytes.data();
  std::vector<float> yref(n * M, NAN);
  ref::matmul(plain, x.data(), n, bp, yref.data(), pool);
  const bool int8 = ref::activation_type(w.dtype) != DType::kF32;
  for (int64_t i = 0; i < n * M; ++i) {
    ASSERT_TRUE(std::isfinite(yref[i])) << i;
    ASSERT_LE(std::fabs(yref[i] - y64[i]), bound[i]) << "ref::matmul vs float64, output " << i;
  }

  for (Isa isa : kIsas) {
    if (!set_active_isa(isa)) continue;
    SCOPED_TRACE(isa_name(isa));
    auto packed = pack_weight(w.dtype, w.bytes.data(), M, K);
    ASSERT_TRUE(packed.ok()) << packed.status().to_string();
    std::vector<float> y(n * M, NAN);
    matmul(*packed, x.data(), n, bp, y.data(), pool);
    for (int64_t i = 0; i < n * M; ++i) {
      const double vs_ref = int8 ? 1e-5 * scale[i] : 4 * K * kU * scale[i] + 1e-30;
      ASSERT_LE(std::fabs(static_cast<double>(y[i]) - yref[i]), vs_ref)
          << "vs ref::matmul at token " << i / M << " row " << i % M << ": " << y[i] << " vs " << yref[i];
      ASSERT_LE(std::fabs(y[i] - y64[i]), bound[i])
          << "vs float64 at token " << i / M << " row " << i % M << ": " << y[i] << " vs " << y64[i];
      stats.err2 += (y[i] - y64[i]) * (y[i] - y64[i]);
      stats.predicted_var += var[i];
    }
  }
  ++stats.cases;
}

void run_dtype(DType dt, const std::vector<int64_t>& cols_list) {
  IsaGuard guard;
  std::mt19937 rng(static_cast<uint32_t>(dt) * 7919 + 1);
  ThreadPool p1(1), p2(2), p3(3);
  ThreadPool* pools[] = {&p1, &p2, &p3};
  Stats stats;
  int i = 0;
  for (bool random_bytes : {false, true}) {
    if (random_bytes && !is_quantized(dt)) continue;
    for (int64_t K : cols_list)
      for (int64_t M : {1, 4, 7, 37, 40, 68}) {
        const Weight w = make_weight(dt, M, K, random_bytes, rng);
        for (int64_t n : {1, 3, 5, 17, 70}) {
          check_case(w, n, i % 2 == 1, *pools[i % 3], rng, stats);
          ++i;
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
  }
  if (ref::activation_type(dt) != DType::kF32) {
    // All outputs together: the error is the activation rounding, not more.
    const double ratio = stats.err2 / stats.predicted_var;
    std::printf("  %s: %d cases, mean squared error / predicted by activation rounding = %.3f\n",
                std::string(dtype_name(dt)).c_str(), stats.cases, ratio);
    EXPECT_LT(ratio, 2.0);
    EXPECT_GT(ratio, 0.2);  // the kernels do quantize the activations
  }
}

TEST(Matmul, F32) { run_dtype(DType::kF32, {8, 64, 136}); }
TEST(Matmul, F16) { run_dtype(DType::kF16, {8, 64, 136}); }
TEST(Matmul, BF16) { run_dtype(DType::kBF16, {8, 64, 136}); }
// Rows longer than the AVX2 BF16 kernel's K-block (512), with a partial last one.
TEST(Matmul, BF16LongRows) { run_dtype(DType::kBF16, {1288}); }
TEST(Matmul, Q8_0) { run_dtype(DType::kQ8_0, {32, 96, 288}); }
TEST(Matmul, Q4_0) { run_dtype(DType::kQ4_0, {32, 96, 288}); }
TEST(Matmul, Q4_K) { run_dtype(DType::kQ4_K, {256, 768}); }
TEST(Matmul, Q6_K) { run_dtype(DType::kQ6_K, {256, 768}); }

// Float weights may have any number of columns (their block size is 1), and
// pack_weight accepts them; the SIMD paths step through columns 8 at a time.
// Regression: tile_float in matmul_simd.inc once loaded 8 columns past the
// end of a row whose length is not a multiple of 8 (f32 rows 1 cols 1 tokens
// 1 on avx2: 3.5507 vs ref -0.0065; a heap overflow on the last row), fixed
// in 844740f.
TEST(Matmul, FloatWeightsWithColumnsNotAMultipleOf8) {
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) run_dtype(dt, {1, 3, 70});
}

// matmul_shared_input on sets of weights with one input, as q/k/v and
// gate/up call it: each output the same, bit for bit, as matmul on its
// weight alone (which the tests above hold to the references), and within
// the int8 tolerance of ref::matmul. Sets the AVX2 path fuses (Q4_K with
// Q6_K, Q8_0 pairs, BF16 pairs, an odd group count, with and without bias)
// and sets it must hand back to plain matmul (a tail of rows, activation
// formats that differ).
TEST(Matmul, SharedInputMatchesSeparateProducts) {
  IsaGuard guard;
  std::mt19937 rng(4242);
  ThreadPool p1(1), p2(2), p3(3);
  ThreadPool* pools[] = {&p1, &p2, &p3};
  const std::vector<std::vector<std::pair<DType, int64_t>>> sets = {
      {{DType::kQ4_K, 40}, {DType::kQ6_K, 16}, {DType::kQ4_K, 8}},
      {{DType::kQ6_K, 24}, {DType::kQ6_K, 8}},
      {{DType::kQ8_0, 16}, {DType::kQ8_0, 40}},
      {{DType::kBF16, 40}, {DType::kBF16, 24}},
      {{DType::kQ4_K, 16}, {DType::kQ4_K, 37}},   // a tail of rows: not fused
      {{DType::kQ8_0, 16}, {DType::kQ4_K, 16}},   // two activation formats: not fused
  };
  const int64_t K = 512;
  int i = 0;
  for (const auto& set : sets) {
    std::vector<Weight> ws;
    for (auto [dt, rows] : set) ws.push_back(make_weight(dt, rows, K, i % 2 == 1, rng));
    for (int64_t n : {1, 5, 16, 70}) {
      for (Isa isa : kIsas) {
        if (!set_active_isa(isa)) continue;
        ThreadPool& pool = *pools[i++ % 3];
        SCOPED_TRACE(::testing::Message() << "set " << &set - sets.data() << " tokens " << n << " " << isa_name(isa)
                                          << " threads " << pool.size());
        const auto x = random_activations(n, K, rng);
        std::vector<PackedWeight> packed;
        std::vector<std::vector<float>> bias, shared, alone, yref;
        std::vector<MatmulOutput> outs;
        for (const Weight& w : ws) {
          auto p = pack_weight(w.dtype, w.bytes.data(), w.rows, K);
          ASSERT_TRUE(p.ok()) << p.status().to_string();
          packed.push_back(*p);
          bias.emplace_back(w.rows);
          for (auto& b : bias.back()) b = std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng);
          shared.emplace_back(n * w.rows, NAN);
        }
        for (size_t k = 0; k < ws.size(); ++k)
          outs.push_back({&packed[k], (k + i) % 2 ? bias[k].data() : nullptr, shared[k].data()});
        matmul_shared_input(outs, x.data(), n, pool);
        for (size_t k = 0; k < ws.size(); ++k) {
          const Weight& w = ws[k];
          std::vector<float> y(n * w.rows, NAN), r(n * w.rows, NAN);
          matmul(packed[k], x.data(), n, outs[k].bias, y.data(), pool);
          PackedWeight plain;
          plain.dtype = w.dtype;
          plain.rows = w.rows;
          plain.cols = K;
          plain.data = w.bytes.data();
          ref::matmul(plain, x.data(), n, outs[k].bias, r.data(), pool);
          for (int64_t j = 0; j < n * w.rows; ++j) {
            const int64_t t = j / w.rows, row = j % w.rows;
            double scale = outs[k].bias ? std::fabs(outs[k].bias[row]) : 0.0;
            for (int64_t c = 0; c < K; ++c) scale += std::fabs(w.deq[row * K + c] * x[t * K + c]);
            ASSERT_EQ(shared[k][j], y[j]) << "weight " << k << " token " << t << " row " << row;
            ASSERT_LE(std::fabs(shared[k][j] - r[j]), 1e-5 * scale) << "weight " << k << " token " << t << " row " << row;
          }
        }
      }
    }
  }
}

TEST(Matmul, PackWeightRefusesWhatItCannotMultiply) {
  int dummy = 0;
  EXPECT_FALSE(pack_weight(DType::kQ8_0, &dummy, 4, 48).ok());
  EXPECT_FALSE(pack_weight(DType::kQ4_K, &dummy, 4, 128).ok());
  EXPECT_FALSE(pack_weight(DType::kQ4_1, &dummy, 4, 32).ok());
  EXPECT_FALSE(pack_weight(DType::kQ8_K, &dummy, 4, 256).ok());
  EXPECT_FALSE(pack_weight(DType::kF32, &dummy, 0, 8).ok());
  EXPECT_FALSE(pack_weight(DType::kF32, &dummy, 4, 0).ok());
}

TEST(Isa, DetectedIsaCanBeSelected) {
  IsaGuard guard;
  EXPECT_TRUE(set_active_isa(Isa::kGeneric));
  EXPECT_EQ(active_isa(), Isa::kGeneric);
  EXPECT_TRUE(set_active_isa(detect_isa()));
  EXPECT_EQ(active_isa(), detect_isa());
  std::printf("  detected ISA: %s\n", isa_name(detect_isa()));
  EXPECT_STREQ(isa_name(Isa::kAvx2), "avx2");
  EXPECT_STREQ(isa_name(Isa::kAvx512), "avx512");
}

}  // namespace
}  // namespace ember::kernels
