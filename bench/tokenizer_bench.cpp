// Tokenizer speed: encode throughput on English prose (one thread; bytes/s
// as Google Benchmark's "bytes_per_second") with the word cache warm, as a
// server sees it, and cold, cleared before every pass; and the time to load
// tokenizer.json + tokenizer_config.json.
//
//   tokenizer_bench [--tokenizer DIR] [--text FILE...] [benchmark flags]
// Defaults: the DeepSeek-R1-Distill tokenizer of ../shared/fixtures, and the
// English licence texts Debian ships in /usr/share/common-licenses.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "tokenizer/tokenizer_json.h"

namespace {

std::string g_dir = std::string(EMBER_FIXTURES_DIR) + "/tokenizer/deepseek-r1-distill-qwen-1.5b";
std::vector<std::string> g_texts = {"/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/Apache-2.0",
                                    "/usr/share/common-licenses/GFDL-1.3", "/usr/share/common-licenses/LGPL-2.1",
                                    "/usr/share/common-licenses/MPL-2.0"};
std::string g_prose;
std::shared_ptr<const ember::tokenizer::Tokenizer> g_tok;

void BM_Encode(benchmark::State& state, bool warm) {
  size_t tokens = 0;
  for (auto _ : state) {
    if (!warm) {
      state.PauseTiming();
      auto fresh = ember::tokenizer::load_tokenizer_dir(g_dir);  // empty cache
      g_tok = *fresh;
      state.ResumeTiming();
    }
    auto ids = g_tok->encode(g_prose, {.add_special_tokens = false});
    tokens = ids->size();
    benchmark::DoNotOptimize(ids);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_prose.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["bytes"] = static_cast<double>(g_prose.size());
}

void BM_Load(benchmark::State& state) {
  for (auto _ : state) {
    auto t = ember::tokenizer::load_tokenizer_dir(g_dir);
    if (!t.ok()) state.SkipWithError(t.status().to_string().c_str());
    benchmark::DoNotOptimize(t);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest = {argv[0]};
  std::vector<std::string> texts;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--tokenizer") && i + 1 < argc) {
      g_dir = argv[++i];
    } else if (!std::strcmp(argv[i], "--text") && i + 1 < argc) {
      texts.push_back(argv[++i]);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!texts.empty()) g_texts = texts;
  for (const std::string& path : g_texts) {
    auto t = ember::read_file(path);
    if (!t.ok()) {
      std::fprintf(stderr, "tokenizer_bench: %s\n", t.status().to_string().c_str());
      return 1;
    }
    g_prose += *t;
  }
  auto tok = ember::tokenizer::load_tokenizer_dir(g_dir);
  if (!tok.ok()) {
    std::fprintf(stderr, "tokenizer_bench: %s\n", tok.status().to_string().c_str());
    return 1;
  }
  g_tok = *tok;
  benchmark::RegisterBenchmark("encode/prose/warm_cache", BM_Encode, true)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("encode/prose/cold_cache", BM_Encode, false)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("load/tokenizer.json", BM_Load)->Unit(benchmark::kMillisecond);
  int bargc = static_cast<int>(rest.size());
  benchmark::Initialize(&bargc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
