// The real engine (tiny-qwen2, F32) under a randomized workload: requests
// with shared and private prefixes arriving at random steps, greedy and
// seeded sampling, aborts, and a KV pool far too small for all of them, so
// prefix hits, evictions and preemptions all happen. Every request that is
// not aborted must produce exactly what it produces alone on an engine with
// no prefix cache and ample memory; an aborted one, a prefix of it. At the
// end every block is free.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "base/mapped_file.h"
#include "engine/engine_core.h"

namespace ember::engine {
namespace {

const std::string kModel = std::string(EMBER_FIXTURES_DIR) + "/models/tiny-qwen2/tiny-qwen2-F32.gguf";

std::unique_ptr<EngineCore> make_engine(int64_t kv_bytes, bool prefix_caching, int64_t budget) {
  EngineConfig c;
  c.model = kModel;
  c.threads = 2;
  c.kv_cache_memory = kv_bytes;
  c.max_num_batched_tokens = budget;
  c.max_model_len = 320;
  c.enable_prefix_caching = prefix_caching;
  auto e = EngineCore::create(c);
  EXPECT_TRUE(e.ok()) << e.status().to_string();
  return e.ok() ? std::move(*e) : nullptr;
}

struct Plan {
  int arrival_step = 0;
  int abort_step = -1;  // -1: runs to the end
  NewRequest request;
};

std::vector<Plan> make_plans(std::mt19937& rng, int count) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  std::vector<std::vector<int32_t>> prefixes(3);
  for (auto& p : prefixes) {
    const int len = 40 + pick(120);
    for (int i = 0; i < len; ++i) p.push_back(pick(1024));
  }
  std::vector<Plan> plans;
  for (int k = 0; k < count; ++k) {
    Plan p;
    p.arrival_step = pick(40);
    if (pick(6) == 0) p.abort_step = p.arrival_step + pick(30);
    std::vector<int32_t> prompt;
    if (pick(3) != 0) prompt = prefixes[pick(3)];
    const int suffix = 1 + pick(60);
    for (int i = 0; i < suffix; ++i) prompt.push_back(pick(1024));
    sampling::SamplingParams s;
    s.max_tokens = 4 + pick(28);
    s.ignore_eos = true;
    if (pick(2)) {
      s.temperature = 0.0f;
    } else {
      s.temperature = 0.8f;
      s.top_p = 0.9f;
      s.seed = static_cast<int64_t>(rng());
    }
    p.request = NewRequest{1 + k, std::move(prompt), s, ""};
    plans.push_back(std::move(p));
  }
  return plans;
}

// Runs the plans on one engine; returns each request's output tokens.
std::map<RequestId, std::vector<int32_t>> run(EngineCore& e, const std::vector<Plan>& plans) {
  std::map<RequestId, std::vector<int32_t>> out;
  for (int step = 0; step < 20000; ++step) {
    bool pending = false;
    for (const Plan& p : plans) {
      if (p.arrival_step == step) {
        EXPECT_TRUE(e.add_request(p.request).ok());
      }
      if (p.abort_step == step) e.abort(p.request.id);
      pending |= p.arrival_step > step;
    }
    if (!e.has_unfinished() && !pending) break;
    auto outputs = e.step();
    EXPECT_TRUE(outputs.ok()) << outputs.status().to_string();
    if (!outputs.ok()) break;
    for (const auto& o : *outputs) out[o.id].insert(out[o.id].end(), o.new_tokens.begin(), o.new_tokens.end());
  }
  return out;
}

TEST(EngineStress, SmallPoolWithCacheAndAbortsMatchesRunningAlone) {
  if (!file_exists(kModel)) GTEST_SKIP() << "fixtures missing";
  int64_t preemptions = 0, hits = 0, evictions = 0;
  for (uint32_t seed : {1u, 2u, 3u}) {
    std::mt19937 rng(seed);
    const auto plans = make_plans(rng, 40);
    // About 2.5 of the longest requests fit at once (1 KiB of f32 K/V per
    // token for this model): preemption and eviction are certain.
    auto small = make_engine(800 << 10, true, 64 + 32 * seed);
    ASSERT_TRUE(small);
    const auto got = run(*small, plans);
    const auto stats = small->stats().scheduler;
    EXPECT_EQ(stats.kv_blocks_used, 0) << "seed " << seed;
    EXPECT_EQ(stats.num_running + stats.num_waiting, 0);
    preemptions += stats.num_preemptions;
    hits += stats.prefix_hit_tokens;
    evictions += stats.num_evictions;

    auto big = make_engine(64 << 20, false, 2048);
    ASSERT_TRUE(big);
    for (const Plan& p : plans) {
      Plan alone = p;
      alone.arrival_step = 0;
      alone.abort_step = -1;
      const auto want = run(*big, {alone})[p.request.id];
      ASSERT_EQ(static_cast<int>(want.size()), p.request.params.max_tokens);
      const auto it = got.find(p.request.id);
      const std::vector<int32_t> have = it == got.end() ? std::vector<int32_t>{} : it->second;
      if (p.abort_step < 0) {
        EXPECT_EQ(have, want) << "seed " << seed << " request " << p.request.id;
      } else {
        ASSERT_LE(have.size(), want.size());
        EXPECT_TRUE(std::equal(have.begin(), have.end(), want.begin())) << "seed " << seed << " aborted request " << p.request.id;
      }
    }
  }
  std::printf("preemptions %lld, prefix-hit tokens %lld, evictions %lld\n", static_cast<long long>(preemptions),
              static_cast<long long>(hits), static_cast<long long>(evictions));
  EXPECT_GT(preemptions, 0);
  EXPECT_GT(hits, 0);
  EXPECT_GT(evictions, 0);
}

}  // namespace
}  // namespace ember::engine
