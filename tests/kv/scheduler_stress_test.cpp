// Randomized scheduler runs: many requests with shared and private prefixes,
// salts, parallel samples (fork), stop tokens, aborts between and during
// steps, and a KV pool far too small for all of them. After every step the
// scheduler's invariants hold, FakeRunner finds the right K/V behind every
// slot, and each request's tokens match an independent mirror; at the end
// every block is free.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/scheduler.h"
#include "kv/fake_runner.h"

namespace ember::engine {
namespace {

using testing::FakeRunner;

struct Totals {
  int64_t preemptions = 0, evictions = 0, hit_tokens = 0, copies = 0, forks = 0, aborts = 0;
  int64_t rejected = 0, finished = 0;
};

class Stress {
 public:
  explicit Stress(uint64_t seed) : rng_(seed) {
    const int64_t sizes[] = {1, 2, 4, 16};
    bs_ = sizes[pick(4)];
    o_.max_model_len = 24 + pick(72);
    o_.enable_chunked_prefill = pick(4) != 0;
    o_.max_num_batched_tokens = o_.enable_chunked_prefill ? 1 + pick(40)
                                                          : o_.max_model_len + pick(16);
    o_.max_num_seqs = 1 + pick(8);
    o_.kv.block_size = bs_;
    // Room for the longest request plus a little: far too small for all.
    o_.kv.num_blocks = (o_.max_model_len + bs_ - 1) / bs_ + pick(6);
    o_.kv.enable_prefix_caching = pick(4) != 0;
    o_.kv.hash_seed = seed + 1;
    for (int i = 0; i < 4; ++i) prefixes_.push_back(random_tokens(pick(40)));
  }

  std::string describe() const {
    return "bs " + std::to_string(bs_) + ", blocks " + std::to_string(o_.kv.num_blocks) +
           ", budget " + std::to_string(o_.max_num_batched_tokens) + ", max_num_seqs " +
           std::to_string(o_.max_num_seqs) + ", max_model_len " + std::to_string(o_.max_model_len) +
           (o_.enable_chunked_prefill ? ", chunked" : ", whole prompts") +
           (o_.kv.enable_prefix_caching ? ", caching" : ", no caching");
  }

  void run(int num_requests, Totals& totals) {
    Result<Scheduler> made = Scheduler::create(o_);
    ASSERT_TRUE(made.ok()) << made.status().to_string();
    Scheduler& s = *made;
    FakeRunner runner(o_.kv.num_blocks, bs_);
    int added = 0;
    for (int step = 0; step < 20000 && (added < num_requests || s.has_unfinished()); ++step) {
      if (added < num_requests) {
        for (int64_t k = pick(3); k > 0; --k, ++added) add(s, totals);
      }
      if (pick(12) == 0) abort_one(s, totals);
      if (pick(10) == 0) fork_one(s, /*scheduled=*/nullptr, totals);

      Result<SchedulerOutput> out = s.schedule();
      ASSERT_TRUE(out.ok()) << out.status().to_string();
      ASSERT_TRUE(s.check_invariants().ok()) << s.check_invariants().to_string();
      ASSERT_LE(out->num_batched_tokens(), o_.max_num_batched_tokens);
      ASSERT_LE(static_cast<int64_t>(out->seqs.size()), o_.max_num_seqs);
      std::vector<SampledToken> sampled;
      ASSERT_TRUE(runner.run(s, *out, sampled)) << describe();
      if (pick(6) == 0) fork_one(s, &sampled, totals);  // joins the step
      if (pick(15) == 0) abort_one(s, totals);          // during the step

      Result<std::vector<RequestId>> done = s.update(*out, sampled);
      ASSERT_TRUE(done.ok()) << done.status().to_string();
      for (const SampledToken& t : sampled) {
        if (mirror_.count(t.id)) mirror_[t.id].push_back(t.token);
      }
      for (const RequestId id : *done) {
        EXPECT_EQ(mirror_[id].size() - prompt_len_[id], static_cast<size_t>(max_tokens_[id]));
        mirror_.erase(id);
        ++totals.finished;
      }
      for (const SampledToken& t : sampled) {  // the engine's stop tokens
        if (t.token % 13 == 0 && s.get(t.id) != nullptr) {
          ASSERT_TRUE(s.finish(t.id, FinishReason::kStop).ok());
          mirror_.erase(t.id);
          ++totals.finished;
        }
      }
      ASSERT_TRUE(s.check_invariants().ok()) << s.check_invariants().to_string();
      for (const auto& [id, tokens] : mirror_) {
        const Request* r = s.get(id);
        ASSERT_NE(r, nullptr) << "request " << id << " vanished";
        ASSERT_EQ(r->tokens, tokens) << "request " << id;
      }
    }
    ASSERT_FALSE(s.has_unfinished()) << "requests left after 20000 steps: " << describe();
    EXPECT_EQ(s.block_manager().pool().num_used(), 0) << describe();
    EXPECT_TRUE(s.check_invariants().ok());
    const SchedulerStats st = s.stats();
    EXPECT_EQ(st.kv_blocks_used, 0);
    totals.preemptions += st.num_preemptions;
    totals.evictions += st.num_evictions;
    totals.hit_tokens += st.prefix_hit_tokens;
    totals.copies += s.block_manager().stats().num_copies;
  }

