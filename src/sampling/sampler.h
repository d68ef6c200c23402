// The sampler chain of one sequence: logit bias, min_tokens masking,
// repetition / presence / frequency penalties, temperature, top_k, top_p,
// min_p, then a draw from the sequence's own random stream (seeded when the
// request gives a seed). Temperature 0 is greedy (ties to the lowest id).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sampling/sampling_params.h"

namespace ember::sampling {

struct TokenLogprobs {
  int32_t token = -1;
  float logprob = 0.0f;                          // of the chosen token
  std::vector<std::pair<int32_t, float>> top;    // the k most likely, best first
};

class Sampler {
 public:
  // `eos_ids`: tokens that end the sequence (masked until min_tokens; ignored
  // with ignore_eos). `prompt` feeds the repetition penalty.
  Sampler(const SamplingParams& params, std::vector<int32_t> eos_ids, std::span<const int32_t> prompt);

  // Picks the next token from `logits` ([vocab], modified in place).
  int32_t sample(float* logits, int64_t vocab);
  // Log-probabilities of the raw logits (call before sample(), which changes
  // them): the chosen token's and the top k.
  static TokenLogprobs logprobs(const float* logits, int64_t vocab, int32_t token, int32_t k);

  // Records a generated token (penalties, min_tokens).
  void accept(int32_t token);
  int32_t generated() const { return generated_; }

  // Why a sequence stops after `token`; None while it goes on.
  enum class Stop { kNone, kEos, kStopToken, kLength };
  Stop stop_reason(int32_t token) const;

  const SamplingParams& params() const { return params_; }

 private:
  void apply_penalties(float* logits, int64_t vocab) const;
  int32_t draw(float* logits, int64_t vocab);

  SamplingParams params_;
  std::vector<int32_t> eos_ids_;
  std::unordered_set<int32_t> prompt_tokens_;
  std::unordered_map<int32_t, int32_t> output_counts_;
  int32_t generated_ = 0;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;  // reused scratch
  std::vector<float> probs_;                          // by token id, unnormalized
};

}  // namespace ember::sampling
