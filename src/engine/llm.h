// ember::LLM, the synchronous API vLLM users know: build it with a model and
// engine options, hand it a batch of prompts and sampling parameters, and get
// every result back in order. Runs the same engine core as the server.
#pragma once

#include <memory>
#include <vector>

#include "engine/engine_core.h"

namespace ember::engine {

struct CompletionOutput {
  int32_t index = 0;                               // which of the n samples
  std::vector<int32_t> token_ids;
  std::vector<sampling::TokenLogprobs> logprobs;   // when params.logprobs >= 0
  FinishReason finish_reason = FinishReason::kNone;
};

struct RequestOutput {
  std::vector<int32_t> prompt_token_ids;
  std::vector<CompletionOutput> outputs;           // n of them, by index
  int64_t num_cached_tokens = 0;                   // prompt tokens served by the prefix cache
};

class LLM {
 public:
  static Result<std::unique_ptr<LLM>> create(const EngineConfig& config);

  // Runs all prompts together (continuous batching) and returns their
  // outputs in the order given.
  Result<std::vector<RequestOutput>> generate(const std::vector<std::vector<int32_t>>& prompts,
                                              const sampling::SamplingParams& params, int32_t n = 1);

  EngineCore& core() { return *core_; }

 private:
  explicit LLM(std::unique_ptr<EngineCore> core) : core_(std::move(core)) {}
  std::unique_ptr<EngineCore> core_;
  RequestId next_id_ = 1;
};

}  // namespace ember::engine
