// The serving engine against the fixtures: every sequence generated alone
// and mixed into batches of many requests arriving at different steps gives
// llama.cpp's greedy continuation, and the same log-probabilities (batch
// invariance); a shared prefix is served from the prefix cache.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "engine/engine_core.h"

namespace ember::engine {
namespace {

const std::string kModels = std::string(EMBER_FIXTURES_DIR) + "/models";

struct Reference {
  std::vector<int32_t> prompt;
  std::vector<int32_t> greedy;  // 32 tokens from llama.cpp
};

std::vector<Reference> load_reference(const std::string& model_dir) {
  auto text = read_file(kModels + "/" + model_dir + "/logits/F32.json");
  if (!text.ok()) return {};
  std::vector<Reference> refs;
  const auto meta = nlohmann::json::parse(*text);
  for (const auto& s : meta["sequences"])
    refs.push_back({s["tokens"].get<std::vector<int32_t>>(), s["greedy_tokens"].get<std::vector<int32_t>>()});
  return refs;
}

std::unique_ptr<EngineCore> make_engine(const std::string& path, int64_t kv_bytes, int64_t budget = 2048,
                                        const std::string& kv_dtype = "auto") {
  EngineConfig c;
  c.model = path;
  c.kv_cache_dtype = kv_dtype;
  c.threads = 2;
  c.kv_cache_memory = kv_bytes;
  c.max_num_batched_tokens = budget;
  auto e = EngineCore::create(c);
  EXPECT_TRUE(e.ok()) << e.status().to_string();
  return e.ok() ? std::move(*e) : nullptr;
}

sampling::SamplingParams greedy(int32_t max_tokens) {
  sampling::SamplingParams p;
  p.temperature = 0.0f;
  p.max_tokens = max_tokens;
  p.ignore_eos = true;
  p.logprobs = 3;
  return p;
}

struct Result_ {
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;  // chosen token's, per step
};

// Runs the engine until idle; requests are added at the given steps.
std::map<RequestId, Result_> run(EngineCore& e, const std::vector<std::pair<int, NewRequest>>& arrivals) {
  std::map<RequestId, Result_> out;
  size_t next = 0;
  for (int step = 0; step < 100000; ++step) {
    while (next < arrivals.size() && arrivals[next].first <= step) {
      EXPECT_TRUE(e.add_request(arrivals[next].second).ok());
      ++next;
    }
    if (!e.has_unfinished() && next == arrivals.size()) break;
    auto outputs = e.step();
    EXPECT_TRUE(outputs.ok()) << outputs.status().to_string();
    if (!outputs.ok()) break;
    for (const auto& o : *outputs) {
      auto& r = out[o.id];
      r.tokens.insert(r.tokens.end(), o.new_tokens.begin(), o.new_tokens.end());
      for (const auto& lp : o.logprobs) r.logprobs.push_back(lp.logprob);
    }
  }
  return out;
}

// `count` requests (the fixture sequences repeated), request k arriving at
// step k % stagger, each giving the tokens and log-probs it gave alone.
void expect_mixed_batch_matches_alone(EngineCore& engine, const std::vector<Reference>& refs,
                                      const std::vector<Result_>& alone, int count, int stagger,
                                      const std::string& model) {
  std::vector<std::pair<int, NewRequest>> arrivals;
  for (int k = 0; k < count; ++k)
    arrivals.push_back({k % stagger, NewRequest{1000 + k, refs[k % refs.size()].prompt, greedy(32), ""}});
  auto mixed = run(engine, arrivals);
  for (int k = 0; k < count; ++k) {
    const auto& got = mixed[1000 + k];
    const auto& want = alone[k % refs.size()];
    EXPECT_EQ(got.tokens, want.tokens) << model << " batch " << count << " request " << k;
    ASSERT_EQ(got.logprobs.size(), want.logprobs.size());
    for (size_t j = 0; j < got.logprobs.size(); ++j)
      EXPECT_NEAR(got.logprobs[j], want.logprobs[j], 1e-4) << model << " batch " << count << " step " << j;
  }
}

TEST(EngineCore, BatchedGenerationMatchesLlamaCppAndRunningAlone) {
  for (const std::string model : {"tiny-qwen2", "tiny-qwen2-hd128"}) {
    const auto refs = load_reference(model);
    if (refs.empty()) GTEST_SKIP() << "fixtures missing";
    const std::string path = kModels + "/" + model + "/" + model + "-F32.gguf";
    auto engine = make_engine(path, 64 << 20);
    ASSERT_TRUE(engine);
    // Alone.
    std::vector<Result_> alone;
    for (size_t i = 0; i < refs.size(); ++i) {
      auto r = run(*engine, {{0, NewRequest{static_cast<RequestId>(i), refs[i].prompt, greedy(32), ""}}});
      EXPECT_EQ(r[i].tokens, refs[i].greedy) << model << " sequence " << i;
      alone.push_back(r[i]);
    }
    // Mixed: 8, 32 and 64 requests (the fixture sequences repeated) arriving at different steps.
    for (int count : {8, 32, 64}) expect_mixed_batch_matches_alone(*engine, refs, alone, count, 7, model);
    const auto stats = engine->stats();
    EXPECT_EQ(stats.scheduler.kv_blocks_used, 0);
  }
}

// An 8-bit KV cache changes the numbers (llama.cpp's fixtures use an F32
// one), but not batch invariance: each request's tokens and log-probs are
// the same alone and mixed into batches, and every block comes back.
TEST(EngineCore, Q8_0KvCacheKeepsBatchInvariance) {
  for (const std::string model : {"tiny-qwen2", "tiny-qwen2-hd128"}) {
    const auto refs = load_reference(model);
    if (refs.empty()) GTEST_SKIP() << "fixtures missing";
    auto engine = make_engine(kModels + "/" + model + "/" + model + "-F32.gguf", 64 << 20, 2048, "q8_0");
    ASSERT_TRUE(engine);
    std::vector<Result_> alone;
    size_t same_as_f32 = 0, total = 0;
    for (size_t i = 0; i < refs.size(); ++i) {
      auto r = run(*engine, {{0, NewRequest{static_cast<RequestId>(i), refs[i].prompt, greedy(32), ""}}});
      ASSERT_EQ(r[i].tokens.size(), 32u);
      for (size_t j = 0; j < 32 && r[i].tokens[j] == refs[i].greedy[j]; ++j) ++same_as_f32;
      total += 32;
      alone.push_back(r[i]);
    }
    std::printf("  %s, q8_0 KV: %zu of %zu greedy tokens before the first that differs from llama.cpp's (F32 KV)\n",
                model.c_str(), same_as_f32, total);
    for (int count : {8, 32}) expect_mixed_batch_matches_alone(*engine, refs, alone, count, 5, model);
    EXPECT_EQ(engine->stats().scheduler.kv_blocks_used, 0);
  }
}

TEST(EngineCore, RefusesAnUnknownKvCacheDtype) {
  const std::string path = kModels + "/tiny-qwen2/tiny-qwen2-F32.gguf";
  if (!file_exists(path)) GTEST_SKIP() << "fixtures missing";
  EngineConfig c;
  c.model = path;
  c.kv_cache_memory = 16 << 20;
  c.kv_cache_dtype = "q4_0";
  auto e = EngineCore::create(c);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("--kv-cache-dtype must be auto, f16, bf16, f32 or q8_0"), std::string::npos)
      << e.status().to_string();
}

TEST(EngineCore, PrefixCacheSkipsTheSharedPrefillAndKeepsTheOutput) {
  const std::string path = kModels + "/tiny-qwen2/tiny-qwen2-F32.gguf";
  if (!file_exists(path)) GTEST_SKIP() << "fixtures missing";
  auto engine = make_engine(path, 64 << 20);
  ASSERT_TRUE(engine);
  std::vector<int32_t> prefix;
  for (int i = 0; i < 1000; ++i) prefix.push_back((i * 37 + 11) % 1024);
  auto a = prefix, b = prefix;
  a.insert(a.end(), {5, 6, 7});
  b.insert(b.end(), {9, 10});
  auto first = run(*engine, {{0, NewRequest{1, a, greedy(8), ""}}});
  const auto before = engine->stats().scheduler;
  auto second = run(*engine, {{0, NewRequest{2, b, greedy(8), ""}}});
  const auto after = engine->stats().scheduler;
  // 1000 shared tokens = 62 full blocks of 16 are reused; only the rest is prefilled.
  EXPECT_EQ(after.prefix_hit_tokens - before.prefix_hit_tokens, 992);
  EXPECT_EQ(after.total_prefill_tokens - before.total_prefill_tokens, static_cast<int64_t>(b.size()) - 992);
  // Same output as an engine that never saw the first request.
  auto fresh = make_engine(path, 64 << 20);
  auto reference = run(*fresh, {{0, NewRequest{2, b, greedy(8), ""}}});
  EXPECT_EQ(second[2].tokens, reference[2].tokens);
}

TEST(EngineCore, ParallelSamplesShareThePromptAndFollowTheirSeeds) {
  const std::string path = kModels + "/tiny-qwen2/tiny-qwen2-F32.gguf";
  if (!file_exists(path)) GTEST_SKIP() << "fixtures missing";
  auto engine = make_engine(path, 64 << 20);
  ASSERT_TRUE(engine);
  std::vector<int32_t> prompt;
  for (int i = 0; i < 100; ++i) prompt.push_back((i * 13 + 1) % 1024);
  sampling::SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 42;
  p.max_tokens = 12;
  p.ignore_eos = true;
  ASSERT_TRUE(engine->add_request(NewRequest{7, prompt, p, "", 4}).ok());
  std::map<int, std::vector<int32_t>> samples;
  int64_t prefill_tokens_before = engine->stats().scheduler.total_prefill_tokens;
  while (engine->has_unfinished()) {
    auto outputs = engine->step();
    ASSERT_TRUE(outputs.ok()) << outputs.status().to_string();
    for (const auto& o : *outputs) {
      EXPECT_EQ(o.id, 7);
      samples[o.index].insert(samples[o.index].end(), o.new_tokens.begin(), o.new_tokens.end());
    }
  }
  ASSERT_EQ(samples.size(), 4u);
  for (const auto& [index, tokens] : samples) EXPECT_EQ(tokens.size(), 12u) << index;
  // The prompt ran once for all four samples.
  EXPECT_EQ(engine->stats().scheduler.total_prefill_tokens - prefill_tokens_before, 100);
  EXPECT_EQ(engine->stats().scheduler.kv_blocks_used, 0);
  // Sample i draws from seed + i: sample 2 equals a lone request seeded 44.
  sampling::SamplingParams q = p;
  q.seed = 44;
  auto alone = run(*engine, {{0, NewRequest{8, prompt, q, ""}}});
  EXPECT_EQ(alone[8].tokens, samples[2]);
  EXPECT_NE(samples[0], samples[1]);
}

TEST(EngineCore, RejectsRequestsThatCanNeverFit) {
  const std::string path = kModels + "/tiny-qwen2/tiny-qwen2-F32.gguf";
  if (!file_exists(path)) GTEST_SKIP() << "fixtures missing";
  auto engine = make_engine(path, 1 << 20);
  ASSERT_TRUE(engine);
  std::vector<int32_t> huge(engine->max_model_len() + 1, 3);
  Status s = engine->add_request(NewRequest{1, huge, greedy(4), ""});
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(engine->add_request(NewRequest{2, {5000}, greedy(4), ""}).ok());  // outside the vocabulary
  EXPECT_FALSE(engine->add_request(NewRequest{3, {}, greedy(4), ""}).ok());
}

}  // namespace
}  // namespace ember::engine
