// Scheduler: budgets, order, prefix hits, preemption, abort, fork, errors.
// Block size 4 keeps hand-derived positions, slots and block counts small;
// FakeRunner checks every step's slots and K/V reads independently.
#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <vector>

#include "kv/fake_runner.h"

namespace ember::engine {
namespace {

using testing::FakeRunner;

constexpr int64_t kBs = 4;

SchedulerOptions options(int64_t num_blocks, int64_t budget = 2048) {
  SchedulerOptions o;
  o.max_num_batched_tokens = budget;
  o.max_model_len = 256;
  o.kv.num_blocks = num_blocks;
  o.kv.block_size = kBs;
  o.kv.hash_seed = 5;
  return o;
}

std::vector<int32_t> prompt(int n, int32_t first = 1000) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

RequestSpec spec(RequestId id, std::vector<int32_t> p, int64_t max_tokens, std::string salt = "") {
  RequestSpec s;
  s.id = id;
  s.prompt = std::move(p);
  s.max_tokens = max_tokens;
  s.cache_salt = std::move(salt);
  return s;
}

// Drives a scheduler the way the engine will, keeping every sampled token.
struct Harness {
  explicit Harness(const SchedulerOptions& o)
      : sched(std::move(Scheduler::create(o)).value()), runner(o.kv.num_blocks, o.kv.block_size) {}

  void add(RequestSpec s) {
    outputs[s.id];
    const Status st = sched.add_request(std::move(s));
    ASSERT_TRUE(st.ok()) << st.to_string();
  }

  // schedule -> run -> update. Returns the step's output.
  SchedulerOutput step() {
    Result<SchedulerOutput> out = sched.schedule();
    EXPECT_TRUE(out.ok()) << out.status().to_string();
    EXPECT_TRUE(sched.check_invariants().ok()) << sched.check_invariants().to_string();
    std::vector<SampledToken> sampled;
    EXPECT_TRUE(runner.run(sched, *out, sampled));
    for (const SampledToken& t : sampled) outputs[t.id].push_back(t.token);
    Result<std::vector<RequestId>> done = sched.update(*out, sampled);
    EXPECT_TRUE(done.ok()) << done.status().to_string();
    if (done.ok()) last_finished = *done;
    EXPECT_TRUE(sched.check_invariants().ok()) << sched.check_invariants().to_string();
    return std::move(out).value();
  }

  void run_to_completion(int max_steps = 10000) {
    for (int i = 0; i < max_steps && sched.has_unfinished(); ++i) step();
    EXPECT_FALSE(sched.has_unfinished());
    EXPECT_EQ(sched.block_manager().pool().num_used(), 0);
  }

