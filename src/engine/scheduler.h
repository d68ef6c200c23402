// The scheduler: each step decides how many tokens every request runs inside
// a token budget, hands out KV slots (via kv::BlockManager) and keeps the
// waiting / running queues. Bookkeeping on integers only.
//
// One step, as the engine drives it:
//   out = schedule()                      which tokens run, where their K/V go
//   runner: perform out.block_copies, run the batch, sample one token for
//           every out.seqs[i] with wants_logits
//   update(out, sampled)                  append tokens, advance, cache blocks
//   finish(id, kStop) for EOS / stop strings; abort(id) at any time
//
// Policy (vLLM-like): running requests first, decodes before the next chunks
// of partly computed prompts; then waiting requests first come, first served,
// their prompts chunked to the remaining budget (chunked prefill), cached
// prefixes skipped. When blocks run out the most recently arrived running
// request is preempted by recompute: its blocks are freed and it returns to
// the front of the waiting queue with num_computed_tokens = 0. No new request
// is admitted in a step that preempted.
//
// Invariants (check_invariants()): running requests hold exactly
// num_computed_tokens KV slots between steps, waiting / preempted ones none;
// both queues are sorted by arrival; every request is in exactly one queue.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "engine/request.h"
#include "kv/block_manager.h"

namespace ember::engine {

struct SchedulerOptions {
  int64_t max_num_batched_tokens = 2048;  // token budget of one step
  int64_t max_num_seqs = 256;             // requests in one step
  int64_t max_model_len = 4096;           // prompt + output limit
  bool enable_chunked_prefill = true;     // off: a prompt runs whole or waits
  kv::BlockManagerOptions kv;             // num_blocks must be set

  Status validate() const;
};

// One request's part of a step. Its rows are q_begin .. q_begin + num_tokens
// - 1 of the flat arrays in SchedulerOutput: positions num_computed ..
// context_len - 1.
struct ScheduledSeq {
  RequestId id = 0;
  int64_t q_begin = 0;
  int64_t num_tokens = 0;
  int64_t num_computed = 0;  // tokens already in the cache before this step
  int64_t context_len = 0;   // tokens in the cache after this step
  bool wants_logits = false; // the last prompt chunk or a decode: sample after it
  bool is_decode = false;    // one token past the prompt
  std::vector<int32_t> block_table;  // blocks covering context_len tokens
};

struct SchedulerOutput {
  uint64_t step = 0;
  std::vector<ScheduledSeq> seqs;   // in batch order
  std::vector<int32_t> tokens;      // [num_batched_tokens]
  std::vector<int32_t> positions;   // [num_batched_tokens]
  std::vector<int64_t> slots;       // [num_batched_tokens] slot = block * block_size + offset
  std::vector<kv::BlockCopy> block_copies;  // copy before running the step
  std::vector<RequestId> preempted;  // this step
  std::vector<RequestId> aborted;    // since the previous schedule()
  std::vector<RequestId> finished;   // finish()/update() since the previous schedule()
  int64_t num_prefill_tokens = 0;
  int64_t num_decode_tokens = 0;

  int64_t num_batched_tokens() const { return static_cast<int64_t>(tokens.size()); }
  bool empty() const { return seqs.empty(); }
};

struct SampledToken {
  RequestId id = 0;
  int32_t token = 0;
};

struct SchedulerStats {
  int64_t num_running = 0;
  int64_t num_waiting = 0;  // preempted ones included
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;
  double kv_usage = 0.0;
  int64_t prefix_query_tokens = 0;
  int64_t prefix_hit_tokens = 0;
  int64_t num_evictions = 0;
  int64_t num_preemptions = 0;  // since creation
  int64_t num_steps = 0;        // steps that ran at least one token
  int64_t last_step_tokens = 0;
  int64_t total_prefill_tokens = 0;
  int64_t total_decode_tokens = 0;
};

class Scheduler {
 public:
  static Result<Scheduler> create(const SchedulerOptions& options);

