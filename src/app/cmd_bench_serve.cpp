// `ember bench-serve`: load-tests a running OpenAI-compatible server (ember
// serve, vLLM) like vLLM's benchmark_serving.py with its random dataset:
// streamed /v1/completions requests of --input-len random token ids,
// ignore_eos and max_tokens = --output-len, at most --concurrency in flight,
// arriving as a Poisson process at --request-rate. Reports request and
// token throughput and TTFT, TPOT, ITL and E2EL (mean, median, std, p99);
// the definitions are in serve_bench.h.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/model_flags.h"
#include "app/serve_bench.h"

namespace ember::app {
namespace {

using servebench::Metrics;
using servebench::Summary;

void print_line(const char* label, double v) { std::printf("%-40s %-10.2f\n", label, v); }
void print_line(const char* label, int64_t v) { std::printf("%-40s %-10lld\n", label, static_cast<long long>(v)); }

void print_header(const std::string& title, char fill) {
  const std::string s = " " + title + " ";
  const size_t width = 50, left = s.size() < width ? (width - s.size()) / 2 : 0;
  std::string line(left, fill);
  line += s;
  if (line.size() < width) line.append(width - line.size(), fill);
  std::printf("%s\n", line.c_str());
}

void print_summary(const char* name, const char* title, const Summary& s) {
  print_header(title, '-');
  const std::string n = name;
  print_line(("Mean " + n + " (ms):").c_str(), s.mean);
  print_line(("Median " + n + " (ms):").c_str(), s.median);
  print_line(("P99 " + n + " (ms):").c_str(), s.p99);
}

void print_table(const Metrics& m) {
  print_header("Serving Benchmark Result", '=');
  print_line("Successful requests:", m.completed);
  if (m.failed) print_line("Failed requests:", m.failed);
  print_line("Benchmark duration (s):", m.duration);
  print_line("Total input tokens:", m.total_input);
  print_line("Total generated tokens:", m.total_output);
  print_line("Request throughput (req/s):", m.request_throughput);
  print_line("Output token throughput (tok/s):", m.output_throughput);
  print_line("Total Token throughput (tok/s):", m.total_token_throughput);
  print_summary("TTFT", "Time to First Token", m.ttft);
  print_summary("TPOT", "Time per Output Token (excl. 1st token)", m.tpot);
  print_summary("ITL", "Inter-token Latency", m.itl);
  print_summary("E2EL", "End-to-end Latency", m.e2el);
  std::printf("%s\n", std::string(50, '=').c_str());
}

// vLLM's result file keys.
nlohmann::ordered_json to_json(const servebench::Options& o, const servebench::Run& run, const Metrics& m) {
  nlohmann::ordered_json j;
  j["backend"] = "openai";
  j["base_url"] = o.endpoint.scheme_host_port() + o.endpoint.prefix;
  j["model_id"] = run.model;
  j["num_prompts"] = o.num_prompts;
  if (o.request_rate > 0 && !std::isinf(o.request_rate)) j["request_rate"] = o.request_rate;
  else j["request_rate"] = "inf";
  j["max_concurrency"] = o.concurrency > 0 ? nlohmann::ordered_json(o.concurrency) : nlohmann::ordered_json(nullptr);
  j["input_len"] = o.input_len;
  j["output_len"] = o.output_len;
  j["seed"] = o.seed;
  j["duration"] = m.duration;
  j["completed"] = m.completed;
  j["failed"] = m.failed;
  j["total_input_tokens"] = m.total_input;
  j["total_output_tokens"] = m.total_output;
  j["request_throughput"] = m.request_throughput;
  j["output_throughput"] = m.output_throughput;
  j["total_token_throughput"] = m.total_token_throughput;
  const std::pair<const char*, const Summary*> summaries[] = {
      {"ttft", &m.ttft}, {"tpot", &m.tpot}, {"itl", &m.itl}, {"e2el", &m.e2el}};
  for (const auto& [n, s] : summaries) {
    const std::string name = n;
    j["mean_" + name + "_ms"] = s->mean;
    j["median_" + name + "_ms"] = s->median;
    j["std_" + name + "_ms"] = s->std;
    j["p99_" + name + "_ms"] = s->p99;
  }
  auto& input_lens = j["input_lens"] = nlohmann::ordered_json::array();
  auto& output_lens = j["output_lens"] = nlohmann::ordered_json::array();
  auto& ttfts = j["ttfts"] = nlohmann::ordered_json::array();
  auto& itls = j["itls"] = nlohmann::ordered_json::array();
  auto& errors = j["errors"] = nlohmann::ordered_json::array();
  for (const auto& r : run.results) {
    input_lens.push_back(r.prompt_len);
    output_lens.push_back(r.success ? r.output_tokens : 0);
    ttfts.push_back(r.success ? r.ttft : 0.0);
    itls.push_back(r.success ? r.itl : std::vector<double>{});
    errors.push_back(r.error);
  }
  return j;
}

// As Python prints a float: 20.0, 0.5 (fixed notation with the fewest
// decimals, at least one, that read back as v).
std::string python_float(double v) {
  char buf[64];
  for (int decimals = 1; decimals <= 17; ++decimals) {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    if (std::strtod(buf, nullptr) == v) return buf;
  }
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

Result<int64_t> positive_int(const CliArgs& args, const char* name, int64_t max) {
  EMBER_ASSIGN_OR_RETURN(int64_t v, args.get_int(name));
  if (v < 1 || v > max)
    return invalid_argument(std::string("--") + name + " must be in [1, " + std::to_string(max) + "]");
  return v;
}

Result<servebench::Options> options_from_flags(const CliArgs& args) {
  servebench::Options o;
  EMBER_ASSIGN_OR_RETURN(o.endpoint, servebench::parse_url(args.get("url")));
  o.model = args.get("model");
  EMBER_ASSIGN_OR_RETURN(o.num_prompts, positive_int(args, "num-prompts", 1000000));
  if (args.has("concurrency")) {
    EMBER_ASSIGN_OR_RETURN(o.concurrency, positive_int(args, "concurrency", servebench::kMaxInFlight));
  }
  EMBER_ASSIGN_OR_RETURN(o.input_len, positive_int(args, "input-len", 10000000));
  EMBER_ASSIGN_OR_RETURN(o.output_len, positive_int(args, "output-len", 10000000));
  const std::string rate = args.get("request-rate");
  if (rate == "inf" || rate == "Inf" || rate == "INF") {
    o.request_rate = INFINITY;
  } else {
    EMBER_ASSIGN_OR_RETURN(o.request_rate, args.get_double("request-rate"));
    if (!(o.request_rate > 0)) return invalid_argument("--request-rate must be > 0 (requests/s) or inf");
  }
  EMBER_ASSIGN_OR_RETURN(int64_t seed, args.get_int("seed"));
  o.seed = static_cast<uint64_t>(seed);
  EMBER_ASSIGN_OR_RETURN(int64_t timeout, positive_int(args, "timeout", 1000000));
  o.timeout_s = static_cast<double>(timeout);
  if (args.has("api-key")) {
    o.api_key = args.get("api-key");
  } else if (const char* k = std::getenv("EMBER_API_KEY"); k && *k) {
    o.api_key = k;
  } else if (const char* k2 = std::getenv("OPENAI_API_KEY"); k2 && *k2) {
    o.api_key = k2;
  }
  return o;
}

}  // namespace

int cmd_bench_serve(int argc, char** argv) {
  CliArgs args("bench-serve",
               "Load-tests a running OpenAI-compatible server (ember serve, vLLM) like vLLM's benchmark_serving: "
               "streamed /v1/completions of random token-id prompts (ids uniform in [1000, 30000), so each is "
               "exactly --input-len tokens), ignore_eos, temperature 0.");
  args.option("url", "URL", "the server (a trailing /v1 is allowed)", "http://127.0.0.1:8000");
  args.option("model", "NAME", "the model to request (default: the first of /v1/models)");
  args.option("api-key", "KEY", "Bearer key (default: $EMBER_API_KEY, else $OPENAI_API_KEY)");
  args.option("num-prompts", "N", "requests to send", "100");
  args.option("concurrency", "N", "at most N requests in flight (default: no limit, up to 4096)");
  args.option("request-rate", "R", "requests per second, Poisson arrivals; inf sends all at once", "inf");
  args.option("input-len", "N", "prompt tokens per request", "1024");
  args.option("output-len", "N", "generated tokens per request (max_tokens, ignore_eos)", "128");
  args.option("seed", "N", "seed of the prompts and arrival times", "0");
  args.option("timeout", "S", "seconds to wait on any one read before a request fails", "21600");
  args.flag("json", "print the results as JSON (vLLM's result-file keys) instead of the table");
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;
  auto options = options_from_flags(args);
  if (!options.ok()) return report_error("bench-serve", options.status().message().c_str());
  const servebench::Options& o = *options;
  const bool json = args.has("json");

  if (!json) {
    std::printf("Traffic request rate: %s\n", std::isinf(o.request_rate) ? "inf" : python_float(o.request_rate).c_str());
    if (o.concurrency > 0) std::printf("Maximum request concurrency: %lld\n", static_cast<long long>(o.concurrency));
    else std::printf("Maximum request concurrency: None\n");
    std::fflush(stdout);
  }
  auto run = servebench::run(o);
  if (!run.ok()) return report_error("bench-serve", run.status().message().c_str());
  const Metrics m = servebench::compute_metrics(run->results, run->duration);
  if (json) std::printf("%s\n", to_json(o, *run, m).dump(2).c_str());
  else if (m.completed > 0) print_table(m);
  if (m.failed) {
    std::map<std::string, int> counts;
    for (const auto& r : run->results)
      if (!r.success) ++counts[r.error];
    std::fprintf(stderr, "ember bench-serve: %lld of %lld requests failed:\n", static_cast<long long>(m.failed),
                 static_cast<long long>(o.num_prompts));
    for (const auto& [e, n] : counts) std::fprintf(stderr, "  %d x %s\n", n, e.c_str());
  }
  return m.completed > 0 ? 0 : 1;
}

}  // namespace ember::app
