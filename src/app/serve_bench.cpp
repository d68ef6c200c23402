#include "app/serve_bench.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

namespace ember::app::servebench {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

std::unique_ptr<httplib::Client> make_client(const Options& o) {
  auto cli = std::make_unique<httplib::Client>(o.endpoint.scheme_host_port());
  cli->set_connection_timeout(10, 0);
  const auto timeout = static_cast<time_t>(o.timeout_s);
  cli->set_read_timeout(timeout, 0);
  cli->set_write_timeout(timeout, 0);
  cli->set_keep_alive(true);
  return cli;
}

httplib::Headers auth_headers(const Options& o) {
  httplib::Headers h;
  if (!o.api_key.empty()) h.emplace("Authorization", "Bearer " + o.api_key);
  return h;
}

// An error body's message ({"error": {"message": ...}} or the raw text).
std::string error_message(int status, const std::string& body) {
  const Json j = Json::parse(body, nullptr, false);
  std::string msg = body.substr(0, 500);
  if (j.is_object() && j.contains("error")) {
    const Json& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) msg = e["message"].get<std::string>();
    else if (e.is_string()) msg = e.get<std::string>();
  }
  return "HTTP " + std::to_string(status) + ": " + msg;
}

RequestResult send_one(httplib::Client& cli, const Options& o, const std::string& model,
                       const std::vector<int32_t>& prompt) {
  RequestResult r;
  r.prompt_len = static_cast<int64_t>(prompt.size());
  // vLLM's request for the completions backend.
  const Json body = {{"model", model},
                     {"prompt", prompt},
                     {"max_tokens", o.output_len},
                     {"temperature", 0.0},
                     {"ignore_eos", true},
                     {"stream", true},
                     {"stream_options", {{"include_usage", true}}}};
  httplib::Request req;
  req.method = "POST";
  req.path = o.endpoint.prefix + "/v1/completions";
  req.headers = auth_headers(o);
  req.headers.emplace("Content-Type", "application/json");
  req.body = body.dump();
  int status = 0;
  std::string error_body;
  StreamParser parser;
  const Clock::time_point start = Clock::now();
  req.response_handler = [&](const httplib::Response& res) {
    status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (status != 200) {
      if (error_body.size() < 4096) error_body.append(data, std::min<size_t>(len, 4096));
    } else {
      parser.feed(data, len, seconds_between(start, Clock::now()));
    }
    return true;
  };
  auto res = cli.send(req);
  if (!res) {
    r.error = "request failed: " + httplib::to_string(res.error());
    return r;
  }
  if (res->status != 200) {
    r.error = error_message(res->status, error_body.empty() ? res->body : error_body);
    return r;
  }
  parser.finish(&r);
  return r;
}

}  // namespace

std::string Endpoint::scheme_host_port() const {
  const bool v6 = host.find(':') != std::string::npos;
  return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Endpoint> parse_url(const std::string& url) {
  Endpoint e;
  std::string rest = url;
  if (size_t p = rest.find("://"); p != std::string::npos) {
    e.scheme = rest.substr(0, p);
    rest = rest.substr(p + 3);
  }
  if (e.scheme != "http" && e.scheme != "https")
    return invalid_argument("--url: '" + url + "': the scheme must be http or https");
  e.port = e.scheme == "https" ? 443 : 80;
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  e.prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!e.prefix.empty() && e.prefix.back() == '/') e.prefix.pop_back();
  if (e.prefix.size() >= 3 && e.prefix.compare(e.prefix.size() - 3, 3, "/v1") == 0) e.prefix.resize(e.prefix.size() - 3);
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {  // [v6]:port
    const size_t close = authority.find(']');
    if (close == std::string::npos) return invalid_argument("--url: '" + url + "': unclosed [");
    e.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return invalid_argument("--url: '" + url + "': junk after ]");
      port_text = authority.substr(close + 2);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string::npos) {
    e.host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  } else {
    e.host = authority;
  }
  if (e.host.empty()) return invalid_argument("--url: '" + url + "' has no host");
  if (!port_text.empty() || authority.back() == ':') {
    char* end = nullptr;
    const long p = std::strtol(port_text.c_str(), &end, 10);
    if (port_text.empty() || *end != '\0' || p < 1 || p > 65535)
      return invalid_argument("--url: '" + url + "': the port must be a number in [1, 65535]");
    e.port = static_cast<int>(p);
  }
  return e;
}

void StreamParser::feed(const char* data, size_t len, double now) {
  for (size_t i = 0; i < len; ++i)
    if (data[i] != '\r') buffer_ += data[i];
  size_t end;
  while ((end = buffer_.find("\n\n")) != std::string::npos) {
    const std::string block = buffer_.substr(0, end);
    buffer_.erase(0, end + 2);
    std::string payload;
    size_t pos = 0;
    while (pos <= block.size()) {
      const size_t nl = std::min(block.find('\n', pos), block.size());
      const std::string line = block.substr(pos, nl - pos);
      if (line.rfind("data:", 0) == 0) {
        std::string v = line.substr(5);
        if (!v.empty() && v[0] == ' ') v.erase(0, 1);
        if (!payload.empty()) payload += '\n';
        payload += v;
      }
      pos = nl + 1;
    }
    if (!payload.empty()) event(payload, now);
  }
}

