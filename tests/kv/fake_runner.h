// A stand-in for the model runner that checks what the scheduler hands it.
//
// Its "KV cache" stores, per slot, a fingerprint of the token prefix that
// ends at that position (the real K/V of a token depends on every token up
// to it). Each step it performs the block copies, writes the fingerprints of
// the scheduled tokens into their slots, then checks that every scheduled
// sequence finds the right fingerprint at every position of its context, as
// attention would read it. Any slot, prefix-cache, copy-on-write or
// recompute mistake shows up as a wrong fingerprint.
//
// "Sampling" is a fixed function of the token history, so a request that is
// preempted and recomputed must produce the same output as one that is not.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/scheduler.h"

namespace ember::engine::testing {

// FNV-1a over 32-bit token ids, then a final mix.
inline uint64_t fingerprint(std::span<const int32_t> tokens, int64_t upto_inclusive) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int64_t i = 0; i <= upto_inclusive; ++i) {
    h ^= static_cast<uint32_t>(tokens[i]);
    h *= 0x100000001b3ull;
  }
  return h ^ (h >> 29) ^ 1;  // never 0, which marks an unwritten slot
}

inline int32_t next_token(std::span<const int32_t> tokens) {
  return static_cast<int32_t>(fingerprint(tokens, static_cast<int64_t>(tokens.size()) - 1) % 5000);
}

class FakeRunner {
 public:
  FakeRunner(int64_t num_blocks, int64_t block_size)
      : block_size_(block_size), kv_(static_cast<size_t>(num_blocks * block_size), 0) {}

  // Runs one step; returns false (with gtest failures) on any mismatch.
  bool run(const Scheduler& sched, const SchedulerOutput& out, std::vector<SampledToken>& sampled) {
    sampled.clear();
    const int64_t bs = block_size_;
    for (const kv::BlockCopy& c : out.block_copies) {
      for (int64_t o = 0; o < bs; ++o) kv_[c.dst * bs + o] = kv_[c.src * bs + o];
    }
    if (out.positions.size() != out.tokens.size() || out.slots.size() != out.tokens.size()) {
      ADD_FAILURE() << "flat arrays of step " << out.step << " differ in length";
      return false;
    }
    int64_t row = 0;
    for (const ScheduledSeq& s : out.seqs) {
      const Request* r = sched.get(s.id);
      if (r == nullptr) {
        ADD_FAILURE() << "scheduled request " << s.id << " is unknown";
        return false;
      }
      if (s.q_begin != row || s.context_len != s.num_computed + s.num_tokens ||
          s.context_len > r->num_tokens() ||
          s.wants_logits != (s.context_len == r->num_tokens()) ||
          static_cast<int64_t>(s.block_table.size()) * bs < s.context_len) {
        ADD_FAILURE() << "request " << s.id << ": inconsistent ScheduledSeq in step " << out.step;
        return false;
      }
      for (int64_t i = 0; i < s.num_tokens; ++i, ++row) {
        const int64_t pos = s.num_computed + i;
        const int64_t slot = s.block_table[pos / bs] * bs + pos % bs;
        if (out.positions[row] != pos || out.tokens[row] != r->tokens[pos] ||
            out.slots[row] != slot) {
          ADD_FAILURE() << "request " << s.id << " row " << row << " (position " << pos
                        << ") has the wrong token, position or slot";
          return false;
        }
        kv_[slot] = fingerprint(r->tokens, pos);
      }
    }
    for (const ScheduledSeq& s : out.seqs) {
      const Request* r = sched.get(s.id);
      for (int64_t pos = 0; pos < s.context_len; ++pos) {
        const int64_t slot = s.block_table[pos / bs] * bs + pos % bs;
        if (kv_[slot] != fingerprint(r->tokens, pos)) {
          ADD_FAILURE() << "step " << out.step << ": request " << s.id << " reads wrong K/V at position "
                        << pos << " (slot " << slot << ")";
          return false;
        }
      }
      if (s.wants_logits) sampled.push_back({s.id, next_token(r->tokens)});
    }
    return true;
  }

 private:
  int64_t block_size_;
  std::vector<uint64_t> kv_;
};

}  // namespace ember::engine::testing
