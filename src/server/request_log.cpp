#include "server/request_log.h"

#include <vector>

#include "base/log.h"
#include "server/generation.h"

namespace ember::server {

RequestLog& request_log() {
  thread_local RequestLog log;
  return log;
}

void begin_request_log() {
  RequestLog& r = request_log();
  r = RequestLog{};
  r.started = true;
  r.start = std::chrono::steady_clock::now();
}

void note_generation(const Generation& g, const std::string& id) {
  RequestLog& r = request_log();
  r.id = id;
  r.prompt_tokens = g.prompt_tokens();
  r.completion_tokens = g.completion_tokens();
  r.response_cache = g.replaying() ? "hit" : r.response_cache;
  if (g.num_choices() > 0) r.finish_reason = g.finish_reason(0);
  if (!g.replaying()) {
    const Generation::Timings t = g.timings();
    r.queue_seconds = t.queue_seconds;
    r.ttft_seconds = t.ttft_seconds;
    r.cached_tokens = t.cached_tokens;
  }
}

void write_request_log(const std::string& method, const std::string& path, int status) {
  RequestLog& r = request_log();
  if (static_cast<int>(LogLevel::kInfo) >= static_cast<int>(log_level())) {
    std::vector<LogField> f;
    f.emplace_back("method", method);
    f.emplace_back("path", path.size() > 200 ? path.substr(0, 200) + "..." : path);
    f.emplace_back("status", status);
    if (!r.id.empty()) f.emplace_back("id", r.id);
    if (r.prompt_tokens >= 0) {
      f.emplace_back("prompt_tokens", r.prompt_tokens);
      f.emplace_back("completion_tokens", r.completion_tokens);
    }
    if (r.cached_tokens >= 0) f.emplace_back("cached_tokens", r.cached_tokens);
    if (r.response_cache) f.emplace_back("response_cache", r.response_cache);
    if (!r.finish_reason.empty()) f.emplace_back("finish_reason", r.finish_reason);
    if (r.queue_seconds >= 0) f.emplace_back("queue_ms", r.queue_seconds * 1e3, 1);
    if (r.ttft_seconds >= 0) f.emplace_back("ttft_ms", r.ttft_seconds * 1e3, 1);
    if (r.started)
      f.emplace_back("total_ms",
                     std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - r.start).count(), 1);
    log_event(LogLevel::kInfo, "request", f);
  }
  r = RequestLog{};
}

}  // namespace ember::server
