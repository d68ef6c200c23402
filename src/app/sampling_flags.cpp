#include "app/sampling_flags.h"

#include <sstream>

#include "engine/model_defaults.h"

namespace ember::app {
namespace {

Result<std::vector<int32_t>> parse_id_list(const std::string& flag, const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (*end != '\0' || v < 0 || v > INT32_MAX)
      return invalid_argument("--" + flag + ": '" + item + "' is not a token id");
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

}  // namespace

void add_sampling_flags(CliArgs& args) {
  args.option("max-tokens", "N", "tokens to generate at most", "256");
  args.alias("-n", "max-tokens");
  args.option("temperature", "T", "0 = greedy", "model default or 1.0");
  args.option("top-k", "K", "keep the K most likely tokens (0 = off)", "model default or 0");
  args.option("top-p", "P", "nucleus sampling mass", "model default or 1.0");
  args.option("min-p", "P", "drop tokens below P x the most likely one's probability", "0");
  args.option("repetition-penalty", "X", "penalty on prompt and output tokens (1 = off)", "1");
  args.option("presence-penalty", "X", "OpenAI presence penalty in [-2, 2]", "0");
  args.option("frequency-penalty", "X", "OpenAI frequency penalty in [-2, 2]", "0");
  args.option("seed", "N", "random seed (same seed, same tokens)");
  args.option("min-tokens", "N", "generate at least N tokens before EOS can end", "0");
  args.flag("ignore-eos", "keep generating past end-of-sequence tokens");
  args.option("stop-token-ids", "IDS", "comma-separated token ids that end generation");
  args.option("logit-bias", "ID:BIAS,...", "add BIAS to the logit of token ID");
}

Result<sampling::SamplingParams> sampling_from_flags(const CliArgs& args, const model::Model& model) {
  sampling::SamplingParams p;
  if (auto d = engine::generation_defaults(model)) d->apply_to(p);
  auto get_float = [&](const char* name, float* out) -> Status {
    if (!args.has(name)) return ok_status();
    EMBER_ASSIGN_OR_RETURN(double v, args.get_double(name));
    *out = static_cast<float>(v);
    return ok_status();
  };
  auto get_int = [&](const char* name, int32_t* out) -> Status {
    if (!args.has(name)) return ok_status();
    EMBER_ASSIGN_OR_RETURN(int64_t v, args.get_int(name));
    if (v < INT32_MIN || v > INT32_MAX) return invalid_argument(std::string("--") + name + " is out of range");
    *out = static_cast<int32_t>(v);
    return ok_status();
  };
  EMBER_ASSIGN_OR_RETURN(int64_t max_tokens, args.get_int("max-tokens"));
  if (max_tokens < 1 || max_tokens > INT32_MAX) return invalid_argument("--max-tokens must be at least 1");
  p.max_tokens = static_cast<int32_t>(max_tokens);
  EMBER_RETURN_IF_ERROR(get_float("temperature", &p.temperature));
  EMBER_RETURN_IF_ERROR(get_int("top-k", &p.top_k));
  EMBER_RETURN_IF_ERROR(get_float("top-p", &p.top_p));
  EMBER_RETURN_IF_ERROR(get_float("min-p", &p.min_p));
  EMBER_RETURN_IF_ERROR(get_float("repetition-penalty", &p.repetition_penalty));
  EMBER_RETURN_IF_ERROR(get_float("presence-penalty", &p.presence_penalty));
  EMBER_RETURN_IF_ERROR(get_float("frequency-penalty", &p.frequency_penalty));
  EMBER_RETURN_IF_ERROR(get_int("min-tokens", &p.min_tokens));
  if (args.has("seed")) {
    EMBER_ASSIGN_OR_RETURN(int64_t seed, args.get_int("seed"));
    p.seed = static_cast<uint64_t>(seed);
  }
  p.ignore_eos = args.has("ignore-eos");
  if (args.has("stop-token-ids")) {
    EMBER_ASSIGN_OR_RETURN(p.stop_token_ids, parse_id_list("stop-token-ids", args.get("stop-token-ids")));
  }
  if (args.has("logit-bias")) {
    std::stringstream ss(args.get("logit-bias"));
    std::string item;
    while (std::getline(ss, item, ',')) {
      const size_t colon = item.find(':');
      if (colon == std::string::npos) return invalid_argument("--logit-bias: expected ID:BIAS, got '" + item + "'");
      char* e1 = nullptr;
      char* e2 = nullptr;
      const long id = std::strtol(item.substr(0, colon).c_str(), &e1, 10);
      const std::string bias_text = item.substr(colon + 1);
      const float bias = std::strtof(bias_text.c_str(), &e2);
      if (*e1 != '\0' || *e2 != '\0' || bias_text.empty())
        return invalid_argument("--logit-bias: expected ID:BIAS, got '" + item + "'");
      p.logit_bias[static_cast<int32_t>(id)] = bias;
    }
  }
  EMBER_RETURN_IF_ERROR(p.validate(model.config().vocab));
  return p;
}

}  // namespace ember::app
