#include "engine/llm.h"

#include <unordered_map>

namespace ember::engine {

Result<std::unique_ptr<LLM>> LLM::create(const EngineConfig& config) {
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<EngineCore> core, EngineCore::create(config));
  return std::unique_ptr<LLM>(new LLM(std::move(core)));
}

Result<std::vector<RequestOutput>> LLM::generate(const std::vector<std::vector<int32_t>>& prompts,
                                                 const sampling::SamplingParams& params, int32_t n) {
  std::vector<RequestOutput> results(prompts.size());
  std::unordered_map<RequestId, size_t> slot;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const RequestId id = next_id_++;
    Status s = core_->add_request(NewRequest{id, prompts[i], params, "", n});
    if (!s.ok()) {
      for (const auto& [other, _] : slot) core_->abort(other);
      return s.with_context("prompt " + std::to_string(i));
    }
    slot[id] = i;
    results[i].prompt_token_ids = prompts[i];
    results[i].outputs.resize(n);
    for (int32_t k = 0; k < n; ++k) results[i].outputs[k].index = k;
  }
  while (core_->has_unfinished()) {
    EMBER_ASSIGN_OR_RETURN(std::vector<StepOutput> outputs, core_->step());
    for (auto& o : outputs) {
      auto it = slot.find(o.id);
      if (it == slot.end()) continue;
      RequestOutput& r = results[it->second];
      CompletionOutput& c = r.outputs[o.index];
      c.token_ids.insert(c.token_ids.end(), o.new_tokens.begin(), o.new_tokens.end());
      c.logprobs.insert(c.logprobs.end(), o.logprobs.begin(), o.logprobs.end());
      if (o.finished) c.finish_reason = o.finish_reason;
      r.num_cached_tokens = o.num_cached_tokens;
    }
  }
  return results;
}

}  // namespace ember::engine
