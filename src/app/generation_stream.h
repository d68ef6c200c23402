// Runs one request on the AsyncEngine and hands its text to a callback as it
// streams (detokenized, stop strings applied), for `ember run` and
// `ember chat`; with a null tokenizer the text is the ids, space-separated.
// Ctrl-C (SIGINT) while it runs aborts the request instead of
// the process; the text so far is kept.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/async_engine.h"
#include "engine/text_output.h"

namespace ember::app {

struct GenerationSummary {
  std::vector<int32_t> tokens;  // generated ids
  std::string text;             // all the text handed to on_text
  engine::FinishReason finish_reason = engine::FinishReason::kNone;
  bool interrupted = false;     // Ctrl-C
  double prompt_seconds = 0, generation_seconds = 0;  // to the first token, then to the end
  int64_t prompt_tokens = 0, cached_tokens = 0;
};

Result<GenerationSummary> stream_generation(engine::AsyncEngine& engine,
                                            std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                                            std::vector<int32_t> prompt, const sampling::SamplingParams& params,
                                            engine::TextOutputOptions text_options,
                                            const std::function<void(const std::string&)>& on_text);

// "prompt 12 tokens in 0.10 s (120.0 t/s); 40 tokens in 1.00 s (39.0 t/s); finish: stop"
std::string summary_line(const GenerationSummary& s);

}  // namespace ember::app