void StreamParser::event(const std::string& data, double now) {
  if (done_) return;
  if (data == "[DONE]") {
    done_ = true;
    return;
  }
  const Json j = Json::parse(data, nullptr, false);
  if (!j.is_object()) {
    if (error_.empty()) error_ = "a stream event is not a JSON object: " + data.substr(0, 200);
    return;
  }
  if (j.contains("error")) {
    const Json& e = j["error"];
    error_ = e.is_object() && e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>()
                                                                                  : e.dump();
    return;
  }
  const auto choices = j.find("choices");
  if (choices != j.end() && choices->is_array() && !choices->empty()) {
    if (!first_) {
      first_ = true;
      ttft_ = now;
    } else {
      itl_.push_back(now - last_);
    }
    last_ = now;
    const Json& c = (*choices)[0];
    if (c.is_object() && c.contains("text") && c["text"].is_string() && !c["text"].get<std::string>().empty())
      ++text_chunks_;
  } else if (const auto usage = j.find("usage"); usage != j.end() && usage->is_object()) {
    if (const auto ct = usage->find("completion_tokens"); ct != usage->end() && ct->is_number_integer())
      usage_tokens_ = ct->get<int64_t>();
  }
}

void StreamParser::finish(RequestResult* out) const {
  out->ttft = ttft_;
  out->latency = last_;
  out->itl = itl_;
  out->output_tokens = usage_tokens_ >= 0 ? usage_tokens_ : text_chunks_;
  if (!error_.empty()) {
    out->success = false;
    out->error = "stream error: " + error_;
  } else if (!first_) {
    out->success = false;
    out->error = "the stream carried no chunk with choices";
  } else {
    out->success = true;
  }
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

Summary summarize_ms(const std::vector<double>& seconds) {
  Summary s;
  if (seconds.empty()) return s;
  double sum = 0;
  for (double x : seconds) sum += x;
  const double mean = sum / static_cast<double>(seconds.size());
  double var = 0;
  for (double x : seconds) var += (x - mean) * (x - mean);
  s.mean = mean * 1000;
  s.std = std::sqrt(var / static_cast<double>(seconds.size())) * 1000;
  s.median = percentile(seconds, 50) * 1000;
  s.p99 = percentile(seconds, 99) * 1000;
  return s;
}

Metrics compute_metrics(const std::vector<RequestResult>& results, double duration_s) {
  Metrics m;
  m.duration = duration_s;
  std::vector<double> ttfts, tpots, itls, e2els;
  for (const RequestResult& r : results) {
    if (!r.success) {
      ++m.failed;
      continue;
    }
    ++m.completed;
    m.total_input += r.prompt_len;
    m.total_output += r.output_tokens;
    if (r.output_tokens > 1) tpots.push_back((r.latency - r.ttft) / static_cast<double>(r.output_tokens - 1));
    itls.insert(itls.end(), r.itl.begin(), r.itl.end());
    ttfts.push_back(r.ttft);
    e2els.push_back(r.latency);
  }
  if (duration_s > 0) {
    m.request_throughput = static_cast<double>(m.completed) / duration_s;
    m.output_throughput = static_cast<double>(m.total_output) / duration_s;
    m.total_token_throughput = static_cast<double>(m.total_input + m.total_output) / duration_s;
  }
  m.ttft = summarize_ms(ttfts);
  m.tpot = summarize_ms(tpots);
  m.itl = summarize_ms(itls);
  m.e2el = summarize_ms(e2els);
  return m;
}

std::vector<std::vector<int32_t>> random_prompts(int64_t num, int64_t len, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> id(kFirstId, kEndId - 1);
  std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(num));
  for (auto& p : prompts) {
    p.resize(static_cast<size_t>(len));
    for (int32_t& t : p) t = id(rng);
  }
  return prompts;
}

std::vector<double> arrival_times(int64_t num, double rate, uint64_t seed) {
  std::vector<double> t(static_cast<size_t>(std::max<int64_t>(num, 0)), 0.0);
  if (!(rate > 0) || std::isinf(rate)) return t;
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);  // apart from the prompts' stream
  std::exponential_distribution<double> gap(rate);
  for (size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] + gap(rng);
  return t;
}

Result<std::string> first_model(const Options& o) {
  auto cli = make_client(o);
  cli->set_read_timeout(60, 0);
  auto res = cli->Get(o.endpoint.prefix + "/v1/models", auth_headers(o));
  const std::string where = o.endpoint.scheme_host_port() + o.endpoint.prefix + "/v1/models";
  if (!res) return io_error("GET " + where + ": " + httplib::to_string(res.error()));
  if (res->status != 200) return io_error("GET " + where + ": " + error_message(res->status, res->body));
  const Json j = Json::parse(res->body, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array() || j["data"].empty() ||
      !j["data"][0].is_object() || !j["data"][0].contains("id") || !j["data"][0]["id"].is_string())
    return io_error("GET " + where + ": no model listed");
  return j["data"][0]["id"].get<std::string>();
}

Result<Run> run(Options o) {
  Run out;
  if (o.model.empty()) {
    EMBER_ASSIGN_OR_RETURN(o.model, first_model(o));
  }
  out.model = o.model;
  const auto prompts = random_prompts(o.num_prompts, o.input_len, o.seed);
  const auto arrivals = arrival_times(o.num_prompts, o.request_rate, o.seed);
  out.results.resize(prompts.size());
  const int64_t workers = std::min({o.num_prompts, o.concurrency > 0 ? o.concurrency : o.num_prompts, kMaxInFlight});
  std::atomic<size_t> next{0};
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(workers));
  // Request i goes out at its arrival time, or when a worker frees up after
  // it (the concurrency limit), in order.
  for (int64_t w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      auto cli = make_client(o);
      for (size_t i; (i = next.fetch_add(1)) < prompts.size();) {
        std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(arrivals[i])));
        out.results[i] = send_one(*cli, o, o.model, prompts[i]);
      }
    });
  }
  for (auto& t : threads) t.join();
  out.duration = seconds_between(start, Clock::now());
  return out;
}

}  // namespace ember::app::servebench
