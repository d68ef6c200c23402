// The engine as the server uses it: one engine thread runs the step loop
// (sleeping when idle); any thread adds requests and gets a stream of
// incremental outputs, or aborts. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/engine_core.h"

namespace ember::engine {

using Clock = std::chrono::steady_clock;

// One increment of a request's output.
struct OutputDelta {
  int32_t index = 0;                               // which of the n samples
  std::vector<int32_t> tokens;                     // new token ids
  std::vector<sampling::TokenLogprobs> logprobs;   // one per token when asked
  bool finished = false;                           // this sample is done
  FinishReason finish_reason = FinishReason::kNone;
  bool stopped_by_token = false;
  Status error;                                    // the engine failed this request
};

// What the caller reads from. All samples of a request share one stream;
// it is done when every sample finished (or the request failed / was aborted).
class OutputStream {
 public:
  explicit OutputStream(RequestId id, int32_t n) : id_(id), unfinished_(n) {}

  RequestId id() const { return id_; }
  // Blocks until a delta arrives or the stream is done (nullopt). With a
  // timeout, nullopt may also mean "nothing yet": check done().
  std::optional<OutputDelta> next(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  bool done() const;

  // Timings, for usage reports and metrics.
  Clock::time_point arrival() const { return arrival_; }
  std::optional<Clock::time_point> first_token() const;
  // The start of the step that first ran the request (the end of its queue time).
  std::optional<Clock::time_point> first_scheduled() const;
  int64_t num_prompt_tokens() const { return num_prompt_tokens_.load(); }
  int64_t num_cached_tokens() const { return num_cached_tokens_.load(); }

 private:
  friend class AsyncEngine;
  void push(OutputDelta delta);
  bool all_finished() const;  // every sample ended (deltas may still be queued)

  const RequestId id_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<OutputDelta> queue_;
  int32_t unfinished_;
  Clock::time_point arrival_ = Clock::now();
  std::optional<Clock::time_point> first_token_;
  std::optional<Clock::time_point> first_scheduled_;
  std::atomic<int64_t> num_prompt_tokens_{0}, num_cached_tokens_{0};
};

class AsyncEngine {
 public:
  static Result<std::unique_ptr<AsyncEngine>> create(const EngineConfig& config);
  // Takes over a core built elsewhere (tests).
  explicit AsyncEngine(std::unique_ptr<EngineCore> core);
  ~AsyncEngine();

  // Validates and queues; the stream gets every output of the request.
  Result<std::shared_ptr<OutputStream>> add_request(std::vector<int32_t> prompt, sampling::SamplingParams params,
                                                    int32_t n = 1, std::string cache_salt = "");
  // Ends a request now (the stream finishes with kAbort). Safe at any time.
  void abort(RequestId id);
  // Ends one sample because the caller matched a stop string in its text.
  void stop_sample(RequestId id, int32_t index);

  EngineStats stats() const;
  const model::Model& model() const { return core_->model(); }
  int64_t max_model_len() const { return core_->max_model_len(); }
  const std::vector<int32_t>& eos_token_ids() const { return core_->eos_token_ids(); }

 private:
  struct Pending {
    NewRequest request;
    std::shared_ptr<OutputStream> stream;
  };
  void loop();
  void run_step();  // one engine step, outputs pushed to their streams
  void publish_stats();  // stats_ = the core's, under the lock

  std::unique_ptr<EngineCore> core_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Pending> pending_;
  std::vector<RequestId> aborts_;
  std::vector<std::pair<RequestId, int32_t>> stops_;
  std::unordered_map<RequestId, std::shared_ptr<OutputStream>> streams_;  // engine thread only
  EngineStats stats_;
  std::atomic<RequestId> next_id_{1};
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ember::engine
