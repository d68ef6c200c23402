// The engine's synchronous core: requests in, one step at a time. Each step
// the scheduler picks the tokens to run, the model runs them as one ragged
// batch over the paged KV cache, every sequence that reached its turn
// samples one token with its own sampler, and the scheduler is updated.
// Not thread-safe: the async engine calls it from its one engine thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "engine/engine_config.h"
#include "engine/request.h"
#include "engine/scheduler.h"
#include "kv/kv_cache.h"
#include "model/model.h"
#include "sampling/sampler.h"

namespace ember::engine {

struct NewRequest {
  RequestId id = 0;
  std::vector<int32_t> prompt;
  sampling::SamplingParams params;
  std::string cache_salt;
};

// What one step produced for one request.
struct StepOutput {
  RequestId id = 0;
  std::vector<int32_t> new_tokens;                     // usually one
  std::vector<sampling::TokenLogprobs> logprobs;       // one per new token when asked
  bool finished = false;
  FinishReason finish_reason = FinishReason::kNone;
  bool stopped_by_token = false;                       // EOS or a stop_token_id ended it
  int64_t num_prompt_tokens = 0;
  int64_t num_cached_tokens = 0;                       // prompt tokens served by the prefix cache
};

struct EngineStats {
  SchedulerStats scheduler;
  int64_t kv_cache_bytes = 0;
  int64_t max_model_len = 0;
};

class EngineCore {
 public:
  static Result<std::unique_ptr<EngineCore>> create(const EngineConfig& config);

  // Validates and queues a request. The id must be new.
  Status add_request(NewRequest request);
  // Ends a request now; false if unknown. Its blocks are freed.
  bool abort(RequestId id);
  // Ends a request as finished by a stop string (seen by the caller in text).
  Status finish_stopped(RequestId id);

  // Runs one step; outputs for every request that advanced or finished.
  Result<std::vector<StepOutput>> step();
  bool has_unfinished() const { return scheduler_->has_unfinished(); }

  const model::Model& model() const { return *model_; }
  model::Model& model() { return *model_; }
  ThreadPool& pool() { return *pool_; }
  const std::vector<int32_t>& eos_token_ids() const { return eos_ids_; }
  void set_eos_token_ids(std::vector<int32_t> ids) { eos_ids_ = std::move(ids); }
  int64_t max_model_len() const { return max_model_len_; }
  EngineStats stats() const;

 private:
  struct RequestState {
    sampling::SamplingParams params;
    std::unique_ptr<sampling::Sampler> sampler;
  };

  EngineCore() = default;
  Status build_batch(const SchedulerOutput& out);

  EngineConfig config_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<model::Model> model_;
  std::unique_ptr<kv::KvCache> kv_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unordered_map<RequestId, RequestState> states_;
  std::vector<int32_t> eos_ids_;
  int64_t max_model_len_ = 0;
  model::ForwardBatch batch_;
  std::vector<float> logits_;
};

}  // namespace ember::engine