  Scheduler sched;
  FakeRunner runner;
  std::map<RequestId, std::vector<int32_t>> outputs;
  std::vector<RequestId> last_finished;
};

TEST(Scheduler, OneRequestFromPromptToLength) {
  Harness h(options(16));
  h.add(spec(7, prompt(10), 3));
  SchedulerOutput out = h.step();
  ASSERT_EQ(out.seqs.size(), 1u);
  const ScheduledSeq& s = out.seqs[0];
  EXPECT_EQ(s.id, 7);
  EXPECT_EQ(s.num_tokens, 10);
  EXPECT_EQ(s.num_computed, 0);
  EXPECT_EQ(s.context_len, 10);
  EXPECT_TRUE(s.wants_logits);
  EXPECT_FALSE(s.is_decode);
  EXPECT_EQ(s.block_table, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(out.positions, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(out.slots, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(out.num_prefill_tokens, 10);
  EXPECT_EQ(h.sched.get(7)->num_computed_tokens, 10);
  EXPECT_EQ(h.sched.get(7)->num_output_tokens(), 1);

  out = h.step();  // decode of position 10: block 2, offset 2
  ASSERT_EQ(out.seqs.size(), 1u);
  EXPECT_TRUE(out.seqs[0].is_decode);
  EXPECT_EQ(out.positions, std::vector<int32_t>{10});
  EXPECT_EQ(out.slots, std::vector<int64_t>{2 * kBs + 2});
  EXPECT_EQ(out.num_decode_tokens, 1);
  EXPECT_TRUE(h.last_finished.empty());

  out = h.step();  // third output token: max_tokens reached
  EXPECT_EQ(h.last_finished, std::vector<RequestId>{7});
  EXPECT_EQ(h.sched.get(7), nullptr);
  EXPECT_EQ(h.sched.block_manager().pool().num_used(), 0);
  EXPECT_EQ(h.outputs[7].size(), 3u);
  out = h.step();
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(out.finished, std::vector<RequestId>{7});
}

TEST(Scheduler, ChunkedPrefillFollowsTheBudget) {
  Harness h(options(16, /*budget=*/8));
  h.add(spec(1, prompt(20), 2));
  const int64_t chunks[] = {8, 8, 4};
  int64_t pos = 0;
  for (const int64_t c : chunks) {
    const SchedulerOutput out = h.step();
    ASSERT_EQ(out.seqs.size(), 1u);
    EXPECT_EQ(out.seqs[0].num_tokens, c);
    EXPECT_EQ(out.seqs[0].num_computed, pos);
    EXPECT_EQ(out.positions.front(), pos);
    EXPECT_EQ(out.seqs[0].wants_logits, pos + c == 20);
    pos += c;
  }
  EXPECT_EQ(h.outputs[1].size(), 1u);
  h.run_to_completion();
}

TEST(Scheduler, DecodesFirstThenPromptChunksInTheRest) {
  Harness h(options(64, /*budget=*/8));
  h.add(spec(1, prompt(2), 20));
  h.add(spec(2, prompt(30, 2000), 2));
  SchedulerOutput out = h.step();
  ASSERT_EQ(out.seqs.size(), 2u);
  EXPECT_EQ(out.seqs[0].num_tokens, 2);
  EXPECT_EQ(out.seqs[1].num_tokens, 6);
  // While request 2's prompt runs in chunks, request 1 decodes every step,
  // first in the batch.
  int64_t done = 6;
  while (done < 30) {
    out = h.step();
    ASSERT_EQ(out.seqs.size(), 2u);
    EXPECT_EQ(out.seqs[0].id, 1);
    EXPECT_EQ(out.seqs[0].num_tokens, 1);
    EXPECT_TRUE(out.seqs[0].is_decode);
    EXPECT_EQ(out.seqs[1].id, 2);
    EXPECT_EQ(out.seqs[1].num_tokens, std::min<int64_t>(7, 30 - done));
    EXPECT_LE(out.num_batched_tokens(), 8);
    done += out.seqs[1].num_tokens;
  }
  h.run_to_completion();
}

TEST(Scheduler, FirstComeFirstServedWithoutOvertaking) {
  // 6 blocks: A needs 3, B 4, C 1. B does not fit next to A, and C, though
  // it would fit, does not overtake B.
  Harness h(options(6));
  h.add(spec(1, prompt(12), 1));
  h.add(spec(2, prompt(16, 2000), 1));
  h.add(spec(3, prompt(2, 3000), 1));
  SchedulerOutput out = h.step();
  ASSERT_EQ(out.seqs.size(), 1u);
  EXPECT_EQ(out.seqs[0].id, 1);
  EXPECT_EQ(h.last_finished, std::vector<RequestId>{1});
  out = h.step();
  ASSERT_EQ(out.seqs.size(), 2u);
  EXPECT_EQ(out.seqs[0].id, 2);
  EXPECT_EQ(out.seqs[1].id, 3);
  h.run_to_completion();
}

TEST(Scheduler, BudgetChunksTheNextArrivalRatherThanSkippingIt) {
  Harness h(options(64, /*budget=*/10));
  h.add(spec(1, prompt(6), 1));
  h.add(spec(2, prompt(6, 2000), 1));
  h.add(spec(3, prompt(2, 3000), 1));
  const SchedulerOutput out = h.step();
  ASSERT_EQ(out.seqs.size(), 2u);
  EXPECT_EQ(out.seqs[1].id, 2);
  EXPECT_EQ(out.seqs[1].num_tokens, 4);
  EXPECT_FALSE(out.seqs[1].wants_logits);
  h.run_to_completion();
}

TEST(Scheduler, MaxNumSeqsCapsTheBatch) {
  SchedulerOptions o = options(64);
  o.max_num_seqs = 2;
  Harness h(o);
  for (RequestId id = 1; id <= 3; ++id) h.add(spec(id, prompt(3, 1000 * id), 2));
  SchedulerOutput out = h.step();
  EXPECT_EQ(out.seqs.size(), 2u);
  EXPECT_EQ(h.sched.num_waiting(), 1);
  out = h.step();  // both finish here
  EXPECT_EQ(out.seqs.size(), 2u);
  out = h.step();
  ASSERT_EQ(out.seqs.size(), 1u);
  EXPECT_EQ(out.seqs[0].id, 3);
  h.run_to_completion();
}

TEST(Scheduler, WithoutChunkingAPromptWaitsForRoom) {
  SchedulerOptions o = options(64, /*budget=*/16);
  o.max_model_len = 16;
  o.enable_chunked_prefill = false;
  Harness h(o);
  h.add(spec(1, prompt(4), 5));
  h.add(spec(2, prompt(14, 2000), 1));
  SchedulerOutput out = h.step();  // 4 + 14 > 16: request 2 waits
  ASSERT_EQ(out.seqs.size(), 1u);
  out = h.step();                  // 1 + 14 fits
  ASSERT_EQ(out.seqs.size(), 2u);
  EXPECT_EQ(out.seqs[1].num_tokens, 14);
  h.run_to_completion();
  o.max_num_batched_tokens = 15;
  EXPECT_EQ(Scheduler::create(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(Scheduler, PrefixHitsSkipTheirPrefill) {
  Harness h(options(32));
  const auto p = prompt(10);
  h.add(spec(1, p, 2));
  h.run_to_completion();
  // Request 1 computed 11 tokens: blocks 0 and 1 are full and cached.
  h.add(spec(2, p, 1));
  SchedulerOutput out = h.step();
  ASSERT_EQ(out.seqs.size(), 1u);
  EXPECT_EQ(out.seqs[0].num_computed, 8);
  EXPECT_EQ(out.seqs[0].num_tokens, 2);
  EXPECT_EQ(out.positions, (std::vector<int32_t>{8, 9}));
  EXPECT_EQ(h.outputs[2].front(), h.outputs[1].front());
  // A prompt that is exactly the cached blocks recomputes its last block.
  h.add(spec(3, std::vector<int32_t>(p.begin(), p.begin() + 8), 1));
  out = h.step();
  ASSERT_EQ(out.seqs.size(), 1u);
  EXPECT_EQ(out.seqs[0].num_computed, 4);
  EXPECT_EQ(out.seqs[0].num_tokens, 4);
  // Another salt sees nothing.
  h.add(spec(4, p, 1, "tenant-b"));
  out = h.step();
  ASSERT_EQ(out.seqs.size(), 1u);
  EXPECT_EQ(out.seqs[0].num_computed, 0);
  const SchedulerStats s = h.sched.stats();
  EXPECT_EQ(s.prefix_query_tokens, 10 + 10 + 8 + 10);
  EXPECT_EQ(s.prefix_hit_tokens, 8 + 4);
  h.run_to_completion();
  // After a reset nothing hits.
  EXPECT_GT(h.sched.reset_prefix_cache(), 0);
  h.add(spec(5, p, 1));
  out = h.step();
  ASSERT_EQ(out.seqs.size(), 1u);
  EXPECT_EQ(out.seqs[0].num_computed, 0);
}

// Reference outputs: every request alone with plenty of blocks.
std::map<RequestId, std::vector<int32_t>> reference(const std::vector<RequestSpec>& specs) {
  std::map<RequestId, std::vector<int32_t>> out;
  for (const RequestSpec& s : specs) {
    Harness h(options(64));
    h.add(s);
    h.run_to_completion();
    out[s.id] = h.outputs[s.id];
  }
  return out;
}

void preemption_case(bool caching) {
  const std::vector<RequestSpec> specs = {spec(1, prompt(6), 10), spec(2, prompt(6, 2000), 10)};
  const auto expected = reference(specs);
  // Each needs 4 blocks at most; 6 blocks cannot hold both to the end.
  SchedulerOptions o = options(6);
  o.kv.enable_prefix_caching = caching;
  Harness h(o);
  for (const RequestSpec& s : specs) h.add(s);
  bool preempted = false, resumed = false;
  for (int i = 0; i < 100 && h.sched.has_unfinished(); ++i) {
    std::vector<int32_t> before;
    if (const Request* r = h.sched.get(2)) before = r->tokens;
    const bool was_waiting = h.sched.get(2) && h.sched.get(2)->status == RequestStatus::kPreempted;
    const SchedulerOutput out = h.step();
    if (!out.preempted.empty()) {
      EXPECT_EQ(out.preempted, std::vector<RequestId>{2});  // the most recent arrival
      const Request* r = h.sched.get(2);
      ASSERT_NE(r, nullptr);
      EXPECT_EQ(r->status, RequestStatus::kPreempted);
      EXPECT_EQ(r->num_computed_tokens, 0);
      EXPECT_EQ(r->tokens, before);  // its output so far is kept
      EXPECT_EQ(r->num_preemptions, 1);
      EXPECT_EQ(out.seqs.size(), 1u);  // no admission in a preempting step
      preempted = true;
    }
    for (const ScheduledSeq& s : out.seqs) {
      if (s.id != 2 || !was_waiting) continue;
      // Resumed: the prompt and the output so far are recomputed (after any
      // prefix hit) in one chunk that ends with logits.
      resumed = true;
      // With caching: request 2 held 3 full cached blocks when preempted;
      // request 1's 4th block evicted the tail one, so 2 blocks (8 tokens) hit.
      EXPECT_EQ(s.num_computed, caching ? 8 : 0);
      EXPECT_EQ(s.context_len, static_cast<int64_t>(before.size()));
      EXPECT_TRUE(s.wants_logits);
      EXPECT_EQ(std::vector<int32_t>(out.tokens.begin() + s.q_begin,
                                     out.tokens.begin() + s.q_begin + s.num_tokens),
                std::vector<int32_t>(before.begin() + s.num_computed, before.end()));
    }
  }
  EXPECT_TRUE(preempted);
  EXPECT_TRUE(resumed);
  EXPECT_EQ(h.sched.stats().num_preemptions, 1);
  EXPECT_FALSE(h.sched.has_unfinished());
  EXPECT_EQ(h.sched.block_manager().pool().num_used(), 0);
  EXPECT_EQ(h.outputs[1], expected.at(1));
  EXPECT_EQ(h.outputs[2], expected.at(2));
}

TEST(Scheduler, PreemptionRecomputesAndResumesTheSameOutput) { preemption_case(false); }
TEST(Scheduler, PreemptionResumesFromItsCachedBlocks) { preemption_case(true); }

TEST(Scheduler, PreemptsTheNewestEvenIfAlreadyScheduled) {
  // A family of forks shares one arrival; younger members rank lower. With
  // budget 6, block size 4 and 10 blocks (hand-traced):
  //   step 1: R runs prompt 0..5; fork A (copy: 6 computed of 20).
  //   step 2: R 6..11 (copy-on-write of the shared block), step 3: R 12..17,
  //   step 4: R 18..19 + A 6..9, step 5: R decodes 20 + A 10..14 (9 blocks
  //   used); fork B from R (decoding).
  //   step 6: R's write into the block shared with B takes the last free
  //   block; B's decode fits in place; A's next chunk needs a block: the
  //   newest, B, is preempted although already planned for this step.
  Harness h(options(10, /*budget=*/6));
  h.add(spec(1, prompt(20), 10));
  h.step();
  ASSERT_TRUE(h.sched.fork(1, 2).ok());
  for (int i = 0; i < 4; ++i) h.step();
  EXPECT_EQ(h.sched.get(2)->num_computed_tokens, 15);
  EXPECT_EQ(h.sched.block_manager().pool().num_used(), 9);
  ASSERT_TRUE(h.sched.fork(1, 3).ok());
  h.outputs[3] = h.outputs[1];
  const SchedulerOutput out = h.step();
  EXPECT_EQ(out.preempted, std::vector<RequestId>{3});
  ASSERT_EQ(out.seqs.size(), 2u);
  EXPECT_EQ(out.seqs[0].id, 1);
  EXPECT_TRUE(out.seqs[0].is_decode);
  EXPECT_EQ(out.seqs[1].id, 2);
  EXPECT_EQ(out.seqs[1].num_tokens, 5);
  EXPECT_EQ(out.block_copies.size(), 1u);
  EXPECT_EQ(out.num_batched_tokens(), 6);
  h.run_to_completion();
  // One prompt, one deterministic sampler: all three streams agree.
  EXPECT_EQ(h.outputs[1].size(), 10u);
  EXPECT_EQ(h.outputs[2], h.outputs[1]);
  EXPECT_EQ(h.outputs[3], h.outputs[1]);
}

TEST(Scheduler, AbortAtEveryStage) {
  Harness h(options(6, /*budget=*/4));
  // Waiting.
  h.add(spec(1, prompt(10), 5));
  EXPECT_TRUE(h.sched.abort(1));
  EXPECT_FALSE(h.sched.abort(1));
  SchedulerOutput out = h.step();
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(out.aborted, std::vector<RequestId>{1});
  // Mid-prompt, between steps.
  h.add(spec(2, prompt(10), 5));
  h.step();
  EXPECT_EQ(h.sched.get(2)->num_computed_tokens, 4);
  EXPECT_TRUE(h.sched.abort(2));
  EXPECT_EQ(h.sched.block_manager().pool().num_used(), 0);
  // During a step: the update ignores it, including a token sampled for it.
  h.add(spec(3, prompt(3), 5));
  Result<SchedulerOutput> mid = h.sched.schedule();
  ASSERT_TRUE(mid.ok());
  EXPECT_TRUE(h.sched.abort(3));
  EXPECT_EQ(h.sched.block_manager().pool().num_used(), 0);
  const SampledToken late[] = {{3, 42}};
  ASSERT_TRUE(h.sched.update(*mid, late).ok());
  ASSERT_TRUE(h.sched.check_invariants().ok());
  // Decoding.
  h.add(spec(4, prompt(3), 5));
  h.step();
  h.step();
  EXPECT_EQ(h.sched.get(4)->num_output_tokens(), 2);
  EXPECT_TRUE(h.sched.abort(4));
  // Preempted: two requests that outgrow 6 blocks.
  h.add(spec(5, prompt(8), 12));
  h.add(spec(6, prompt(8, 3000), 12));
  for (int i = 0; i < 50 && !(h.sched.get(6) &&
                              h.sched.get(6)->status == RequestStatus::kPreempted); ++i) {
    h.step();
  }
  ASSERT_NE(h.sched.get(6), nullptr);
  ASSERT_EQ(h.sched.get(6)->status, RequestStatus::kPreempted);
  EXPECT_TRUE(h.sched.abort(6));
  ASSERT_TRUE(h.sched.check_invariants().ok());
  // Finishing for a stop token works the same way.
  EXPECT_TRUE(h.sched.finish(5, FinishReason::kStop).ok());
  EXPECT_EQ(h.sched.finish(5, FinishReason::kStop).code(), StatusCode::kNotFound);
  EXPECT_EQ(h.sched.finish(5, FinishReason::kNone).code(), StatusCode::kInvalidArgument);
  out = h.step();
  EXPECT_EQ(out.finished, std::vector<RequestId>{5});
  EXPECT_EQ(out.aborted, std::vector<RequestId>{6});
  EXPECT_FALSE(h.sched.has_unfinished());
  EXPECT_EQ(h.sched.block_manager().pool().num_used(), 0);
}

TEST(Scheduler, ForkDuringAStepSamplesTwoStreams) {
  Harness h(options(16));
  h.add(spec(1, prompt(6), 4));
  Result<SchedulerOutput> out = h.sched.schedule();
  ASSERT_TRUE(out.ok());
  std::vector<SampledToken> sampled;
  ASSERT_TRUE(h.runner.run(h.sched, *out, sampled));
  ASSERT_EQ(sampled.size(), 1u);
  // The engine samples two tokens from the prompt's logits: the child joins
  // the step with its own.
  ASSERT_TRUE(h.sched.fork(1, 2).ok());
  EXPECT_EQ(h.sched.fork(1, 2).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(h.sched.fork(9, 10).code(), StatusCode::kNotFound);
  sampled.push_back({2, sampled[0].token + 1});
  EXPECT_EQ(h.sched.update(*out, {sampled.data(), 1}).status().code(),
            StatusCode::kInvalidArgument);  // the child's token is missing
  ASSERT_TRUE(h.sched.update(*out, sampled).ok());
  for (const SampledToken& t : sampled) h.outputs[t.id].push_back(t.token);
  ASSERT_TRUE(h.sched.check_invariants().ok());
  EXPECT_EQ(h.sched.block_manager().block_table(1)[1], h.sched.block_manager().block_table(2)[1]);

  // Both write position 6 into the shared block that holds positions 4..5:
  // one copy, made before the step.
  const SchedulerOutput next = h.step();
  ASSERT_EQ(next.seqs.size(), 2u);
  EXPECT_EQ(next.block_copies.size(), 1u);
  EXPECT_NE(next.seqs[0].block_table[1], next.seqs[1].block_table[1]);
  EXPECT_EQ(next.seqs[0].block_table[0], next.seqs[1].block_table[0]);
  h.run_to_completion();
  EXPECT_EQ(h.outputs[1].size(), 4u);
  EXPECT_EQ(h.outputs[2].size(), 4u);
  EXPECT_NE(h.outputs[1], h.outputs[2]);
}

TEST(Scheduler, ForkBetweenStepsCopiesTheStream) {
  Harness h(options(16));
  h.add(spec(1, prompt(5), 4));
  h.step();
  ASSERT_TRUE(h.sched.fork(1, 2).ok());
  h.outputs[2] = h.outputs[1];
  h.add(spec(3, prompt(5, 3000), 4));
  ASSERT_TRUE(h.sched.fork(3, 4).ok());  // still waiting: a waiting copy
  EXPECT_EQ(h.sched.get(4)->status, RequestStatus::kWaiting);
  h.run_to_completion();
  EXPECT_EQ(h.outputs[1], h.outputs[2]);
  EXPECT_EQ(h.outputs[3], h.outputs[4]);
}

TEST(Scheduler, RequestsThatCanNeverFitAreRejected) {
  SchedulerOptions o = options(4);
  o.max_model_len = 32;
  Result<Scheduler> made = Scheduler::create(o);
  ASSERT_TRUE(made.ok());
  Scheduler& s = *made;
  EXPECT_EQ(s.add_request(spec(1, prompt(20), 13)).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s.add_request(spec(1, prompt(32), 1)).code(), StatusCode::kOutOfRange);
  // 10 + 8 tokens need slots for 17 (the last token is never fed): 5 blocks.
  const Status too_big = s.add_request(spec(1, prompt(10), 8));
  EXPECT_EQ(too_big.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(too_big.message().find("4 blocks"), std::string::npos) << too_big.message();
  // max_tokens 0 means up to max_model_len: 31 slots, 8 blocks.
  EXPECT_EQ(s.add_request(spec(1, prompt(20), 0)).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.add_request(spec(1, {}, 1)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.add_request(spec(1, {5, -1}, 1)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.add_request(spec(1, prompt(3), -1)).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(s.has_unfinished());
  ASSERT_TRUE(s.add_request(spec(1, prompt(10), 7)).ok());  // 16 slots: exactly 4 blocks
  EXPECT_EQ(s.add_request(spec(1, prompt(3), 1)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.get(1)->max_tokens, 7);
}

TEST(Scheduler, OptionsAreValidated) {
  SchedulerOptions o = options(8);
  EXPECT_TRUE(o.validate().ok());
  o.max_num_batched_tokens = 0;
  EXPECT_EQ(Scheduler::create(o).status().code(), StatusCode::kInvalidArgument);
  o = options(8);
  o.max_num_seqs = 0;
  EXPECT_EQ(Scheduler::create(o).status().code(), StatusCode::kInvalidArgument);
  o = options(8);
  o.max_model_len = 0;
  EXPECT_EQ(Scheduler::create(o).status().code(), StatusCode::kInvalidArgument);
  o = options(0);
  EXPECT_EQ(Scheduler::create(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(Scheduler, MisusedStepsAreErrors) {
  Harness h(options(16));
  h.add(spec(1, prompt(6), 3));
  h.add(spec(2, prompt(6, 2000), 3));
  Result<SchedulerOutput> out = h.sched.schedule();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(h.sched.schedule().status().code(), StatusCode::kInternal);  // no update yet
  const SampledToken one[] = {{1, 5}};
  const SampledToken twice[] = {{1, 5}, {1, 6}, {2, 7}};
  const SampledToken negative[] = {{1, -5}, {2, 7}};
  EXPECT_FALSE(h.sched.update(*out, one).ok());  // request 2 wanted a token
  EXPECT_FALSE(h.sched.update(*out, twice).ok());
  EXPECT_FALSE(h.sched.update(*out, negative).ok());
  SchedulerOutput stale = *out;
  stale.step = 99;
  const SampledToken both[] = {{1, 5}, {2, 7}};
  EXPECT_FALSE(h.sched.update(stale, both).ok());
  ASSERT_TRUE(h.sched.check_invariants().ok());
  EXPECT_EQ(h.sched.get(1)->num_computed_tokens, 0);  // nothing applied
  ASSERT_TRUE(h.sched.update(*out, both).ok());
  EXPECT_FALSE(h.sched.update(*out, both).ok());  // twice

  // A token for a request that is mid-prompt or was not scheduled.
  SchedulerOptions small = options(16, 8);
  Harness h2(small);
  h2.add(spec(1, prompt(20), 3));
  out = h2.sched.schedule();
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(h2.sched.update(*out, one).ok());
  h2.add(spec(5, prompt(3, 5000), 3));
  const SampledToken other[] = {{5, 1}};
  EXPECT_FALSE(h2.sched.update(*out, other).ok());
  EXPECT_TRUE(h2.sched.update(*out, {}).ok());
}

TEST(Scheduler, StatsForMetrics) {
  Harness h(options(8, /*budget=*/8));
  h.add(spec(1, prompt(6), 3));
  h.add(spec(2, prompt(20, 2000), 2));
  h.step();
  SchedulerStats s = h.sched.stats();
  EXPECT_EQ(s.num_running, 2);
  EXPECT_EQ(s.num_waiting, 0);
  EXPECT_EQ(s.last_step_tokens, 8);
  EXPECT_EQ(s.kv_blocks_total, 8);
  EXPECT_EQ(s.kv_blocks_used, 2 + 1);
  EXPECT_DOUBLE_EQ(s.kv_usage, 3.0 / 8.0);
  EXPECT_EQ(s.total_prefill_tokens, 8);
  h.step();
  s = h.sched.stats();
  EXPECT_EQ(s.total_decode_tokens, 1);
  EXPECT_EQ(s.num_steps, 2);
  h.run_to_completion();
  EXPECT_EQ(h.sched.stats().kv_blocks_used, 0);
  EXPECT_EQ(h.sched.stats().num_running, 0);
}

}  // namespace
}  // namespace ember::engine
