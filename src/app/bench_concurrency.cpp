#include "app/bench_concurrency.h"

#include <chrono>

#include "engine/engine_core.h"

namespace ember::app {

Result<std::vector<ConcurrencyResult>> bench_concurrency(const engine::EngineConfig& config,
                                                         const std::vector<int>& levels, int64_t prompt_len,
                                                         int64_t gen_len) {
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<engine::EngineCore> core, engine::EngineCore::create(config));
  const int64_t vocab = core->model().config().vocab;
  std::vector<ConcurrencyResult> results;
  uint64_t state = 7;
  engine::RequestId next_id = 1;
  for (int c : levels) {
    const int64_t prefill_before = core->stats().scheduler.total_prefill_tokens;
    for (int i = 0; i < c; ++i) {
      std::vector<int32_t> prompt(prompt_len);
      for (auto& t : prompt) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        t = static_cast<int32_t>((state >> 33) % static_cast<uint64_t>(vocab));
      }
      sampling::SamplingParams p;
      p.temperature = 0.0f;
      p.max_tokens = static_cast<int32_t>(gen_len);
      p.ignore_eos = true;
      EMBER_RETURN_IF_ERROR(core->add_request(engine::NewRequest{next_id++, std::move(prompt), p, ""}));
    }
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    Clock::time_point prefill_done{};
    int64_t decode_tokens_after = 0;
    bool all_prefilled = false;
    while (core->has_unfinished()) {
      EMBER_ASSIGN_OR_RETURN(auto outputs, core->step());
      const auto now = Clock::now();
      if (!all_prefilled &&
          core->stats().scheduler.total_prefill_tokens - prefill_before >= static_cast<int64_t>(c) * prompt_len) {
        all_prefilled = true;
        prefill_done = now;
        continue;  // decode timing starts with the next step
      }
      if (all_prefilled)
        for (const auto& o : outputs) decode_tokens_after += static_cast<int64_t>(o.new_tokens.size());
    }
    const auto t1 = Clock::now();
    ConcurrencyResult r;
    r.concurrency = c;
    r.prefill_tokens_per_s =
        static_cast<double>(c * prompt_len) / std::chrono::duration<double>(prefill_done - t0).count();
    r.generation_tokens_per_s =
        static_cast<double>(decode_tokens_after) / std::chrono::duration<double>(t1 - prefill_done).count();
    r.per_sequence_tokens_per_s = r.generation_tokens_per_s / c;
    results.push_back(r);
  }
  return results;
}

}  // namespace ember::app
