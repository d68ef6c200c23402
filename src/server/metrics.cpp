#include "server/metrics.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "server/web_routes.h"

namespace ember::server {
namespace {

std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // The shortest text that reads back as v (as Python's repr).
  char buf[64];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  // prometheus_client writes floats with a decimal point ("1.0").
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void sample(std::string& out, const std::string& name, const std::string& labels, double v) {
  out += name + "{" + labels + "} " + num(v) + "\n";
}

// Buckets as vLLM declares them.
std::vector<double> token_buckets(int64_t max_model_len) {
  std::vector<double> b;
  for (double mantissa = 1;; mantissa *= 10) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * mantissa;
      if (v > static_cast<double>(max_model_len)) return b;
      b.push_back(v);
    }
  }
}

}  // namespace

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void render_counter(std::string& out, const std::string& name, const std::string& help, const std::string& labels,
                    double value) {
  header(out, name, help, "counter");
  sample(out, name, labels, value);
}

void render_gauge(std::string& out, const std::string& name, const std::string& help, const std::string& labels,
                  double value) {
  header(out, name, help, "gauge");
  sample(out, name, labels, value);
}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  ++count_;
  sum_ += v;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help,
                       const std::string& labels) const {
  header(out, name, help, "histogram");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? num(bounds_[i]) : "+Inf";
    out += name + "_bucket{" + labels + ",le=\"" + le + "\"} " + num(static_cast<double>(cumulative)) + "\n";
  }
  sample(out, name + "_count", labels, static_cast<double>(count_));
  sample(out, name + "_sum", labels, sum_);
}

Metrics::Metrics(std::string model_name, int64_t max_model_len)
    : labels_("model_name=\"" + escape_label(model_name) + "\",engine=\"0\""),
      ttft_({0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
             40.0, 80.0, 160.0, 640.0, 2560.0}),
      itl_({0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
            80.0}),
      tpot_({0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
             80.0}),
      e2e_({0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
            960.0, 1920.0, 7680.0}),
      queue_(e2e_), prefill_(e2e_), decode_(e2e_), inference_(e2e_), prompt_len_(token_buckets(max_model_len)),
      gen_len_(token_buckets(max_model_len)) {}

void Metrics::record_request(const RequestRecord& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  prompt_tokens_ += r.prompt_tokens;
  generation_tokens_ += r.generation_tokens;
  if (r.finish_reason == "stop" || r.finish_reason == "length" || r.finish_reason == "abort")
    ++success_[r.finish_reason];
  prompt_len_.observe(static_cast<double>(r.prompt_tokens));
  gen_len_.observe(static_cast<double>(r.generation_tokens));
  e2e_.observe(r.e2e_seconds);
  // As vLLM: queue = queued -> first scheduled, prefill = first scheduled ->
  // first token, decode = first -> last token, inference = scheduled -> end.
  const double queue = std::max(0.0, r.queue_seconds);
  if (r.queue_seconds >= 0) {
    queue_.observe(r.queue_seconds);
    inference_.observe(std::max(0.0, r.e2e_seconds - r.queue_seconds));
  }
  if (r.ttft_seconds >= 0) {
    ttft_.observe(r.ttft_seconds);
    prefill_.observe(std::max(0.0, r.ttft_seconds - queue));
    decode_.observe(std::max(0.0, r.e2e_seconds - r.ttft_seconds));
    if (r.generation_tokens > 1)
      tpot_.observe(std::max(0.0, r.e2e_seconds - r.ttft_seconds) / static_cast<double>(r.generation_tokens - 1));
  }
  for (double s : r.inter_token_seconds) itl_.observe(s);
}

