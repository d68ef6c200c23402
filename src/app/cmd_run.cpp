// `ember run`: one generation through the serving engine, streamed to stdout.
// The prompt is given as token ids (text prompts come with the tokenizer).
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/model_flags.h"
#include "app/sampling_flags.h"
#include "engine/engine_core.h"

namespace ember::app {
namespace {

Result<std::vector<int32_t>> parse_ids(std::string text, int64_t vocab) {
  for (char& ch : text)
    if (ch == ',') ch = ' ';
  std::istringstream ss(text);
  std::vector<int32_t> ids;
  std::string word;
  while (ss >> word) {
    char* end = nullptr;
    const long long v = std::strtoll(word.c_str(), &end, 10);
    if (*end != '\0' || v < 0 || v >= vocab)
      return invalid_argument("--tokens: '" + word + "' is not a token id of this model");
    ids.push_back(static_cast<int32_t>(v));
  }
  if (ids.empty()) return invalid_argument("--tokens is empty");
  return ids;
}

}  // namespace

int cmd_run(int argc, char** argv) {
  CliArgs args("run", "Generates a continuation of a prompt and prints the generated token ids as they come.");
  args.positional("MODEL", "model directory or .gguf file");
  args.option("tokens", "IDS", "the prompt as comma- or space-separated token ids");
  add_sampling_flags(args);
  add_model_flags(args);
  add_engine_flags(args);
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;
  if (!args.has("tokens")) return report_error("run", "--tokens is required (text prompts arrive with the tokenizer)");

  auto config = engine_config_from_flags(args, args.positional_at(0));
  if (!config.ok()) return report_error("run", config.status().to_string().c_str());
  auto core = engine::EngineCore::create(*config);
  if (!core.ok()) return report_error("run", core.status().to_string().c_str());
  engine::EngineCore& engine = **core;
  auto prompt = parse_ids(args.get("tokens"), engine.model().config().vocab);
  if (!prompt.ok()) return report_error("run", prompt.status().message().c_str());
  auto params = sampling_from_flags(args, engine.model());
  if (!params.ok()) return report_error("run", params.status().to_string().c_str());
  const size_t prompt_len = prompt->size();
  if (Status s = engine.add_request(engine::NewRequest{1, std::move(*prompt), *params, ""}); !s.ok())
    return report_error("run", s.to_string().c_str());

  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  Clock::time_point first{};
  int generated = 0;
  const char* reason = "length";
  while (engine.has_unfinished()) {
    auto outputs = engine.step();
    if (!outputs.ok()) return report_error("run", outputs.status().to_string().c_str());
    for (const auto& o : *outputs) {
      for (int32_t t : o.new_tokens) {
        if (generated++ == 0) first = Clock::now();
        std::printf("%s%d", generated > 1 ? " " : "", t);
      }
      std::fflush(stdout);
      if (o.finished) reason = engine::to_string(o.finish_reason);
    }
  }
  const auto t1 = Clock::now();
  const double pp = std::chrono::duration<double>(first - t0).count();
  const double tg = std::chrono::duration<double>(t1 - first).count();
  std::printf("\n");
  std::fprintf(stderr, "finish: %s; prompt %zu tokens in %.2f s (%.1f t/s); %d tokens generated in %.2f s (%.1f t/s)\n",
               reason, prompt_len, pp, prompt_len / pp, generated, tg, generated > 1 ? (generated - 1) / tg : 0.0);
  return 0;
}

}  // namespace ember::app
