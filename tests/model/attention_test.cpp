// Paged attention against a naive double-precision softmax(QKᵀ)V computed
// from the definition, on random inputs: several sequences with different
// prompt and context lengths, shuffled block tables, GQA, every KV dtype
// (the reference reads the values as the dtype stores them: Q8_0 through the
// tensor library's quantize_row / dequantize_row).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "kernels/ops.h"
#include "tensor/fp16.h"
#include "tensor/quant.h"

namespace ember::kernels {
namespace {

struct SeqSpec {
  int64_t q_len, context_len;
};

void run_case(DType kv_dtype, int64_t n_heads, int64_t n_kv_heads, int64_t hd, std::vector<SeqSpec> specs,
              int threads, double tol) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t block = 16, kv_dim = n_kv_heads * hd;
  int64_t blocks_needed = 0, n_tokens = 0;
  for (const auto& s : specs) {
    blocks_needed += (s.context_len + block - 1) / block;
    n_tokens += s.q_len;
  }
  std::vector<int32_t> pool_ids(blocks_needed + 3);
  std::iota(pool_ids.begin(), pool_ids.end(), 0);
  std::shuffle(pool_ids.begin(), pool_ids.end(), rng);
  const int64_t slots = static_cast<int64_t>(pool_ids.size()) * block;
  std::vector<uint8_t> kc(row_bytes(kv_dtype, slots * kv_dim)), vc(kc.size());
  // Reference copies of what the cache holds, as the cache's dtype rounds them.
  std::vector<double> kref(slots * kv_dim), vref(slots * kv_dim);
  std::vector<std::vector<int32_t>> tables;
  std::vector<AttentionSeq> seqs;
  size_t next = 0;
  int64_t row = 0;
  for (const auto& s : specs) {
    std::vector<int32_t> table;
    for (int64_t b = 0; b < (s.context_len + block - 1) / block; ++b) table.push_back(pool_ids[next++]);
    tables.push_back(table);
    for (int64_t pos = 0; pos < s.context_len; ++pos) {
      const int64_t slot = table[pos / block] * block + pos % block;
      std::vector<float> k(kv_dim), v(kv_dim);
      for (auto& x : k) x = normal(rng);
      for (auto& x : v) x = normal(rng);
      kv_write(k.data(), v.data(), kv_dim, 1, n_kv_heads, hd, block, &slot, kv_dtype, kc.data(), vc.data());
      // each head's row as the cache's dtype rounds it (Q8_0: its own blocks of 32)
      auto round = [&](std::vector<float>& x) {
        for (int64_t h = 0; h < n_kv_heads; ++h) {
          std::vector<uint8_t> bytes(row_bytes(kv_dtype, hd));
          quantize_row(kv_dtype, x.data() + h * hd, bytes.data(), hd);
          dequantize_row(kv_dtype, bytes.data(), x.data() + h * hd, hd);
        }
      };
      round(k);
      round(v);
      for (int64_t d = 0; d < kv_dim; ++d) {
        kref[slot * kv_dim + d] = k[d];
        vref[slot * kv_dim + d] = v[d];
      }
    }
    seqs.push_back({row, s.q_len, s.context_len, nullptr});
    row += s.q_len;
  }
  for (size_t i = 0; i < seqs.size(); ++i) seqs[i].block_table = tables[i].data();
  const int64_t q_dim = n_heads * hd;
  std::vector<float> q(n_tokens * q_dim), out(n_tokens * q_dim, NAN);
  for (auto& x : q) x = normal(rng);

  AttentionParams p;
  p.n_heads = n_heads;
  p.n_kv_heads = n_kv_heads;
  p.head_dim = hd;
  p.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  p.q = q.data();
  p.q_stride = q_dim;
  p.out = out.data();
  p.k_cache = kc.data();
  p.v_cache = vc.data();
  p.kv_dtype = kv_dtype;
  p.block_size = block;
  p.seqs = seqs.data();
  p.n_seqs = static_cast<int64_t>(seqs.size());
  ThreadPool pool(threads);
  attention(p, pool);

  double worst = 0.0;
  for (size_t si = 0; si < seqs.size(); ++si) {
    const AttentionSeq& s = seqs[si];
    for (int64_t r = 0; r < s.q_len; ++r) {
      const int64_t pos = s.context_len - s.q_len + r;
      for (int64_t h = 0; h < n_heads; ++h) {
        const int64_t kvh = h / (n_heads / n_kv_heads);
        const float* qv = q.data() + (s.q_begin + r) * q_dim + h * hd;
        std::vector<double> scores(pos + 1);
        double mx = -1e300;
        for (int64_t j = 0; j <= pos; ++j) {
          const int64_t slot = tables[si][j / block] * block + j % block;
          double dot = 0.0;
          for (int64_t d = 0; d < hd; ++d) dot += static_cast<double>(qv[d]) * kref[slot * kv_dim + kvh * hd + d];
          scores[j] = dot / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, scores[j]);
        }
        double z = 0.0;
        for (auto& x : scores) z += (x = std::exp(x - mx));
        for (int64_t d = 0; d < hd; ++d) {
          double o = 0.0;
          for (int64_t j = 0; j <= pos; ++j) {
            const int64_t slot = tables[si][j / block] * block + j % block;
            o += scores[j] / z * vref[slot * kv_dim + kvh * hd + d];
          }
          const double got = out[(s.q_begin + r) * q_dim + h * hd + d];
          worst = std::max(worst, std::fabs(got - o));
        }
      }
    }
  }
  EXPECT_LT(worst, tol) << "dtype " << dtype_name(kv_dtype) << " threads " << threads;
}