std::string http_route_label(std::string_view path, bool ui_enabled) {
  static constexpr std::string_view kExact[] = {
      "/v1/chat/completions", "/v1/completions", "/v1/models", "/generate", "/health", "/version", "/metrics",
      "/tokenize", "/detokenize", "/api/conversations", "/api/export", "/api/import", "/api/settings", "/api/files"};
  for (std::string_view r : kExact)
    if (path == r) return std::string(r);
  // /api/conversations/{id}[/messages[/{id}] | /export], as routes_api.cpp matches them.
  constexpr std::string_view kConv = "/api/conversations/";
  if (path.substr(0, kConv.size()) == kConv) {
    std::string_view rest = path.substr(kConv.size());
    const size_t slash = rest.find('/');
    if (slash == 0 || rest.empty()) return "other";
    if (slash == std::string_view::npos) return "/api/conversations/{id}";
    rest = rest.substr(slash);
    if (rest == "/messages") return "/api/conversations/{id}/messages";
    if (rest == "/export") return "/api/conversations/{id}/export";
    constexpr std::string_view kMsg = "/messages/";
    if (rest.substr(0, kMsg.size()) == kMsg && rest.size() > kMsg.size() &&
        rest.find('/', kMsg.size()) == std::string_view::npos)
      return "/api/conversations/{id}/messages/{id}";
    return "other";
  }
  if (ui_enabled && is_ui_path(path)) return "/ui";
  return "other";
}

void Metrics::record_http(const std::string& method, const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++http_[{method, route, std::to_string(status / 100) + "xx"}];
}

int64_t Metrics::success_count(const std::string& finish_reason) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = success_.find(finish_reason);
  return it == success_.end() ? 0 : it->second;
}

std::string Metrics::render(const engine::EngineStats& stats) const {
  const auto& s = stats.scheduler;
  std::string out;
  out.reserve(16384);
  const std::string& l = labels_;
  header(out, "vllm:num_requests_running", "Number of requests in model execution batches.", "gauge");
  sample(out, "vllm:num_requests_running", l, static_cast<double>(s.num_running));
  header(out, "vllm:num_requests_waiting", "Number of requests waiting to be processed.", "gauge");
  sample(out, "vllm:num_requests_waiting", l, static_cast<double>(s.num_waiting));
  header(out, "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", "gauge");
  sample(out, "vllm:kv_cache_usage_perc", l, s.kv_usage);
  header(out, "vllm:num_preemptions_total", "Cumulative number of preemption from the engine.", "counter");
  sample(out, "vllm:num_preemptions_total", l, static_cast<double>(s.num_preemptions));
  header(out, "vllm:prefix_cache_queries_total",
         "Prefix cache queries, in terms of number of queried tokens.", "counter");
  sample(out, "vllm:prefix_cache_queries_total", l, static_cast<double>(s.prefix_query_tokens));
  header(out, "vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.", "counter");
  sample(out, "vllm:prefix_cache_hits_total", l, static_cast<double>(s.prefix_hit_tokens));

  std::lock_guard<std::mutex> lock(mutex_);
  header(out, "vllm:prompt_tokens_total", "Number of prefill tokens processed.", "counter");
  sample(out, "vllm:prompt_tokens_total", l, static_cast<double>(prompt_tokens_));
  header(out, "vllm:generation_tokens_total", "Number of generation tokens processed.", "counter");
  sample(out, "vllm:generation_tokens_total", l, static_cast<double>(generation_tokens_));
  header(out, "vllm:request_success_total", "Count of successfully processed requests.", "counter");
  for (const char* reason : {"stop", "length", "abort"}) {
    auto it = success_.find(reason);
    sample(out, "vllm:request_success_total", l + ",finished_reason=\"" + reason + "\"",
           it == success_.end() ? 0.0 : static_cast<double>(it->second));
  }
  ttft_.render(out, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", l);
  itl_.render(out, "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", l);
  tpot_.render(out, "vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", l);
  e2e_.render(out, "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", l);
  queue_.render(out, "vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", l);
  inference_.render(out, "vllm:request_inference_time_seconds",
                    "Histogram of time spent in RUNNING phase for request.", l);
  prefill_.render(out, "vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", l);
  decode_.render(out, "vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", l);
  prompt_len_.render(out, "vllm:request_prompt_tokens", "Number of prefill tokens processed.", l);
  gen_len_.render(out, "vllm:request_generation_tokens", "Number of generation tokens processed.", l);
  header(out, "http_requests_total", "Total number of requests by method, status and handler.", "counter");
  for (const auto& [key, count] : http_) {
    const auto& [method, route, status] = key;
    out += "http_requests_total{handler=\"" + escape_label(route) + "\",method=\"" + escape_label(method) +
           "\",status=\"" + status + "\"} " + num(static_cast<double>(count)) + "\n";
  }
  return out;
}

}  // namespace ember::server
