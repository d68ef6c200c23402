#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace ember::sampling {
namespace {

std::vector<float> logits_of(std::initializer_list<float> v) { return std::vector<float>(v); }

int32_t sample_once(SamplingParams p, std::vector<float> logits, std::vector<int32_t> eos = {},
                    std::vector<int32_t> prompt = {}) {
  Sampler s(p, eos, prompt);
  return s.sample(logits.data(), static_cast<int64_t>(logits.size()));
}

TEST(Sampler, GreedyTakesArgmaxWithTiesToLowestId) {
  SamplingParams p;
  p.temperature = 0.0f;
  EXPECT_EQ(sample_once(p, logits_of({0.1f, 2.0f, -1.0f, 2.0f})), 1);
  EXPECT_EQ(sample_once(p, logits_of({5.0f, 2.0f})), 0);
}

TEST(Sampler, SameSeedSameTokens) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 1234;
  std::vector<float> base(1000);
  for (size_t i = 0; i < base.size(); ++i) base[i] = std::sin(static_cast<float>(i)) * 3.0f;
  auto run = [&] {
    Sampler s(p, {}, {});
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) {
      auto l = base;
      int32_t t = s.sample(l.data(), static_cast<int64_t>(l.size()));
      s.accept(t);
      out.push_back(t);
    }
    return out;
  };
  const auto first = run();
  EXPECT_EQ(first, run());
  p.seed = 99;
  EXPECT_NE(first, run());
}

TEST(Sampler, FrequenciesFollowSoftmaxAtTemperature) {
  // Reference: softmax(l / T) computed here in double from the definition.
  const std::vector<float> l = {1.0f, 0.0f, -1.0f, 0.5f};
  const float T = 0.7f;
  std::vector<double> ref(l.size());
  double z = 0.0;
  for (size_t i = 0; i < l.size(); ++i) z += ref[i] = std::exp(l[i] / T);
  for (auto& r : ref) r /= z;
  SamplingParams p;
  p.temperature = T;
  p.seed = 7;
  Sampler s(p, {}, {});
  std::vector<int> counts(l.size());
  const int draws = 40000;
  for (int i = 0; i < draws; ++i) {
    auto x = l;
    ++counts[s.sample(x.data(), 4)];
  }
  for (size_t i = 0; i < l.size(); ++i)
    EXPECT_NEAR(counts[i] / static_cast<double>(draws), ref[i], 0.01) << i;
}

TEST(Sampler, TopKTopPAndMinPRestrictTheCandidates) {
  const std::vector<float> l = {3.0f, 2.9f, 0.0f, -5.0f, 2.8f};
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 3;
  p.top_k = 2;
  Sampler s(p, {}, {});
  for (int i = 0; i < 500; ++i) {
    auto x = l;
    int32_t t = s.sample(x.data(), 5);
    EXPECT_TRUE(t == 0 || t == 1) << t;
  }
  SamplingParams q;
  q.temperature = 1.0f;
  q.top_p = 0.01f;  // only the single most likely token survives
  q.seed = 4;
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sample_once(q, l), 0);
  SamplingParams m;
  m.temperature = 1.0f;
  m.min_p = 0.5f;  // exp(2.8-3)=0.82 stays, exp(0-3)=0.05 goes
  m.seed = 5;
  Sampler sm(m, {}, {});
  for (int i = 0; i < 500; ++i) {
    auto x = l;
    int32_t t = sm.sample(x.data(), 5);
    EXPECT_TRUE(t == 0 || t == 1 || t == 4) << t;
  }
}

TEST(Sampler, PenaltiesAndBias) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repetition_penalty = 2.0f;  // 4.0 -> 2.0 for the prompt token 0; 3.0 stays for 1
  EXPECT_EQ(sample_once(p, logits_of({4.0f, 3.0f}), {}, {0}), 1);
  SamplingParams f;
  f.temperature = 0.0f;
  f.frequency_penalty = 1.0f;
  Sampler s(f, {}, {});
  s.accept(0);
  s.accept(0);  // token 0 seen twice: 4.0 - 2.0 = 2.0 < 3.0
  auto x = logits_of({4.0f, 3.0f});
  EXPECT_EQ(s.sample(x.data(), 2), 1);
  SamplingParams b;
  b.temperature = 0.0f;
  b.logit_bias[1] = 5.0f;
  EXPECT_EQ(sample_once(b, logits_of({4.0f, 0.0f})), 1);
}

TEST(Sampler, MinTokensMasksEosAndStopReasons) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.min_tokens = 1;
  p.max_tokens = 3;
  p.stop_token_ids = {2};
  Sampler s(p, {0}, {});
  auto x = logits_of({9.0f, 1.0f, 8.0f});
  EXPECT_EQ(s.sample(x.data(), 3), 1);  // EOS and the stop token are masked
  s.accept(1);
  EXPECT_EQ(s.stop_reason(1), Sampler::Stop::kNone);
  auto y = logits_of({9.0f, 1.0f, 8.0f});
  EXPECT_EQ(s.sample(y.data(), 3), 0);
  EXPECT_EQ(s.stop_reason(0), Sampler::Stop::kEos);
  EXPECT_EQ(s.stop_reason(2), Sampler::Stop::kStopToken);
  s.accept(1);
  s.accept(1);
  EXPECT_EQ(s.stop_reason(1), Sampler::Stop::kLength);
  p.ignore_eos = true;
  Sampler t(p, {0}, {});
  EXPECT_EQ(t.stop_reason(0), Sampler::Stop::kNone);
}

TEST(Sampler, LogprobsAreNormalized) {
  const auto l = logits_of({1.0f, 2.0f, 3.0f});
  TokenLogprobs lp = Sampler::logprobs(l.data(), 3, 1, 2);
  const double z = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(lp.logprob, 2.0 - z, 1e-5);
  ASSERT_EQ(lp.top.size(), 2u);
  EXPECT_EQ(lp.top[0].first, 2);
  EXPECT_EQ(lp.top[1].first, 1);
  EXPECT_NEAR(lp.top[0].second, 3.0 - z, 1e-5);
}

TEST(SamplingParams, ValidationNamesTheField) {
  SamplingParams p;
  EXPECT_TRUE(p.validate(100).ok());
  p.top_p = 0.0f;
  Status s = p.validate(100);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("top_p"), std::string::npos);
  SamplingParams q;
  q.logit_bias[1000] = 1.0f;
  EXPECT_NE(q.validate(100).message().find("logit_bias"), std::string::npos);
  SamplingParams r;
  r.temperature = NAN;
  EXPECT_FALSE(r.validate(100).ok());
}

TEST(GenerationDefaults, ParsesDeepSeekStyleConfig) {
  auto d = parse_generation_config(
      R"({"bos_token_id": 151646, "eos_token_id": 151643, "do_sample": true, "temperature": 0.6, "top_p": 0.95})");
  ASSERT_TRUE(d.ok());
  SamplingParams p;
  d->apply_to(p);
  EXPECT_FLOAT_EQ(p.temperature, 0.6f);
  EXPECT_FLOAT_EQ(p.top_p, 0.95f);
  EXPECT_EQ(d->eos_token_ids, std::vector<int32_t>{151643});
  EXPECT_FALSE(parse_generation_config("not json").ok());
}

}  // namespace
}  // namespace ember::sampling
