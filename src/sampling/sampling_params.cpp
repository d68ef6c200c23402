#include "sampling/sampling_params.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace ember::sampling {

Status SamplingParams::validate(int64_t vocab) const {
  auto bad = [](const std::string& field, const std::string& why) {
    return invalid_argument(field + ": " + why);
  };
  if (!std::isfinite(temperature) || temperature < 0.0f || temperature > 100.0f)
    return bad("temperature", "must be in [0, 100]");
  if (top_k < -1) return bad("top_k", "must be -1, 0 (off) or positive");
  if (!std::isfinite(top_p) || top_p <= 0.0f || top_p > 1.0f) return bad("top_p", "must be in (0, 1]");
  if (!std::isfinite(min_p) || min_p < 0.0f || min_p > 1.0f) return bad("min_p", "must be in [0, 1]");
  if (!std::isfinite(repetition_penalty) || repetition_penalty <= 0.0f || repetition_penalty > 100.0f)
    return bad("repetition_penalty", "must be in (0, 100]");
  if (!std::isfinite(presence_penalty) || std::fabs(presence_penalty) > 2.0f)
    return bad("presence_penalty", "must be in [-2, 2]");
  if (!std::isfinite(frequency_penalty) || std::fabs(frequency_penalty) > 2.0f)
    return bad("frequency_penalty", "must be in [-2, 2]");
  for (const auto& [id, bias] : logit_bias) {
    if (id < 0 || id >= vocab)
      return bad("logit_bias", "token id " + std::to_string(id) + " is outside the vocabulary");
    if (!std::isfinite(bias) || std::fabs(bias) > 100.0f)
      return bad("logit_bias", "bias must be in [-100, 100]");
  }
  for (int32_t id : stop_token_ids)
    if (id < 0 || id >= vocab)
      return bad("stop_token_ids", "token id " + std::to_string(id) + " is outside the vocabulary");
  if (max_tokens < 1) return bad("max_tokens", "must be at least 1");
  if (min_tokens < 0) return bad("min_tokens", "must be >= 0");
  if (min_tokens > max_tokens) return bad("min_tokens", "must not exceed max_tokens");
  if (logprobs < -1 || logprobs > 20) return bad("logprobs", "must be between 0 and 20");
  return ok_status();
}

void GenerationDefaults::apply_to(SamplingParams& p) const {
  if (temperature) p.temperature = *temperature;
  if (top_p) p.top_p = *top_p;
  if (top_k) p.top_k = *top_k;
  if (min_p) p.min_p = *min_p;
  if (repetition_penalty) p.repetition_penalty = *repetition_penalty;
}

Result<GenerationDefaults> parse_generation_config(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return corrupt("generation_config.json is not a JSON object");
  GenerationDefaults d;
  auto number = [&](const char* key) -> std::optional<float> {
    auto it = j.find(key);
    if (it != j.end() && it->is_number()) return it->get<float>();
    return std::nullopt;
  };
  d.temperature = number("temperature");
  d.top_p = number("top_p");
  d.min_p = number("min_p");
  d.repetition_penalty = number("repetition_penalty");
  if (auto it = j.find("top_k"); it != j.end() && it->is_number_integer()) d.top_k = it->get<int32_t>();
  if (auto it = j.find("eos_token_id"); it != j.end()) {
    if (it->is_number_integer()) d.eos_token_ids.push_back(it->get<int32_t>());
    if (it->is_array())
      for (const auto& e : *it)
        if (e.is_number_integer()) d.eos_token_ids.push_back(e.get<int32_t>());
  }
  return d;
}

}  // namespace ember::sampling
