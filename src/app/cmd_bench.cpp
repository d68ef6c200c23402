// `ember bench`: prompt processing (pp) and generation (tg) speed like
// llama-bench, with the decode figure set against the memory roofline.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/bench_concurrency.h"
#include "app/commands.h"
#include "app/memory_bandwidth.h"
#include "app/model_flags.h"
#include "engine/single_sequence.h"

namespace ember::app {
namespace {

struct Stats {
  std::string test;
  double median = 0, min = 0, max = 0;
};

Stats summarize(const std::string& test, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  Stats s;
  s.test = test;
  s.min = v.front();
  s.max = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int bench_serving(const CliArgs& args, int64_t prompt_len, int64_t gen_len) {
  std::vector<int> levels;
  {
    std::string text = args.get("concurrency");
    size_t pos = 0;
    while (pos <= text.size()) {
      const size_t comma = std::min(text.find(',', pos), text.size());
      const std::string item = text.substr(pos, comma - pos);
      char* end = nullptr;
      const long v = std::strtol(item.c_str(), &end, 10);
      if (item.empty() || *end != '\0' || v < 1 || v > 1024)
        return report_error("bench", ("--concurrency: '" + item + "' is not a count in [1, 1024]").c_str());
      levels.push_back(static_cast<int>(v));
      pos = comma + 1;
    }
  }
  if (prompt_len < 1 || gen_len < 2) return report_error("bench", "--concurrency needs -p >= 1 and -n >= 2");
  auto config = engine_config_from_flags(args, args.positional_at(0));
  if (!config.ok()) return report_error("bench", config.status().to_string().c_str());
  int max_level = 1;
  for (int c : levels) max_level = std::max(max_level, c);
  if (config->max_num_seqs < max_level) config->max_num_seqs = max_level;
  auto results = bench_concurrency(*config, levels, prompt_len, gen_len);
  if (!results.ok()) return report_error("bench", results.status().to_string().c_str());
  if (args.has("json")) {
    nlohmann::json j;
    j["model"] = args.positional_at(0);
    j["prompt_tokens"] = prompt_len;
    j["generated_tokens"] = gen_len;
    j["results"] = nlohmann::json::array();
    for (const auto& r : *results)
      j["results"].push_back({{"concurrency", r.concurrency},
                              {"prefill_tokens_per_s", r.prefill_tokens_per_s},
                              {"generation_tokens_per_s", r.generation_tokens_per_s},
                              {"per_sequence_tokens_per_s", r.per_sequence_tokens_per_s}});
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("model: %s; %lld prompt tokens and %lld generated tokens per sequence\n", args.positional_at(0).c_str(),
              static_cast<long long>(prompt_len), static_cast<long long>(gen_len));
  std::printf("| concurrency | prefill t/s | generation t/s (aggregate) | per sequence t/s |\n");
  std::printf("|-------------|-------------|----------------------------|------------------|\n");
  for (const auto& r : *results)
    std::printf("| %11d | %11.1f | %26.1f | %16.2f |\n", r.concurrency, r.prefill_tokens_per_s,
                r.generation_tokens_per_s, r.per_sequence_tokens_per_s);
  return 0;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  CliArgs args("bench",
               "Measures prompt processing (one prefill of -p tokens) and generation (-n tokens "
               "one at a time from an empty cache) in tokens/s, median and spread over -r runs, "
               "and sets generation against the memory roofline (measured read bandwidth / "
               "bytes of weights read per token).");
  args.positional("MODEL", "model directory or .gguf file");
  args.option("n-prompt", "N", "prompt tokens for the pp test (0 skips it)", "512");
  args.alias("-p", "n-prompt");
  args.option("n-gen", "N", "generated tokens for the tg test (0 skips it)", "128");
  args.alias("-n", "n-gen");
  args.option("repetitions", "N", "runs of each test", "3");
  args.alias("-r", "repetitions");
  args.flag("json", "print the results as JSON");
  args.option("concurrency", "C1,C2,...",
              "serving-engine mode: C sequences at once (-p prompt tokens each, -n generated), e.g. 1,4,16,64");
  add_model_flags(args);
  add_engine_flags(args);
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;
  auto p = args.get_int("n-prompt");
  auto n = args.get_int("n-gen");
  auto r = args.get_int("repetitions");
  for (const auto* v : {&p, &n, &r})
    if (!v->ok()) return report_error("bench", v->status().message().c_str());
  if (*p < 0 || *n < 0 || *r < 1 || *p + *n > 1'000'000)
    return report_error("bench", "-p and -n must be >= 0 and -r >= 1");

  if (args.has("concurrency")) return bench_serving(args, *p, *n);

  auto loaded = load_model_from_flags(args, args.positional_at(0));
  if (!loaded.ok()) return report_error("bench", loaded.status().to_string().c_str());
  model::Model& model = *loaded->model;
  ThreadPool& pool = *loaded->pool;
  const int64_t vocab = model.config().vocab;
  auto seq = engine::SingleSequence::create(model, std::max<int64_t>(*p, *n) + 1, loaded->kv_dtype);
  if (!seq.ok()) return report_error("bench", seq.status().to_string().c_str());

  std::vector<int32_t> prompt(*p);
  uint64_t state = 12345;
  for (auto& t : prompt) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    t = static_cast<int32_t>((state >> 33) % static_cast<uint64_t>(vocab));
  }
  std::vector<float> logits;
  auto fail = [&](const Status& s) { return report_error("bench", s.to_string().c_str()); };
  // Warm-up: touches the weights once so page faults are not timed.
  {
    const int32_t t = 1;
    if (Status s = seq->append(std::span<const int32_t>(&t, 1), false, logits, pool); !s.ok()) return fail(s);
  }
  std::vector<Stats> results;
  if (*p > 0) {
    std::vector<double> tps;
    for (int64_t rep = 0; rep < *r; ++rep) {
      seq->reset();
      const auto t0 = std::chrono::steady_clock::now();
      if (Status s = seq->append(prompt, false, logits, pool); !s.ok()) return fail(s);
      tps.push_back(static_cast<double>(*p) / seconds_since(t0));
    }
    results.push_back(summarize("pp" + std::to_string(*p), tps));
  }
  if (*n > 0) {
    std::vector<double> tps;
    for (int64_t rep = 0; rep < *r; ++rep) {
      seq->reset();
      int32_t token = prompt.empty() ? 1 : prompt[0];
      const auto t0 = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < *n; ++i) {
        if (Status s = seq->append(std::span<const int32_t>(&token, 1), false, logits, pool); !s.ok())
          return fail(s);
        token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      }
      tps.push_back(static_cast<double>(*n) / seconds_since(t0));
    }
    results.push_back(summarize("tg" + std::to_string(*n), tps));
  }
  const double bandwidth = measure_read_bandwidth_gbs(pool);
  const double bytes_per_token = static_cast<double>(model.weights().matmul_bytes);
  const double roofline = bandwidth * 1e9 / bytes_per_token;

  if (args.has("json")) {
    nlohmann::json j;
    j["model"] = args.positional_at(0);
    j["model_bytes"] = model.weights().matmul_bytes;
    j["bandwidth_gbs"] = bandwidth;
    j["threads"] = pool.size();
    j["roofline_tokens_per_s"] = roofline;
    j["results"] = nlohmann::json::array();
    for (const auto& s : results)
      j["results"].push_back({{"test", s.test},
                              {"tokens_per_s_median", s.median},
                              {"tokens_per_s_min", s.min},
                              {"tokens_per_s_max", s.max}});
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("model: %s\n", args.positional_at(0).c_str());
  std::printf("weights read per token: %.1f MiB; memory read bandwidth: %.1f GB/s; roofline: %.1f tokens/s\n",
              bytes_per_token / 1048576.0, bandwidth, roofline);
  std::printf("| %-7s | %7s | %12s | %12s | %12s | %10s |\n", "test", "threads", "t/s median", "t/s min",
              "t/s max", "% roofline");
  std::printf("|---------|---------|--------------|--------------|--------------|------------|\n");
  for (const auto& s : results) {
    const bool tg = s.test.rfind("tg", 0) == 0;
    char pct[16] = "";
    if (tg) std::snprintf(pct, sizeof pct, "%.0f%%", 100.0 * s.median / roofline);
    std::printf("| %-7s | %7d | %12.2f | %12.2f | %12.2f | %10s |\n", s.test.c_str(), pool.size(), s.median, s.min,
                s.max, pct);
  }
  return 0;
}

}  // namespace ember::app
