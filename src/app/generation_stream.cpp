#include "app/generation_stream.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <optional>

namespace ember::app {
namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) { g_interrupted.store(true); }

// Installs the SIGINT handler for its lifetime and restores the old one.
class InterruptScope {
 public:
  InterruptScope() {
    g_interrupted.store(false);
    struct sigaction sa = {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_);
  }
  ~InterruptScope() { sigaction(SIGINT, &old_, nullptr); }

 private:
  struct sigaction old_ = {};
};

}  // namespace

Result<GenerationSummary> stream_generation(engine::AsyncEngine& engine,
                                            std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                                            std::vector<int32_t> prompt, const sampling::SamplingParams& params,
                                            engine::TextOutputOptions text_options,
                                            const std::function<void(const std::string&)>& on_text) {
  InterruptScope interrupts;
  GenerationSummary s;
  s.prompt_tokens = static_cast<int64_t>(prompt.size());
  EMBER_ASSIGN_OR_RETURN(auto stream, engine.add_request(std::move(prompt), params));
  // Without a tokenizer (a model file that has none) the "text" is the ids.
  const bool ids_only = tokenizer == nullptr;
  std::optional<engine::TextOutput> text;
  if (!ids_only) text.emplace(std::move(tokenizer), std::move(text_options));
  auto emit = [&](const std::string& piece) {
    if (piece.empty()) return;
    s.text += piece;
    on_text(piece);
  };
  bool aborted = false;
  while (true) {
    if (g_interrupted.load() && !aborted) {
      engine.abort(stream->id());
      s.interrupted = aborted = true;
    }
    auto delta = stream->next(std::chrono::milliseconds(50));
    if (!delta) {
      if (stream->done()) break;
      continue;
    }
    if (!delta->error.ok()) return delta->error;
    s.tokens.insert(s.tokens.end(), delta->tokens.begin(), delta->tokens.end());
    if (ids_only) {
      for (int32_t t : delta->tokens) emit((s.text.empty() ? "" : " ") + std::to_string(t));
    } else if (!text->stopped()) {
      emit(text->push(delta->tokens));
      if (text->stopped()) {
        engine.stop_sample(stream->id(), delta->index);
        s.finish_reason = engine::FinishReason::kStop;
      }
    }
    if (delta->finished) {
      if (s.finish_reason == engine::FinishReason::kNone) s.finish_reason = delta->finish_reason;
      break;
    }
  }
  if (!ids_only) emit(text->finish());
  const auto end = engine::Clock::now();
  const auto first = stream->first_token().value_or(end);
  s.prompt_seconds = std::chrono::duration<double>(first - stream->arrival()).count();
  s.generation_seconds = std::chrono::duration<double>(end - first).count();
  s.cached_tokens = stream->num_cached_tokens();
  return s;
}

std::string summary_line(const GenerationSummary& s) {
  char buf[256];
  const double pp = s.prompt_seconds > 0 ? s.prompt_tokens / s.prompt_seconds : 0;
  const size_t n = s.tokens.size();
  const double tg = s.generation_seconds > 0 && n > 1 ? (n - 1) / s.generation_seconds : 0;
  std::snprintf(buf, sizeof buf, "prompt %lld tokens (%lld cached) in %.2f s (%.1f t/s); %zu tokens in %.2f s (%.1f t/s); finish: %s%s",
                static_cast<long long>(s.prompt_tokens), static_cast<long long>(s.cached_tokens), s.prompt_seconds, pp, n,
                s.generation_seconds, tg, engine::to_string(s.finish_reason), s.interrupted ? " (interrupted)" : "");
  return buf;
}

}  // namespace ember::app