// Every kernel path this CPU can run: the portable one and the SIMD one.
std::vector<Isa> runnable_isas() {
  std::vector<Isa> isas = {Isa::kGeneric};
  if (detect_isa() != Isa::kGeneric) isas.push_back(detect_isa());
  return isas;
}

TEST(Attention, MatchesNaiveSoftmaxForPrefillDecodeAndMixedBatches) {
  const std::vector<SeqSpec> mixed = {{1, 1}, {7, 7}, {1, 40}, {33, 50}, {70, 70}, {1, 130}, {5, 18}};
  for (Isa isa : runnable_isas()) {
    ASSERT_TRUE(set_active_isa(isa));
    SCOPED_TRACE(isa_name(isa));
    for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0}) {
      run_case(dt, 12, 2, 128, mixed, 2, 1e-4);  // DeepSeek-R1-Distill-Qwen-1.5B head layout
      run_case(dt, 4, 2, 32, mixed, 3, 1e-4);
      run_case(dt, 2, 2, 64, {{17, 17}}, 1, 1e-4);  // no GQA
      if (dt == DType::kQ8_0) continue;  // Q8_0 needs head_dim % 32 == 0 (KvCache refuses the rest)
      run_case(dt, 14, 2, 8, {{3, 40}, {1, 9}}, 2, 1e-4);  // odd group, the smallest SIMD head
      run_case(dt, 2, 1, 12, {{4, 20}}, 1, 1e-4);  // head_dim not a multiple of 8: the portable path
    }
  }
  set_active_isa(detect_isa());
}

// A query row's output is the same bits whether it is computed in a prefill
// chunk with other rows, alone as a decode step, or beside other sequences
// (what batch invariance at temperature 0 rests on).
TEST(Attention, RowResultDoesNotDependOnTheBatch) {
  for (Isa isa : runnable_isas()) {
    ASSERT_TRUE(set_active_isa(isa));
    SCOPED_TRACE(isa_name(isa));
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const int64_t heads = 12, kv_heads = 2, hd = 128, block = 16, kv_dim = kv_heads * hd, ctx = 100;
    const int64_t blocks = (ctx + block - 1) / block;
    std::vector<uint16_t> kc(blocks * block * kv_dim), vc(kc.size());
    for (auto& x : kc) x = f32_to_f16(normal(rng));
    for (auto& x : vc) x = f32_to_f16(normal(rng));
    std::vector<int32_t> table(blocks);
    std::iota(table.rbegin(), table.rend(), 0);
    std::vector<float> q(ctx * heads * hd);
    for (auto& x : q) x = normal(rng);
    auto run = [&](std::vector<AttentionSeq> seqs, const float* qs, int64_t rows, int threads) {
      std::vector<float> out(rows * heads * hd);
      AttentionParams p;
      p.n_heads = heads, p.n_kv_heads = kv_heads, p.head_dim = hd, p.scale = 0.08838834764831845f;
      p.q = qs, p.q_stride = heads * hd, p.out = out.data();
      p.k_cache = kc.data(), p.v_cache = vc.data(), p.kv_dtype = DType::kF16, p.block_size = block;
      p.seqs = seqs.data(), p.n_seqs = static_cast<int64_t>(seqs.size());
      ThreadPool pool(threads);
      attention(p, pool);
      return out;
    };
    // the whole prompt at once: row r at position r
    const std::vector<float> prefill = run({{0, ctx, ctx, table.data()}}, q.data(), ctx, 2);
    for (int64_t pos : {0, 31, 32, 33, 64, 99}) {
      // row `pos` as a decode step, beside another sequence's prefill of 5 rows
      std::vector<float> qq(6 * heads * hd);
      std::copy_n(q.data() + 10 * heads * hd, 5 * heads * hd, qq.data());
      std::copy_n(q.data() + pos * heads * hd, heads * hd, qq.data() + 5 * heads * hd);
      const std::vector<float> batched =
          run({{0, 5, 15, table.data()}, {5, 1, pos + 1, table.data()}}, qq.data(), 6, 1);
      for (int64_t i = 0; i < heads * hd; ++i)
        ASSERT_EQ(batched[5 * heads * hd + i], prefill[pos * heads * hd + i]) << "position " << pos << " value " << i;
    }
  }
  set_active_isa(detect_isa());
}

}  // namespace
}  // namespace ember::kernels
