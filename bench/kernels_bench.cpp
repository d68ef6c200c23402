// Matmul throughput at the shapes of DeepSeek-R1-Distill-Qwen-1.5B, for each
// weight type, at decode (n = 1), batched decode (n = 16) and prefill (n = 512) sizes, on the active
// ISA (EMBER_ISA overrides), on 2 threads (EMBER_BENCH_THREADS overrides).
// Counters: weight GB/s and GMAC/s.
//   build/bench/kernels_bench --benchmark_filter=q8_0
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/ops.h"
#include "tensor/fp16.h"
#include "tensor/quant.h"

namespace ember::kernels {
namespace {

// Args: rows, columns, tokens, threads, copies of the weight visited in turn
// (1: it stays in L3 between iterations; 28, one per layer: from DRAM, as in
// a forward pass).
void BM_Matmul(benchmark::State& state, DType dt) {
  const int64_t rows = state.range(0), cols = state.range(1), n = state.range(2), copies = state.range(4);
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
  // each copy from its own bytes (a layout used in place would alias w)
  std::vector<std::vector<uint8_t>> raw(copies, w);
  std::vector<PackedWeight> packed;
  for (auto& bytes : raw) {
    auto p = pack_weight(dt, bytes.data(), rows, cols);
    if (!p.ok()) {
      state.SkipWithError(p.status().message().c_str());
      return;
    }
    packed.push_back(*std::move(p));
  }
  ThreadPool pool(static_cast<int>(state.range(3)));
  int64_t copy = 0;
  for (auto _ : state) {
    matmul(packed[copy], x.data(), n, nullptr, y.data(), pool);
    copy = (copy + 1) % copies;
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
  for (int64_t n : {1, 16, 512})
    for (auto [r, c] : {std::pair<int64_t, int64_t>{1536, 1536}, {8960, 1536}, {1536, 8960}}) b->Args({r, c, n, th, 1});
  b->Args({8960, 1536, 16, th, 28});   // concurrency 16, the weights from DRAM (28 layers' ffn_up)
  b->Args({1536, 8960, 16, th, 28});   // the same for ffn_down
  b->Args({151936, 1536, 1, th, 1});   // the output layer, one sequence decoding
  b->Args({151936, 1536, 16, th, 1});  // the output layer at concurrency 16
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

// Paged attention at the model's shape (12 query heads, 2 KV heads of 128,
// 16-token blocks, a cache of kv_dtype): `seqs` sequences of `ctx` cached
// tokens with `q_len` query rows each (1: decode; a prompt chunk: prefill).
// Counter: GMAC/s over the QK and PV products.
void BM_Attention(benchmark::State& state, DType kv_dtype) {
  const int64_t seqs = state.range(0), ctx = state.range(1), q_len = state.range(2), layers = state.range(4);
  const int64_t heads = 12, kv_heads = 2, hd = 128, block = 16, kv_dim = kv_heads * hd;
  const int64_t blocks_per_seq = (ctx + block - 1) / block, slots = seqs * blocks_per_seq * block;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  // one cache per layer, visited in turn: with 28 the KV comes from DRAM, as in a forward pass
  std::vector<std::vector<uint8_t>> k(layers), v(layers);
  std::vector<float> row(hd);
  for (int64_t l = 0; l < layers; ++l) {
    for (auto* c : {&k[l], &v[l]}) {
      c->resize(row_bytes(kv_dtype, slots * kv_dim));
      for (int64_t r = 0; r < slots * kv_heads; ++r) {  // each head's row quantized alone, as kv_write does
        for (auto& x : row) x = normal(rng);
        quantize_row(kv_dtype, row.data(), c->data() + row_bytes(kv_dtype, r * hd), hd);
      }
    }
  }
  std::vector<int32_t> tables(seqs * blocks_per_seq);
  for (size_t i = 0; i < tables.size(); ++i) tables[i] = static_cast<int32_t>((i * 7919) % tables.size());  // scattered blocks
  std::vector<float> q(seqs * q_len * heads * hd), out(q.size());
  for (auto& x : q) x = normal(rng);
  std::vector<AttentionSeq> s(seqs);
  for (int64_t i = 0; i < seqs; ++i) s[i] = {i * q_len, q_len, ctx, tables.data() + i * blocks_per_seq};
  AttentionParams p;
  p.n_heads = heads, p.n_kv_heads = kv_heads, p.head_dim = hd, p.scale = 0.0883883f;
  p.q = q.data(), p.q_stride = heads * hd, p.out = out.data();
  p.kv_dtype = kv_dtype, p.block_size = block;
  p.seqs = s.data(), p.n_seqs = seqs;
  ThreadPool pool(static_cast<int>(state.range(3)));
  int64_t layer = 0;
  for (auto _ : state) {
    p.k_cache = k[layer].data(), p.v_cache = v[layer].data();
    layer = (layer + 1) % layers;
    attention(p, pool);
    benchmark::DoNotOptimize(out.data());
  }
  // keys visible per query row: ctx - q_len + 1 + r
  const double keys = static_cast<double>(q_len) * (ctx - q_len + 1) + q_len * (q_len - 1) / 2.0;
  state.counters["GMAC/s"] = benchmark::Counter(seqs * heads * keys * hd * 2 / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// Args: sequences, context, query rows per sequence, threads, layers (caches visited in turn).
void attention_shapes(benchmark::internal::Benchmark* b) {
  const int64_t th = bench_threads();
  b->Args({1, 576, 1, th, 1});     // decode, one sequence
  b->Args({16, 576, 1, th, 1});    // decode at concurrency 16 (512-token prompts), KV in L3
  b->Args({16, 576, 1, th, 28});   // the same over 28 layers' caches (264 MB): KV from DRAM
  b->Args({1, 512, 512, th, 1});   // a 512-token prompt's prefill
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK_CAPTURE(BM_Attention, f16, DType::kF16)->Apply(attention_shapes);
BENCHMARK_CAPTURE(BM_Attention, q8_0, DType::kQ8_0)->Apply(attention_shapes);

BENCHMARK_CAPTURE(BM_Matmul, q8_0, DType::kQ8_0)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q4_k, DType::kQ4_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q6_k, DType::kQ6_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, bf16, DType::kBF16)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, f16, DType::kF16)->Apply(shapes);

}  // namespace
}  // namespace ember::kernels
