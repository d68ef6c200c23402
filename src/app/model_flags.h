// Flags shared by every command that loads a model (--threads, --dtype,
// --quantize, --kv-cache-dtype, --log-level) and the loading they drive.
#pragma once

#include <memory>
#include <string>

#include "app/cli_args.h"
#include "base/thread_pool.h"
#include "engine/engine_config.h"
#include "model/model.h"

namespace ember::app {

void add_model_flags(CliArgs& args, const std::string& default_kv_dtype = "auto");

struct LoadedModel {
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<model::Model> model;
  DType kv_dtype = DType::kF16;
  double load_seconds = 0.0;
};

// Applies --log-level, builds the thread pool and loads MODEL.
Result<LoadedModel> load_model_from_flags(const CliArgs& args, const std::string& model_path);

// Serving-engine flags (--kv-cache-memory, --max-model-len, ...) on top of
// the model flags.
void add_engine_flags(CliArgs& args);
// An EngineConfig from the model and engine flags (engine flags optional).
Result<engine::EngineConfig> engine_config_from_flags(const CliArgs& args, const std::string& model_path);

// Shared boilerplate of a subcommand's start: parse, print help. Returns -1
// to go on, else the exit code to return.
int parse_or_exit(CliArgs& args, int argc, char** argv);

}  // namespace ember::app
