// ember::LLM.generate: results in order, greedy continuations equal to
// llama.cpp's for the fixture sequences, n samples per prompt.
#include "engine/llm.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"

namespace ember::engine {
namespace {

TEST(LLM, GenerateReturnsReferenceContinuationsInOrder) {
  const std::string dir = std::string(EMBER_FIXTURES_DIR) + "/models/tiny-qwen2";
  if (!file_exists(dir + "/logits/F32.json")) GTEST_SKIP() << "fixtures missing";
  const auto meta = nlohmann::json::parse(*read_file(dir + "/logits/F32.json"));
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::vector<int32_t>> greedy;
  for (const auto& s : meta["sequences"]) {
    prompts.push_back(s["tokens"].get<std::vector<int32_t>>());
    greedy.push_back(s["greedy_tokens"].get<std::vector<int32_t>>());
  }
  EngineConfig c;
  c.model = dir + "/hf";  // the safetensors directory
  c.threads = 2;
  c.kv_cache_memory = 32 << 20;
  auto llm = LLM::create(c);
  ASSERT_TRUE(llm.ok()) << llm.status().to_string();
  sampling::SamplingParams p;
  p.temperature = 0.0f;
  p.max_tokens = 32;
  p.ignore_eos = true;
  auto out = (*llm)->generate(prompts, p);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  ASSERT_EQ(out->size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ((*out)[i].prompt_token_ids, prompts[i]);
    ASSERT_EQ((*out)[i].outputs.size(), 1u);
    EXPECT_EQ((*out)[i].outputs[0].token_ids, greedy[i]) << "sequence " << i;
    EXPECT_EQ((*out)[i].outputs[0].finish_reason, FinishReason::kLength);
  }
  // n = 3 samples at temperature 1 with a seed.
  p.temperature = 1.0f;
  p.seed = 5;
  p.max_tokens = 8;
  auto sampled = (*llm)->generate({prompts[1]}, p, 3);
  ASSERT_TRUE(sampled.ok());
  ASSERT_EQ((*sampled)[0].outputs.size(), 3u);
  for (const auto& o : (*sampled)[0].outputs) EXPECT_EQ(o.token_ids.size(), 8u);
  // A bad prompt is an error naming it, and nothing stays queued.
  auto bad = (*llm)->generate({prompts[0], {99999}}, p);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("prompt 1"), std::string::npos);
  EXPECT_FALSE((*llm)->core().has_unfinished());
}

}  // namespace
}  // namespace ember::engine
