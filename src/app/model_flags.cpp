#include "app/model_flags.h"

#include <chrono>
#include <cstdio>

#include "app/commands.h"
#include "base/log.h"

namespace ember::app {

void add_model_flags(CliArgs& args, const std::string& default_kv_dtype) {
  args.option("threads", "N", "compute threads", "physical cores");
  args.alias("-t", "threads");
  args.option("dtype", "TYPE", "weights of a float checkpoint as auto|bf16|f16|f32", "auto");
  args.option("quantize", "TYPE", "quantize a 16/32-bit checkpoint at load: q8_0|q4_k");
  args.option("kv-cache-dtype", "TYPE", "KV cache element type: auto|f16|bf16|f32 (auto: f32 for f32 weights, else f16)",
              default_kv_dtype);
  args.option("log-level", "LEVEL", "debug|info|warning|error|off", "info");
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

  const std::string kv = args.get("kv-cache-dtype");
  if (kv == "auto") {
    out.kv_dtype = out.model->weights().lm_head.dtype == DType::kF32 ? DType::kF32 : DType::kF16;
  } else {
    auto parsed = parse_dtype(kv);
    if (!parsed || (*parsed != DType::kF16 && *parsed != DType::kBF16 && *parsed != DType::kF32))
      return invalid_argument("--kv-cache-dtype must be auto, f16, bf16 or f32, got '" + kv + "'");
    out.kv_dtype = *parsed;
  }
  LOG_INFO("loaded %s (%s, %lld layers) in %.2f s, %d threads", model_path.c_str(),
           model::architecture_name(out.model->config().arch),
           static_cast<long long>(out.model->config().n_layers), out.load_seconds, threads);
  return out;
}

}  // namespace ember::app
