// One generation stream as the scheduler tracks it: token ids, how many of
// them have K/V in the cache, and where it stands. Sampling parameters are
// not here: the engine attaches whatever it needs through `user_data`.
//
// tokens = prompt followed by the output sampled so far. A request computes
// its tokens in order; when num_computed_tokens reaches num_tokens() the
// model produced logits for the last token and the engine samples the next
// one. After preemption num_computed_tokens drops to 0 and everything
// (output included) is recomputed, so the stream resumes where it stopped.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ember::engine {

using RequestId = int64_t;

enum class RequestStatus {
  kWaiting,    // not admitted yet: holds no KV blocks
  kRunning,    // holds KV blocks; scheduled every step it fits
  kPreempted,  // was running, blocks freed; waits to be recomputed
  kFinished,   // done (see FinishReason); holds no KV blocks
};

enum class FinishReason {
  kNone,
  kStop,    // the engine saw EOS or a stop sequence
  kLength,  // max_tokens or max_model_len reached
  kAbort,   // the client went away or the engine gave up
};

inline const char* to_string(RequestStatus s) {
  switch (s) {
    case RequestStatus::kWaiting: return "waiting";
    case RequestStatus::kRunning: return "running";
    case RequestStatus::kPreempted: return "preempted";
    case RequestStatus::kFinished: return "finished";
  }
  return "?";
}

inline const char* to_string(FinishReason r) {
  switch (r) {
    case FinishReason::kNone: return "none";
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kAbort: return "abort";
  }
  return "?";
}

// What Scheduler::add_request takes.
struct RequestSpec {
  RequestId id = 0;
  std::vector<int32_t> prompt;      // token ids, at least one
  int64_t max_tokens = 0;           // output cap; 0: up to max_model_len
  std::string cache_salt;           // prefix-cache namespace; empty: shared
  std::shared_ptr<void> user_data;  // opaque to the scheduler (sampling state, stream)
};

struct Request {
  RequestId id = 0;
  std::vector<int32_t> tokens;  // prompt, then output
  int64_t num_prompt_tokens = 0;
  int64_t max_tokens = 0;       // output cap (resolved: >= 1)
  std::string cache_salt;
  std::shared_ptr<void> user_data;

  int64_t num_computed_tokens = 0;  // leading tokens whose K/V are cached
  int64_t num_cached_tokens = -1;   // prefix hit at first admission (-1: not yet)
  RequestStatus status = RequestStatus::kWaiting;
  FinishReason finish_reason = FinishReason::kNone;
  uint64_t arrival = 0;    // add_request order; forks share their parent's
  uint64_t sequence = 0;   // unique creation order (tie-break among forks)
  int64_t num_preemptions = 0;

  int64_t num_tokens() const { return static_cast<int64_t>(tokens.size()); }
  int64_t num_output_tokens() const { return num_tokens() - num_prompt_tokens; }
  std::span<const int32_t> prompt() const {
    return std::span<const int32_t>(tokens).first(static_cast<size_t>(num_prompt_tokens));
  }
  std::span<const int32_t> output() const {
    return std::span<const int32_t>(tokens).subspan(static_cast<size_t>(num_prompt_tokens));
  }
  // Scheduling priority: earlier arrival first (first come, first served).
  bool before(const Request& other) const {
    return arrival != other.arrival ? arrival < other.arrival : sequence < other.sequence;
  }
};

}  // namespace ember::engine