 private:
  int64_t pick(int64_t n) { return static_cast<int64_t>(rng_() % static_cast<uint64_t>(n)); }

  std::vector<int32_t> random_tokens(int64_t n) {
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& x : t) x = static_cast<int32_t>(pick(50));  // small vocab: chance overlaps
    return t;
  }

  void add(Scheduler& s, Totals& totals) {
    RequestSpec spec;
    spec.id = next_id_++;
    const auto& base = prefixes_[pick(prefixes_.size())];
    spec.prompt.assign(base.begin(), base.begin() + pick(base.size() + 1));
    const auto tail = random_tokens(1 + pick(10));
    spec.prompt.insert(spec.prompt.end(), tail.begin(), tail.end());
    if (pick(5) == 0) spec.cache_salt = "tenant-" + std::to_string(pick(2));
    const int64_t len = static_cast<int64_t>(spec.prompt.size());
    if (pick(20) == 0 || len >= o_.max_model_len) {  // can never fit
      spec.max_tokens = o_.max_model_len - len + 1 + pick(4);
      if (spec.max_tokens < 1) spec.max_tokens = 1;
      const Status st = s.add_request(spec);
      ASSERT_EQ(st.code(), StatusCode::kOutOfRange) << st.to_string();
      ++totals.rejected;
      return;
    }
    spec.max_tokens = std::min<int64_t>(1 + pick(20), o_.max_model_len - len);
    prompt_len_[spec.id] = len;
    max_tokens_[spec.id] = spec.max_tokens;
    mirror_[spec.id] = spec.prompt;
    const Status st = s.add_request(std::move(spec));
    ASSERT_TRUE(st.ok()) << st.to_string();
  }

  RequestId random_live() {
    if (mirror_.empty()) return -1;
    auto it = mirror_.begin();
    std::advance(it, pick(mirror_.size()));
    return it->first;
  }

  void abort_one(Scheduler& s, Totals& totals) {
    const RequestId id = random_live();
    if (id < 0) return;
    ASSERT_TRUE(s.abort(id));
    ASSERT_FALSE(s.abort(id));
    mirror_.erase(id);
    ++totals.aborts;
  }

  // Forks a random live request. With `sampled` (during a step) only a
  // request that wanted logits is forked, and its child gets a token too.
  void fork_one(Scheduler& s, std::vector<SampledToken>* sampled, Totals& totals) {
    RequestId parent = -1;
    int32_t token = 0;
    if (sampled != nullptr) {
      if (sampled->empty()) return;
      const SampledToken& t = (*sampled)[pick(sampled->size())];
      if (!mirror_.count(t.id)) return;
      parent = t.id;
      token = static_cast<int32_t>((t.token + 1 + pick(7)) % 5000);
    } else {
      parent = random_live();
      if (parent < 0) return;
    }
    const RequestId child = next_id_++;
    ASSERT_TRUE(s.fork(parent, child).ok());
    mirror_[child] = mirror_[parent];
    prompt_len_[child] = prompt_len_[parent];
    max_tokens_[child] = max_tokens_[parent];
    if (sampled != nullptr) sampled->push_back({child, token});
    ++totals.forks;
  }

  std::mt19937_64 rng_;
  int64_t bs_ = 16;
  SchedulerOptions o_;
  std::vector<std::vector<int32_t>> prefixes_;
  std::map<RequestId, std::vector<int32_t>> mirror_;  // live requests' expected tokens
  std::map<RequestId, int64_t> prompt_len_, max_tokens_;
  RequestId next_id_ = 1;
};

TEST(SchedulerStress, RandomWorkloadsKeepEveryInvariant) {
  Totals totals;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    Stress stress(seed);
    SCOPED_TRACE("seed " + std::to_string(seed) + ": " + stress.describe());
    stress.run(150, totals);
    if (::testing::Test::HasFatalFailure()) return;
  }
  // The workloads really exercised the hard paths.
  EXPECT_GT(totals.preemptions, 0);
  EXPECT_GT(totals.evictions, 0);
  EXPECT_GT(totals.hit_tokens, 0);
  EXPECT_GT(totals.copies, 0);
  EXPECT_GT(totals.forks, 0);
  EXPECT_GT(totals.aborts, 0);
  EXPECT_GT(totals.rejected, 0);
  EXPECT_GT(totals.finished, 0);
  std::printf("stress totals: %lld preemptions, %lld evictions, %lld prefix-hit tokens, "
              "%lld copies, %lld forks, %lld aborts, %lld rejected, %lld finished\n",
              static_cast<long long>(totals.preemptions), static_cast<long long>(totals.evictions),
              static_cast<long long>(totals.hit_tokens), static_cast<long long>(totals.copies),
              static_cast<long long>(totals.forks), static_cast<long long>(totals.aborts),
              static_cast<long long>(totals.rejected), static_cast<long long>(totals.finished));
}

}  // namespace
}  // namespace ember::engine
