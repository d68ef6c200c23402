// `ember bench --concurrency`: the serving engine with C sequences at once.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "engine/engine_config.h"

namespace ember::app {

struct ConcurrencyResult {
  int concurrency = 0;
  double prefill_tokens_per_s = 0;     // C prompts prefilled together (chunked, mixed batches)
  double generation_tokens_per_s = 0;  // aggregate, while all C decode together
  double per_sequence_tokens_per_s = 0;
};

// Runs C requests of `prompt_len` random tokens generating `gen_len` tokens
// each (ignoring EOS), for every C in `levels`, on one engine.
Result<std::vector<ConcurrencyResult>> bench_concurrency(const engine::EngineConfig& config,
                                                         const std::vector<int>& levels, int64_t prompt_len,
                                                         int64_t gen_len);

}  // namespace ember::app