  // Whether a request could ever run: a prompt, prompt + max_tokens <=
  // max_model_len, and its longest KV footprint no larger than the pool.
  Status validate_request(const RequestSpec& spec) const;
  // Queues a request (validated as above); ids must be unique among live ones.
  Status add_request(RequestSpec spec);

  // Plans the next step. Fails if the previous step has not been updated.
  Result<SchedulerOutput> schedule();
  // Applies a step's results: every scheduled request advances; those with
  // wants_logits (and still alive) must have exactly one sampled token, which
  // is appended. Requests reaching max_tokens or max_model_len finish with
  // kLength; their ids are returned. Tokens of requests aborted meanwhile are
  // ignored. On error nothing changes.
  Result<std::vector<RequestId>> update(const SchedulerOutput& out,
                                        std::span<const SampledToken> sampled);
  // Finishes a request in any state, freeing its blocks.
  Status finish(RequestId id, FinishReason reason);
  // finish(id, kAbort); false if the id is unknown (already gone).
  bool abort(RequestId id);
  // A new request `child` with parent's tokens, progress and KV blocks
  // (shared; a shared partial block is copied on the next write). Between
  // schedule() and update(), a scheduled parent's child joins that step: give
  // it its own sampled token in update() (n > 1 parallel samples).
  Status fork(RequestId parent, RequestId child, std::shared_ptr<void> child_user_data = nullptr);

  // Forgets cached prefixes nobody holds (e.g. after swapping weights).
  int64_t reset_prefix_cache() { return blocks_.reset_prefix_cache(); }

  const Request* get(RequestId id) const;
  bool has_unfinished() const { return !requests_.empty(); }
  int64_t num_running() const { return static_cast<int64_t>(running_.size()); }
  int64_t num_waiting() const { return static_cast<int64_t>(waiting_.size()); }
  SchedulerStats stats() const;
  const SchedulerOptions& options() const { return options_; }
  const kv::BlockManager& block_manager() const { return blocks_; }
  Status check_invariants() const;

 private:
  struct Planned {
    Request* req;
    int64_t n;
    std::vector<kv::BlockCopy> copies;
  };
  struct Pending {
    RequestId id;
    uint64_t sequence;  // tells a request from a later one reusing its id
    int64_t n;
  };

  Scheduler(const SchedulerOptions& options, kv::BlockManager blocks)
      : options_(options), blocks_(std::move(blocks)) {}

  void schedule_running(bool decodes, int64_t& budget, std::vector<Planned>& plan,
                        SchedulerOutput& out);
  void schedule_waiting(int64_t& budget, std::vector<Planned>& plan);
  void preempt(Request* req, std::vector<Planned>& plan, int64_t& budget, SchedulerOutput& out);
  void build_output(std::vector<Planned>& plan, SchedulerOutput& out);
  void remove(Request* req, FinishReason reason);
  void insert_running(Request* req);
  void insert_waiting(Request* req);
  int64_t max_kv_blocks(int64_t prompt_len, int64_t max_tokens) const;

  SchedulerOptions options_;
  kv::BlockManager blocks_;
  std::unordered_map<RequestId, std::unique_ptr<Request>> requests_;  // live ones
  std::vector<Request*> running_;  // sorted by arrival
  std::deque<Request*> waiting_;   // sorted by arrival; preempted ones go in front
  std::vector<Pending> pending_;   // the step between schedule() and update()
  bool in_flight_ = false;
  uint64_t step_ = 0;
  uint64_t next_arrival_ = 0;
  uint64_t next_sequence_ = 0;
  std::vector<RequestId> aborted_;
  std::vector<RequestId> finished_;
  int64_t num_preemptions_ = 0;
  int64_t num_steps_ = 0;
  int64_t last_step_tokens_ = 0;
  int64_t total_prefill_tokens_ = 0;
  int64_t total_decode_tokens_ = 0;
};

}  // namespace ember::engine
