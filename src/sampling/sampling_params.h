// What a request asks of the sampler, with vLLM/OpenAI semantics. Validated
// once into a Status naming the offending field.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace ember::sampling {

struct SamplingParams {
  float temperature = 1.0f;          // 0 = greedy
  int32_t top_k = 0;                 // 0 or -1 = off
  float top_p = 1.0f;                // 1 = off
  float min_p = 0.0f;                // 0 = off
  float repetition_penalty = 1.0f;   // over prompt and output tokens (HF/vLLM)
  float presence_penalty = 0.0f;     // over output tokens (OpenAI)
  float frequency_penalty = 0.0f;    // over output tokens (OpenAI)
  std::map<int32_t, float> logit_bias;
  std::optional<uint64_t> seed;      // same seed, same tokens
  std::vector<int32_t> stop_token_ids;
  int32_t max_tokens = 16;
  int32_t min_tokens = 0;            // EOS and stop tokens are masked before this many
  bool ignore_eos = false;
  int32_t logprobs = -1;             // -1 = none; k >= 0: chosen token's and top k

  // `vocab` bounds logit_bias and stop_token_ids.
  Status validate(int64_t vocab) const;
};

// Defaults a model ships in generation_config.json (temperature, top_p,
// top_k, repetition_penalty) that apply when a request leaves them out.
struct GenerationDefaults {
  std::optional<float> temperature, top_p, min_p, repetition_penalty;
  std::optional<int32_t> top_k;
  std::vector<int32_t> eos_token_ids;

  void apply_to(SamplingParams& p) const;
};

// Parses a generation_config.json text; unknown keys are ignored.
Result<GenerationDefaults> parse_generation_config(const std::string& json_text);

}  // namespace ember::sampling
