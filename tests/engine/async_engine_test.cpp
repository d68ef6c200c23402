// The async engine: many threads add requests at once and read their
// streams; outputs equal the synchronous core's; abort ends a stream at any
// moment and frees its blocks.
#include "engine/async_engine.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "base/mapped_file.h"

namespace ember::engine {
namespace {

const std::string kModel = std::string(EMBER_FIXTURES_DIR) + "/models/tiny-qwen2/tiny-qwen2-F32.gguf";

EngineConfig config() {
  EngineConfig c;
  c.model = kModel;
  c.threads = 2;
  c.kv_cache_memory = 16 << 20;
  return c;
}

sampling::SamplingParams greedy(int32_t n) {
  sampling::SamplingParams p;
  p.temperature = 0.0f;
  p.max_tokens = n;
  p.ignore_eos = true;
  return p;
}

std::vector<int32_t> drain(OutputStream& s, FinishReason* reason = nullptr) {
  std::vector<int32_t> tokens;
  while (auto d = s.next()) {
    EXPECT_TRUE(d->error.ok()) << d->error.to_string();
    tokens.insert(tokens.end(), d->tokens.begin(), d->tokens.end());
    if (d->finished && reason) *reason = d->finish_reason;
  }
  return tokens;
}

TEST(AsyncEngine, ConcurrentClientsGetTheSynchronousOutputs) {
  if (!file_exists(kModel)) GTEST_SKIP() << "fixtures missing";
  // Reference: each prompt alone through the synchronous core.
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 12; ++i) {
    std::vector<int32_t> p;
    for (int j = 0; j < 5 + 9 * i; ++j) p.push_back((j * 31 + i * 7) % 1024);
    prompts.push_back(p);
  }
  auto core = EngineCore::create(config());
  ASSERT_TRUE(core.ok());
  std::vector<std::vector<int32_t>> expected;
  for (size_t i = 0; i < prompts.size(); ++i) {
    ASSERT_TRUE((*core)->add_request(NewRequest{static_cast<RequestId>(i + 1), prompts[i], greedy(16), ""}).ok());
    std::vector<int32_t> out;
    while ((*core)->has_unfinished()) {
      auto outputs = (*core)->step();
      ASSERT_TRUE(outputs.ok());
      for (auto& o : *outputs) out.insert(out.end(), o.new_tokens.begin(), o.new_tokens.end());
    }
    expected.push_back(out);
  }
  auto engine = AsyncEngine::create(config());
  ASSERT_TRUE(engine.ok());
  std::vector<std::vector<int32_t>> got(prompts.size());
  std::vector<std::thread> clients;
  for (size_t i = 0; i < prompts.size(); ++i)
    clients.emplace_back([&, i] {
      auto stream = (*engine)->add_request(prompts[i], greedy(16));
      ASSERT_TRUE(stream.ok());
      got[i] = drain(**stream);
    });
  for (auto& t : clients) t.join();
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(got[i], expected[i]) << i;
  // Let the engine thread publish its last stats.
  for (int i = 0; i < 100 && (*engine)->stats().scheduler.num_running > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ((*engine)->stats().scheduler.kv_blocks_used, 0);
}

TEST(AsyncEngine, AbortEndsTheStreamAndFreesBlocks) {
  if (!file_exists(kModel)) GTEST_SKIP() << "fixtures missing";
  auto engine = AsyncEngine::create(config());
  ASSERT_TRUE(engine.ok());
  auto stream = (*engine)->add_request({1, 2, 3, 4, 5}, greedy(400));
  ASSERT_TRUE(stream.ok());
  auto first = (*stream)->next();  // wait until it runs
  ASSERT_TRUE(first.has_value());
  (*engine)->abort((*stream)->id());
  FinishReason reason = FinishReason::kNone;
  auto rest = drain(**stream, &reason);
  EXPECT_EQ(reason, FinishReason::kAbort);
  EXPECT_LT(rest.size(), 399u);
  for (int i = 0; i < 200 && (*engine)->stats().scheduler.kv_blocks_used > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ((*engine)->stats().scheduler.kv_blocks_used, 0);
  // Errors reach the caller: a prompt over the context.
  std::vector<int32_t> huge((*engine)->max_model_len() + 10, 1);
  EXPECT_FALSE((*engine)->add_request(huge, greedy(4)).ok());
}

}  // namespace
}  // namespace ember::engine
