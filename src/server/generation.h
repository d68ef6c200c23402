// One HTTP request's generation: one or more engine requests (a completions
// request may carry several prompts; each has n samples), each sample a
// "choice" with its own detokenizer, stop strings and (for chat) reasoning
// split. The route pulls deltas from here and writes them in its wire
// format, streamed or all at the end. Metrics are recorded as each engine
// request ends. One thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/reasoning_parser.h"
#include "engine/async_engine.h"
#include "engine/text_output.h"
#include "server/metrics.h"

namespace ember::server {

// What one poll produced for one choice.
struct ChoiceDelta {
  int32_t index = 0;
  std::string content;    // text (content once reasoning ended)
  std::string reasoning;  // reasoning text (chat with a reasoning parser)
  std::vector<int32_t> tokens;
  std::vector<sampling::TokenLogprobs> logprobs;
  std::string finish_reason;  // empty while the choice goes on
  nlohmann::ordered_json stop_reason;  // null, the stop string or the stop token id
  bool empty() const { return content.empty() && reasoning.empty() && logprobs.empty() && finish_reason.empty(); }
};

struct CachedResponse;  // response_cache.h

// How a chat choice's output split (vLLM's deepseek_r1 parser): not at all
// (no parser, or the output never was reasoning), reasoning only (no
// </think>), or reasoning then content.
enum class ReasoningSplit : uint8_t { kNone, kOpen, kEnded };

struct GenerationOptions {
  engine::TextOutputOptions text;
  bool reasoning = false;             // split with the deepseek_r1 parser
  bool starts_in_reasoning = true;    // the prompt ended inside <think>
  bool include_reasoning = true;
};

class Generation {
 public:
  Generation(engine::AsyncEngine& engine, std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
             GenerationOptions options, Metrics* metrics);
  ~Generation();  // aborts whatever is still running
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // Adds an engine request of params' n samples; its choices are numbered
  // after the existing ones.
  Status add(std::vector<int32_t> prompt, const sampling::SamplingParams& params, int32_t n);
  // Instead of engine requests: replays a cached response's deltas, one
  // batch per poll (no engine work, no metrics).
  void replay(std::shared_ptr<const CachedResponse> cached);
  bool replaying() const { return replay_ != nullptr; }
  // Keeps every delta that poll() returns, for recording().
  void record();
  // The recorded response once the generation completed (every choice
  // ended with stop or length, no error); null otherwise.
  std::shared_ptr<const CachedResponse> recording() const;

  // Waits up to `timeout` for output; the deltas of every choice that moved.
  std::vector<ChoiceDelta> poll(std::chrono::milliseconds timeout);
  bool done() const;
  // The engine failed a request (a 500 / an error event).
  const Status& error() const { return error_; }
  // Ends every unfinished engine request now (client gone, shutdown).
  void abort();

  int64_t prompt_tokens() const;
  int64_t completion_tokens() const;
  int32_t num_choices() const;
  // How the choice's output split so far.
  ReasoningSplit reasoning_split(int32_t choice) const;
  std::vector<engine::RequestId> request_ids() const;
  const std::string& finish_reason(int32_t choice) const;

  // When the first engine request moved (its arrival as the origin); -1
  // where it did not happen (or on a replay).
  struct Timings {
    double queue_seconds = -1;  // until first scheduled
    double ttft_seconds = -1;   // until its first token
    int64_t cached_tokens = 0;  // prompt tokens the prefix cache served (all requests)
  };
  Timings timings() const;

 private:
  struct Choice {
    size_t part = 0;
    int32_t sample = 0;
    std::unique_ptr<engine::TextOutput> text;
    std::unique_ptr<chat::ReasoningParser> reasoning;
    int64_t tokens = 0;
    bool finished = false;
    std::string finish_reason;
  };
  struct Part {
    std::shared_ptr<engine::OutputStream> stream;
    sampling::SamplingParams params;
    int32_t first_choice = 0, n = 1;
    int64_t prompt_tokens = 0;
    bool ended = false;            // every choice finished (metrics recorded)
    std::optional<engine::Clock::time_point> last_token;
    std::vector<double> itl;
  };
  void handle(size_t part, engine::OutputDelta d, std::vector<ChoiceDelta>& out);
  void split(Choice& c, const std::string& text, ChoiceDelta& d, bool final);
  ChoiceDelta& delta_for(int32_t index, std::vector<ChoiceDelta>& out);
  void end_part(Part& p);
  static void finish(Choice& c, ChoiceDelta& d, const std::string& reason);

  engine::AsyncEngine& engine_;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
  GenerationOptions options_;
  Metrics* metrics_;
  std::vector<Part> parts_;
  std::vector<Choice> choices_;
  Status error_;
  size_t next_poll_ = 0;
  std::shared_ptr<const CachedResponse> replay_;
  size_t replay_next_ = 0;
  std::shared_ptr<CachedResponse> recording_;
};

// Finish reasons as the API writes them.
const char* finish_reason_name(engine::FinishReason r);

}  // namespace ember::server
