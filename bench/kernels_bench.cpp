// Matmul throughput at the shapes of DeepSeek-R1-Distill-Qwen-1.5B, for each
// weight type, at decode (n = 1) and prefill (n = 512) sizes, on the active
// ISA (EMBER_ISA overrides), on 2 threads (EMBER_BENCH_THREADS overrides).
// Counters: weight GB/s and GMAC/s.
//   build/bench/kernels_bench --benchmark_filter=q8_0
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/ops.h"
#include "tensor/quant.h"

namespace ember::kernels {
namespace {

void BM_Matmul(benchmark::State& state, DType dt) {
  const int64_t rows = state.range(0), cols = state.range(1), n = state.range(2);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> row(cols), x(n * cols), y(n * rows);
  const size_t rb = row_bytes(dt, cols);
  std::vector<uint8_t> w(rb * rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = normal(rng) * 0.02f;
    quantize_row(dt, row.data(), w.data() + r * rb, cols);
  }
  for (auto& v : x) v = normal(rng);
  auto packed = pack_weight(dt, w.data(), rows, cols);
  if (!packed.ok()) {
    state.SkipWithError(packed.status().message().c_str());
    return;
  }
  ThreadPool pool(static_cast<int>(state.range(3)));
  for (auto _ : state) {
    matmul(*packed, x.data(), n, nullptr, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["weight_GB/s"] =
      benchmark::Counter(static_cast<double>(rb * rows), benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.counters["GMAC/s"] = benchmark::Counter(static_cast<double>(rows * cols * n) / 1e9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// Threads: 2, or EMBER_BENCH_THREADS (1 gives per-core figures on a busy machine).
int64_t bench_threads() {
  const char* s = std::getenv("EMBER_BENCH_THREADS");
  return s && std::atoi(s) > 0 ? std::atoi(s) : 2;
}

void shapes(benchmark::internal::Benchmark* b) {
  const int64_t th = bench_threads();
  for (int64_t n : {1, 512})
    for (auto [r, c] : {std::pair<int64_t, int64_t>{1536, 1536}, {8960, 1536}, {1536, 8960}}) b->Args({r, c, n, th});
  b->Args({151936, 1536, 1, th});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK_CAPTURE(BM_Matmul, q8_0, DType::kQ8_0)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q4_k, DType::kQ4_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q6_k, DType::kQ6_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, bf16, DType::kBF16)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, f16, DType::kF16)->Apply(shapes);

}  // namespace
}  // namespace ember::kernels
