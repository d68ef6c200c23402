// Prometheus metrics with vLLM's names and labels, so the stock vLLM Grafana
// dashboard works unchanged: gauges and counters read from the engine's stats
// at scrape time, request-level counters and histograms recorded by the HTTP
// layer as requests finish. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "engine/engine_core.h"

namespace ember::server {

// A cumulative Prometheus histogram (buckets are upper bounds; +Inf implied).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double v);
  // "# HELP/# TYPE" + the _bucket/_sum/_count lines.
  void render(std::string& out, const std::string& name, const std::string& help, const std::string& labels) const;
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative)
  uint64_t count_ = 0;
  double sum_ = 0;
};

// What one finished request contributes.
struct RequestRecord {
  std::string finish_reason;        // stop | length | abort | error
  int64_t prompt_tokens = 0;
  int64_t generation_tokens = 0;
  double queue_seconds = -1;        // arrival -> first scheduled (-1: never ran)
  double ttft_seconds = -1;         // arrival -> first token (-1: no token)
  double e2e_seconds = 0;           // arrival -> finish
  std::vector<double> inter_token_seconds;
};

// A request path as http_requests_total's `handler` label: the route
// pattern, ids as {id} ("/api/conversations/{id}/messages"), "/ui" for the
// web UI's files and pages when it is served, "other" for anything else (so
// a scanner cannot grow the label set).
std::string http_route_label(std::string_view path, bool ui_enabled);

class Metrics {
 public:
  Metrics(std::string model_name, int64_t max_model_len);

  void record_request(const RequestRecord& r);
  // One HTTP response (route pattern, e.g. "/v1/completions"; status code).
  void record_http(const std::string& method, const std::string& route, int status);

  // The whole exposition text, engine gauges from `stats`.
  std::string render(const engine::EngineStats& stats) const;

  // For tests.
  int64_t success_count(const std::string& finish_reason) const;
  // model_name="...",engine="0", for metrics rendered elsewhere.
  const std::string& labels() const { return labels_; }

 private:
  std::string labels_;  // model_name="...",engine="0"
  mutable std::mutex mutex_;
  int64_t prompt_tokens_ = 0, generation_tokens_ = 0;
  std::map<std::string, int64_t> success_;  // by finished_reason
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> http_;  // method, route, status class
  Histogram ttft_, itl_, tpot_, e2e_, queue_, prefill_, decode_, inference_, prompt_len_, gen_len_;
};

// One counter / gauge with its "# HELP" and "# TYPE" lines.
void render_counter(std::string& out, const std::string& name, const std::string& help, const std::string& labels,
                    double value);
void render_gauge(std::string& out, const std::string& name, const std::string& help, const std::string& labels,
                  double value);

// Escapes a Prometheus label value ("\\", "\"", "\n").
std::string escape_label(const std::string& v);

}  // namespace ember::server
