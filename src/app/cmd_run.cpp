// `ember run`: generate from a prompt given as token ids (text prompts come
// with the tokenizer).
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/model_flags.h"
#include "app/sampling_flags.h"
#include "engine/model_defaults.h"
#include "engine/single_sequence.h"
#include "sampling/sampler.h"

namespace ember::app {

int cmd_run(int argc, char** argv) {
  CliArgs args("run", "Generates a continuation of a prompt and prints the generated token ids.");
  args.positional("MODEL", "model directory or .gguf file");
  args.option("tokens", "IDS", "the prompt as comma- or space-separated token ids");
  add_sampling_flags(args);
  add_model_flags(args);
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;
  if (!args.has("tokens")) return report_error("run", "--tokens is required (text prompts arrive with the tokenizer)");

  auto loaded = load_model_from_flags(args, args.positional_at(0));
  if (!loaded.ok()) return report_error("run", loaded.status().to_string().c_str());
  model::Model& model = *loaded->model;
  std::vector<int32_t> prompt;
  {
    std::string text = args.get("tokens");
    for (char& ch : text)
      if (ch == ',') ch = ' ';
    std::istringstream ss(text);
    std::string word;
    while (ss >> word) {
      char* end = nullptr;
      const long long v = std::strtoll(word.c_str(), &end, 10);
      if (*end != '\0' || v < 0 || v >= model.config().vocab)
        return report_error("run", ("--tokens: '" + word + "' is not a token id of this model").c_str());
      prompt.push_back(static_cast<int32_t>(v));
    }
  }
  if (prompt.empty()) return report_error("run", "--tokens is empty");
  auto params = sampling_from_flags(args, model);
  if (!params.ok()) return report_error("run", params.status().to_string().c_str());

  const int64_t capacity = static_cast<int64_t>(prompt.size()) + params->max_tokens;
  if (capacity > model.config().max_position)
    return report_error("run", ("prompt + max tokens (" + std::to_string(capacity) +
                                ") exceed the model's context of " + std::to_string(model.config().max_position))
                                   .c_str());
  auto seq = engine::SingleSequence::create(model, capacity, loaded->kv_dtype);
  if (!seq.ok()) return report_error("run", seq.status().to_string().c_str());
  sampling::Sampler sampler(*params, engine::eos_token_ids(model), prompt);
  std::vector<float> logits;
  const auto t0 = std::chrono::steady_clock::now();
  if (Status s = seq->append(prompt, false, logits, *loaded->pool); !s.ok())
    return report_error("run", s.to_string().c_str());
  const auto t1 = std::chrono::steady_clock::now();
  int generated = 0;
  const char* reason = "length";
  for (;;) {
    const int32_t token = sampler.sample(logits.data(), model.config().vocab);
    sampler.accept(token);
    ++generated;
    std::printf("%s%d", generated > 1 ? " " : "", token);
    std::fflush(stdout);
    const auto stop = sampler.stop_reason(token);
    if (stop != sampling::Sampler::Stop::kNone) {
      reason = stop == sampling::Sampler::Stop::kLength ? "length" : "stop";
      break;
    }
    if (Status s = seq->append(std::span<const int32_t>(&token, 1), false, logits, *loaded->pool); !s.ok())
      return report_error("run", s.to_string().c_str());
  }
  const auto t2 = std::chrono::steady_clock::now();
  const double pp = std::chrono::duration<double>(t1 - t0).count();
  const double tg = std::chrono::duration<double>(t2 - t1).count();
  std::printf("\n");
  std::fprintf(stderr, "finish: %s; prompt %zu tokens in %.2f s (%.1f t/s); generated %d tokens in %.2f s (%.1f t/s)\n",
               reason, prompt.size(), pp, prompt.size() / pp, generated, tg, generated / tg);
  return 0;
}

}  // namespace ember::app
