// One log line per HTTP request (at info): method, path, status, and for a
// generating request its id, token counts and timings. httplib runs a
// request's pre-routing, handler, streamed content and logger on one
// thread, so what the handler learns is kept in a thread-local record that
// the logger writes and clears.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ember::server {

class Generation;

struct RequestLog {
  bool started = false;
  std::chrono::steady_clock::time_point start;
  std::string id;                      // the response's id (chatcmpl-..., cmpl-...)
  int64_t prompt_tokens = -1;          // -1: not a generating request
  int64_t completion_tokens = -1;
  int64_t cached_tokens = -1;          // prompt tokens from the prefix cache
  double queue_seconds = -1, ttft_seconds = -1;
  std::string finish_reason;           // of the first choice
  const char* response_cache = nullptr;  // "hit" / "miss" for a deterministic request
};

// This thread's record.
RequestLog& request_log();
// At the start of a request (clears what a previous one left).
void begin_request_log();
// What a generation did so far (call as it ends, or as it is given up).
void note_generation(const Generation& g, const std::string& id);
// Writes the line and clears the record.
void write_request_log(const std::string& method, const std::string& path, int status);

}  // namespace ember::server
