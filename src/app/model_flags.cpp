#include "app/model_flags.h"

#include <chrono>
#include <cstdio>

#include "app/commands.h"
#include "base/log.h"
#include "kv/kv_cache.h"

namespace ember::app {

void add_model_flags(CliArgs& args, const std::string& default_kv_dtype) {
  args.option("threads", "N", "compute threads", "physical cores");
  args.alias("-t", "threads");
  args.option("dtype", "TYPE", "weights of a float checkpoint as auto|bf16|f16|f32", "auto");
  args.option("quantize", "TYPE", "quantize a 16/32-bit checkpoint at load: q8_0|q4_k");
  args.option("kv-cache-dtype", "TYPE", "KV cache element type: auto|f16|bf16|f32|q8_0 (auto: f32 for f32 weights, else f16; q8_0: 8.5 bits a value, 1.88x the tokens of f16 in the same memory, a little less exact)",
              default_kv_dtype);
  args.option("log-level", "LEVEL", "debug|info|warning|error|off", "info");
}

void add_engine_flags(CliArgs& args) {
  args.option("kv-cache-memory", "BYTES", "KV cache size, e.g. 2G or 512M (default: a quarter of free memory, at most 4 GiB)");
  args.option("memory-utilization", "X", "share of available memory for the KV cache, in (0, 0.95]");
  args.option("block-size", "N", "tokens per KV block", "16");
  args.option("max-model-len", "N", "longest sequence (default: the model's, lowered to what the KV cache holds)");
  args.option("max-num-batched-tokens", "N", "tokens per engine step", "2048");
  args.option("max-num-seqs", "N", "sequences per engine step", "256");
  args.flag("no-prefix-caching", "do not reuse the KV blocks of shared prefixes");
}

namespace {

Result<int64_t> parse_bytes(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  double mult = 1;
  const std::string unit(end);
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "K" || unit == "KiB" || unit == "k") mult = 1024.0;
  else if (unit == "M" || unit == "MiB") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GiB") mult = 1024.0 * 1024 * 1024;
  else return invalid_argument("--" + flag + ": '" + text + "' is not a size (e.g. 512M, 2G)");
  if (!(v > 0) || v * mult > 1e15) return invalid_argument("--" + flag + ": '" + text + "' is not a sensible size");
  return static_cast<int64_t>(v * mult);
}

}  // namespace

Result<engine::EngineConfig> engine_config_from_flags(const CliArgs& args, const std::string& model_path) {
  LogLevel level;
  if (!parse_log_level(args.get("log-level").c_str(), &level))
    return invalid_argument("--log-level must be debug, info, warning, error or off");
  set_log_level(level);
  engine::EngineConfig c;
  c.model = model_path;
  c.load.weights.dtype = args.get("dtype");
  c.load.weights.quantize = args.get("quantize");
  c.kv_cache_dtype = args.get("kv-cache-dtype");
  if (args.has("threads")) {
    EMBER_ASSIGN_OR_RETURN(int64_t t, args.get_int("threads"));
    if (t < 1 || t > 1024) return invalid_argument("--threads must be between 1 and 1024");
    c.threads = static_cast<int>(t);
  }
  auto int_flag = [&](const char* name, int64_t* out) -> Status {
    if (!args.has(name)) return ok_status();
    EMBER_ASSIGN_OR_RETURN(*out, args.get_int(name));
    return ok_status();
  };
  if (args.has("kv-cache-memory")) {
    EMBER_ASSIGN_OR_RETURN(c.kv_cache_memory, parse_bytes("kv-cache-memory", args.get("kv-cache-memory")));
  }
  if (args.has("memory-utilization")) {
    EMBER_ASSIGN_OR_RETURN(c.memory_utilization, args.get_double("memory-utilization"));
    if (!(c.memory_utilization > 0)) return invalid_argument("--memory-utilization must be in (0, 0.95]");
  }
  EMBER_RETURN_IF_ERROR(int_flag("block-size", &c.block_size));
  EMBER_RETURN_IF_ERROR(int_flag("max-model-len", &c.max_model_len));
  EMBER_RETURN_IF_ERROR(int_flag("max-num-batched-tokens", &c.max_num_batched_tokens));
  EMBER_RETURN_IF_ERROR(int_flag("max-num-seqs", &c.max_num_seqs));
  c.enable_prefix_caching = !args.has("no-prefix-caching");
  EMBER_RETURN_IF_ERROR(c.validate());
  return c;
}

int parse_or_exit(CliArgs& args, int argc, char** argv) {
  if (Status s = args.parse(argc, argv); !s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 2;
  }
  if (args.help_requested()) {
    std::fputs(args.help_text().c_str(), stdout);
    return 0;
  }
  return -1;
}

Result<LoadedModel> load_model_from_flags(const CliArgs& args, const std::string& model_path) {
  LogLevel level;
  if (!parse_log_level(args.get("log-level").c_str(), &level))
    return invalid_argument("--log-level must be debug, info, warning, error or off");
  set_log_level(level);

  int threads = physical_core_count();
  if (args.has("threads")) {
    EMBER_ASSIGN_OR_RETURN(int64_t t, args.get_int("threads"));
    if (t < 1 || t > 1024) return invalid_argument("--threads must be between 1 and 1024");
    threads = static_cast<int>(t);
  }
  LoadedModel out;
  out.pool = std::make_unique<ThreadPool>(threads);
  model::LoadOptions options;
  options.weights.dtype = args.get("dtype");
  options.weights.quantize = args.get("quantize");
  const auto t0 = std::chrono::steady_clock::now();
  EMBER_ASSIGN_OR_RETURN(out.model, model::Model::load(model_path, options, *out.pool));
  out.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  EMBER_ASSIGN_OR_RETURN(out.kv_dtype,
                         kv::parse_kv_cache_dtype(args.get("kv-cache-dtype"), out.model->weights().lm_head.dtype));
  LOG_INFO("loaded %s (%s, %lld layers) in %.2f s, %d threads", model_path.c_str(),
           model::architecture_name(out.model->config().arch),
           static_cast<long long>(out.model->config().n_layers), out.load_seconds, threads);
  return out;
}

}  // namespace ember::app
