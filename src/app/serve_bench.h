// `ember bench-serve`'s client and metrics: streamed /v1/completions
// requests against a running OpenAI-compatible server (ember serve, vLLM),
// measured and summarized with vLLM's benchmark_serving definitions:
//   TTFT  request start -> first chunk carrying choices
//   ITL   the gaps between consecutive chunks carrying choices
//   E2EL  request start -> last chunk carrying choices
//   TPOT  (E2EL - TTFT) / (output tokens - 1), for requests of > 1 token
//   output tokens: usage.completion_tokens of the stream's usage chunk
// Summaries are numpy's mean, median, std (ddof 0) and linear percentiles;
// an empty sample summarizes as 0, as vLLM's `np.mean(x or 0)`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace ember::app::servebench {

// An http(s) server address: scheme://host[:port][/prefix]. A trailing
// "/v1" is dropped (the API paths are appended).
struct Endpoint {
  std::string scheme = "http", host;
  int port = 80;
  std::string prefix;  // "" or "/something"
  std::string scheme_host_port() const;
};
Result<Endpoint> parse_url(const std::string& url);

struct RequestResult {
  bool success = false;
  std::string error;
  int64_t prompt_len = 0;
  int64_t output_tokens = 0;  // from usage; else the chunks that carried text
  double ttft = 0;            // seconds
  double latency = 0;         // E2EL, seconds
  std::vector<double> itl;    // seconds
};

// The SSE body of one streamed completion, fed as it arrives; `now` is the
// request-relative time (seconds) the bytes came in.
class StreamParser {
 public:
  void feed(const char* data, size_t len, double now);
  // Completes the result: success when a chunk with choices came and no
  // error event did.
  void finish(RequestResult* out) const;

 private:
  void event(const std::string& data, double now);
  std::string buffer_;
  bool first_ = false;
  double last_ = 0, ttft_ = 0;
  std::vector<double> itl_;
  int64_t usage_tokens_ = -1, text_chunks_ = 0;
  std::string error_;
  bool done_ = false;
};

struct Summary {
  double mean = 0, median = 0, std = 0, p99 = 0;  // milliseconds
};
// numpy.percentile's default (linear) on an unsorted sample, p in [0, 100].
double percentile(std::vector<double> v, double p);
Summary summarize_ms(const std::vector<double>& seconds);

struct Metrics {
  int64_t completed = 0, failed = 0;
  int64_t total_input = 0, total_output = 0;
  double duration = 0;  // seconds
  double request_throughput = 0, output_throughput = 0, total_token_throughput = 0;
  Summary ttft, tpot, itl, e2el;
};
Metrics compute_metrics(const std::vector<RequestResult>& results, double duration_s);

// One thread per request in flight: at most this many at once.
inline constexpr int64_t kMaxInFlight = 4096;

struct Options {
  Endpoint endpoint;
  std::string api_key;
  std::string model;  // empty: the first of /v1/models
  int64_t num_prompts = 100;
  int64_t concurrency = 0;  // 0: no limit but kMaxInFlight
  double request_rate = 0;  // requests/s, Poisson arrivals; <= 0 or inf: all at once
  int64_t input_len = 1024, output_len = 128;
  uint64_t seed = 0;
  double timeout_s = 6 * 3600;  // per read, as vLLM's AIOHTTP_TIMEOUT
};

// The prompts: `num` lists of `len` token ids drawn uniformly (seeded) from
// [kFirstId, kEndId), ordinary tokens in any vocabulary of 32k or more, so
// that every prompt is exactly `len` tokens.
inline constexpr int32_t kFirstId = 1000, kEndId = 30000;
std::vector<std::vector<int32_t>> random_prompts(int64_t num, int64_t len, uint64_t seed);
// Arrival offsets (seconds) of `num` requests at `rate` requests/s: the first
// at 0, then exponential gaps (vLLM's gamma with burstiness 1); all 0 for an
// infinite rate.
std::vector<double> arrival_times(int64_t num, double rate, uint64_t seed);

// The first model id of GET /v1/models.
Result<std::string> first_model(const Options& o);

struct Run {
  std::string model;
  std::vector<RequestResult> results;
  double duration = 0;
};
// Sends the requests (at most `concurrency` in flight) and measures them.
Result<Run> run(Options o);

}  // namespace ember::app::servebench
