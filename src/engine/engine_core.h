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
  RequestId id = 0;                  // ids below 2^62; the engine numbers n > 1 samples above
  std::vector<int32_t> prompt;
  sampling::SamplingParams params;
  std::string cache_salt;
  int32_t n = 1;                     // parallel samples sharing the prompt's KV blocks
};

// What one step produced for one request.
struct StepOutput {
  RequestId id = 0;                                    // the request as added
  int32_t index = 0;                                   // which of its n samples
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
  // Ends a request (all its samples) now; false if unknown. Blocks are freed.
  bool abort(RequestId id);
  // Ends one sample of a request as finished by a stop string (seen by the
  // caller in text).
  Status finish_stopped(RequestId id, int32_t index = 0);

  // Runs one step; outputs for every request that advanced or finished.
  Result<std::vector<StepOutput>> step();
  bool has_unfinished() const { return scheduler_->has_unfinished(); }
  // The requests (ids as added) that ran for the first time in the steps
  // since the last call: the end of their time in the queue.
  std::vector<RequestId> take_first_scheduled() {
    std::vector<RequestId> ids;
    ids.swap(first_scheduled_);
    return ids;
  }

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
    RequestId parent = 0;      // the id the caller knows
    int32_t index = 0;         // sample index within the request
    int32_t pending_forks = 0; // samples still to split off after the prompt's logits
    std::vector<int32_t> prompt;
    bool scheduled = false;    // has run in a step (first_scheduled_ told)
  };
  // Splits the n - 1 extra samples off `id` (their KV blocks shared) and
  // samples each from `logits`; their outputs are appended.
  Status fork_samples(RequestId id, RequestState& st, const float* logits, std::vector<SampledToken>& sampled,
                      std::vector<StepOutput>& outputs, std::vector<RequestId>& stopped);
  StepOutput sample_one(RequestId id, RequestState& st, float* logits, std::vector<SampledToken>& sampled,
                        std::vector<RequestId>& stopped);

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
  RequestId next_sample_id_ = RequestId{1} << 62;
  std::unordered_map<RequestId, RequestId> sample_parent_;  // internal sample id -> request id
  std::vector<float> scratch_logits_;
  model::ForwardBatch batch_;
  std::vector<float> logits_;
  std::vector<RequestId> first_scheduled_;
};

}  // namespace ember::engine
