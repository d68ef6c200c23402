#include "server/openai_protocol.h"

#include <limits>
#include <set>
#include <string_view>

#include "base/log.h"
#include "server/json_fields.h"

namespace ember::server {
namespace {

constexpr int64_t kMaxN = 128;
constexpr int64_t kMaxLogprobs = 20;

#define EMBER_API_TRY(expr)            \
  do {                                 \
    if (auto api_error_ = (expr)) return api_error_; \
  } while (0)

// Fields a request may carry that ember reads (or deliberately accepts and
// ignores, like `user`); any other is logged at debug level and ignored.
const std::set<std::string_view> kKnownFields = {
    "model", "temperature", "top_p", "top_k", "min_p", "presence_penalty", "frequency_penalty",
    "repetition_penalty", "seed", "n", "min_tokens", "ignore_eos", "stop_token_ids", "stop", "skip_special_tokens",
    "include_stop_str_in_output", "stream", "return_tokens_as_token_ids", "stream_options", "logit_bias",
    "max_tokens", "max_completion_tokens", "logprobs", "top_logprobs", "messages", "tools", "tool_choice",
    "chat_template_kwargs", "add_generation_prompt", "continue_final_message", "include_reasoning", "prompt", "echo",
    "suffix", "user", "response_format", "add_special_tokens", "return_token_strs", "tokens"};

void log_unknown_fields(const Json& body, const char* endpoint) {
  if (log_level() > LogLevel::kDebug) return;
  for (auto it = body.begin(); it != body.end(); ++it)
    if (!kKnownFields.count(it.key())) LOG_DEBUG("%s: ignoring unknown field '%s'", endpoint, it.key().c_str());
}

// Fields that would change the output in ways ember does not implement yet:
// refused rather than silently ignored.
std::optional<ApiError> refuse_unsupported(const JsonFields& f) {
  if (f.has("suffix")) return bad_request("suffix", "suffix: is not supported");
  if (const Json* rf = f.find("response_format")) {
    const bool text = rf->is_object() && rf->contains("type") && (*rf)["type"] == "text";
    if (!text) return bad_request("response_format", "response_format: only {\"type\": \"text\"} is supported yet");
  }
  return std::nullopt;
}

// Every sampling field both endpoints take (vLLM's names).
std::optional<ApiError> parse_common(const Json& body, const ParseContext& ctx, GenerationRequest* g) {
  JsonFields f(body);
  EMBER_API_TRY(refuse_unsupported(f));
  sampling::SamplingParams& p = g->params;
  if (ctx.defaults) ctx.defaults->apply_to(p);
  EMBER_API_TRY(f.get_string("model", &g->model));
  EMBER_API_TRY(f.get_float("temperature", &p.temperature));
  EMBER_API_TRY(f.get_float("top_p", &p.top_p));
  EMBER_API_TRY(f.get_float("min_p", &p.min_p));
  EMBER_API_TRY(f.get_float("presence_penalty", &p.presence_penalty));
  EMBER_API_TRY(f.get_float("frequency_penalty", &p.frequency_penalty));
  EMBER_API_TRY(f.get_float("repetition_penalty", &p.repetition_penalty));
  int64_t v = 0;
  if (f.has("top_k")) {
    EMBER_API_TRY(f.get_int("top_k", -1, std::numeric_limits<int32_t>::max(), &v));
    p.top_k = static_cast<int32_t>(v);
  }
  if (f.has("seed")) {
    EMBER_API_TRY(f.get_int("seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), &v));
    p.seed = static_cast<uint64_t>(v);
  }
  if (f.has("n")) {
    EMBER_API_TRY(f.get_int("n", 1, kMaxN, &v));
    g->n = static_cast<int32_t>(v);
  }
  if (f.has("min_tokens")) {
    EMBER_API_TRY(f.get_int("min_tokens", 0, std::numeric_limits<int32_t>::max(), &v));
    p.min_tokens = static_cast<int32_t>(v);
  }
  EMBER_API_TRY(f.get_bool("ignore_eos", &p.ignore_eos));
  EMBER_API_TRY(f.get_int_list("stop_token_ids", 0, ctx.vocab - 1, &p.stop_token_ids));
  EMBER_API_TRY(f.get_strings("stop", &g->text.stop));
  // Every stop string is checked against every new piece of text: bounded.
  if (g->text.stop.size() > 256) return bad_request("stop", "stop: at most 256 stop strings");
  for (const auto& s : g->text.stop) {
    if (s.empty()) return bad_request("stop", "stop: stop strings must not be empty");
    if (s.size() > 4096) return bad_request("stop", "stop: a stop string is longer than 4096 bytes");
  }
  EMBER_API_TRY(f.get_bool("skip_special_tokens", &g->text.skip_special_tokens));
  EMBER_API_TRY(f.get_bool("include_stop_str_in_output", &g->text.include_stop_str_in_output));
  EMBER_API_TRY(f.get_bool("stream", &g->stream));
  EMBER_API_TRY(f.get_bool("return_tokens_as_token_ids", &g->return_tokens_as_token_ids));
  if (const Json* so = f.find("stream_options")) {
    if (!so->is_object()) return bad_request("stream_options", "stream_options: must be an object");
    JsonFields sf(*so);
    EMBER_API_TRY(sf.get_bool("include_usage", &g->include_usage));
  }
  if (const Json* lb = f.find("logit_bias")) {
    if (!lb->is_object()) return bad_request("logit_bias", "logit_bias: must be an object of token id -> bias");
    for (auto it = lb->begin(); it != lb->end(); ++it) {
      const std::string& key = it.key();
      char* end = nullptr;
      const long long id = std::strtoll(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0' || id < 0 || id >= ctx.vocab)
        return bad_request("logit_bias", "logit_bias: '" + key + "' is not a token id of this model");
      if (!it.value().is_number()) return bad_request("logit_bias", "logit_bias: biases must be numbers");
      p.logit_bias[static_cast<int32_t>(id)] = it.value().get<float>();
    }
  }
  return std::nullopt;
}

std::optional<ApiError> parse_max_tokens(const JsonFields& f, const char* key, GenerationRequest* g) {
  if (!f.has(key)) return std::nullopt;
  int64_t v = 0;
  EMBER_API_TRY(f.get_int(key, 1, std::numeric_limits<int32_t>::max(), &v));
  g->max_tokens = v;
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> parse_body(const std::string& text, Json* out) {
  *out = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) return bad_request("", "The request body is not valid JSON.");
  if (!out->is_object()) return bad_request("", "The request body must be a JSON object.");
  return std::nullopt;
}

std::optional<ApiError> parse_chat_request(const Json& body, const ParseContext& ctx, ChatRequest* out) {
  log_unknown_fields(body, "chat completions");
  EMBER_API_TRY(parse_common(body, ctx, &out->gen));
  JsonFields f(body);
  EMBER_API_TRY(parse_max_tokens(f, "max_tokens", &out->gen));
  EMBER_API_TRY(parse_max_tokens(f, "max_completion_tokens", &out->gen));  // wins, as in vLLM
  EMBER_API_TRY(f.get_bool("logprobs", &out->gen.logprobs));
  int64_t top = 0;
  EMBER_API_TRY(f.get_int("top_logprobs", 0, kMaxLogprobs, &top));
  if (top > 0 && !out->gen.logprobs)
    return bad_request("top_logprobs", "top_logprobs: logprobs must be true when top_logprobs is used");
  if (out->gen.logprobs) out->gen.params.logprobs = static_cast<int32_t>(top);

  const Json* messages = f.find("messages");
  if (!messages) return bad_request("messages", "messages: is required");
  if (!messages->is_array() || messages->empty())
    return bad_request("messages", "messages: must be a non-empty list of messages");
  for (const auto& m : *messages) {
    if (!m.is_object()) return bad_request("messages", "messages: each message must be an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) return bad_request("messages", "messages: each message needs a string role");
    auto content = m.find("content");
    if (content != m.end() && !(content->is_null() || content->is_string() || content->is_array()))
      return bad_request("messages", "messages: content must be a string, a list of parts or null");
  }
  out->messages = *messages;
  if (const Json* tools = f.find("tools")) {
    if (!tools->is_array()) return bad_request("tools", "tools: must be a list");
    out->tools = *tools;
  }
  if (const Json* kw = f.find("chat_template_kwargs")) {
    if (!kw->is_object()) return bad_request("chat_template_kwargs", "chat_template_kwargs: must be an object");
    out->chat_template_kwargs = *kw;
  }
  EMBER_API_TRY(f.get_bool("add_generation_prompt", &out->add_generation_prompt));
  EMBER_API_TRY(f.get_bool("continue_final_message", &out->continue_final_message));
  EMBER_API_TRY(f.get_bool("include_reasoning", &out->include_reasoning));
  if (out->add_generation_prompt && out->continue_final_message)
    return bad_request("continue_final_message",
                       "continue_final_message: cannot be used together with add_generation_prompt");
  return std::nullopt;
}

std::optional<ApiError> parse_completion_request(const Json& body, const ParseContext& ctx, CompletionRequest* out) {
  log_unknown_fields(body, "completions");
  EMBER_API_TRY(parse_common(body, ctx, &out->gen));
  JsonFields f(body);
  EMBER_API_TRY(parse_max_tokens(f, "max_tokens", &out->gen));
  EMBER_API_TRY(f.get_bool("echo", &out->echo));
  if (f.has("logprobs")) {
    int64_t k = 0;
    EMBER_API_TRY(f.get_int("logprobs", 0, kMaxLogprobs, &k));
    out->gen.logprobs = true;
    out->gen.params.logprobs = static_cast<int32_t>(k);
  }
  const Json* prompt = f.find("prompt");
  if (!prompt) return bad_request("prompt", "prompt: is required");
  auto ids_of = [&](const Json& list, std::vector<int32_t>* ids) -> std::optional<ApiError> {
    for (const auto& e : list) {
      if (!e.is_number_integer()) return bad_request("prompt", "prompt: token ids must be integers");
      const int64_t id = e.is_number_unsigned() ? (e.get<uint64_t>() > INT32_MAX ? -1 : e.get<int64_t>()) : e.get<int64_t>();
      if (id < 0 || id >= ctx.vocab)
        return bad_request("prompt", "prompt: token id " + std::to_string(id) + " is outside the vocabulary");
      ids->push_back(static_cast<int32_t>(id));
    }
    if (ids->empty()) return bad_request("prompt", "prompt: is empty");
    return std::nullopt;
  };
  const char* kShape = "prompt: must be a string, a list of strings, a list of token ids or a list of lists of token ids";
  if (prompt->is_string()) {
    out->prompts.push_back({prompt->get<std::string>(), {}});
  } else if (prompt->is_array() && !prompt->empty()) {
    const Json& first = prompt->front();
    if (first.is_number()) {
      CompletionPrompt p;
      EMBER_API_TRY(ids_of(*prompt, &p.ids));
      out->prompts.push_back(std::move(p));
    } else {
      for (const auto& e : *prompt) {
        if (e.is_string()) {
          out->prompts.push_back({e.get<std::string>(), {}});
        } else if (e.is_array()) {
          CompletionPrompt p;
          EMBER_API_TRY(ids_of(e, &p.ids));
          out->prompts.push_back(std::move(p));
        } else {
          return bad_request("prompt", kShape);
        }
      }
    }
  } else {
    return bad_request("prompt", kShape);
  }
  if (out->prompts.size() * static_cast<size_t>(out->gen.n) > static_cast<size_t>(kMaxN) * 4)
    return bad_request("prompt", "prompt: too many prompts x n in one request");
  for (const auto& p : out->prompts)
    if (p.text && p.text->empty()) return bad_request("prompt", "prompt: is empty");
  return std::nullopt;
}

std::optional<ApiError> parse_generate_request(const Json& body, const ParseContext& ctx, CompletionRequest* out) {
  EMBER_API_TRY(parse_common(body, ctx, &out->gen));
  JsonFields f(body);
  EMBER_API_TRY(parse_max_tokens(f, "max_tokens", &out->gen));
  std::string prompt;
  if (!f.has("prompt")) return bad_request("prompt", "prompt: is required");
  EMBER_API_TRY(f.get_string("prompt", &prompt));
  if (prompt.empty()) return bad_request("prompt", "prompt: is empty");
  if (out->gen.n != 1) return bad_request("n", "n: /generate makes one sample");
  out->prompts.push_back({std::move(prompt), {}});
  return std::nullopt;
}

std::optional<ApiError> resolve_max_tokens(GenerationRequest& gen, int64_t prompt_len, const ParseContext& ctx,
                                           const char* prompt_param) {
  const int64_t room = ctx.max_model_len - prompt_len;
  if (room < 1)
    return bad_request(prompt_param, "This model's maximum context length is " + std::to_string(ctx.max_model_len) +
                                         " tokens. However, your request has " + std::to_string(prompt_len) +
                                         " input tokens. Please reduce the length of the input.");
  if (gen.max_tokens && *gen.max_tokens > room)
    return bad_request("max_tokens", "This model's maximum context length is " + std::to_string(ctx.max_model_len) +
                                         " tokens. However, you requested " +
                                         std::to_string(prompt_len + *gen.max_tokens) + " tokens (" +
                                         std::to_string(prompt_len) + " in the input, " +
                                         std::to_string(*gen.max_tokens) +
                                         " in the completion). Please reduce the length of the input or completion.");
  gen.params.max_tokens = static_cast<int32_t>(gen.max_tokens ? *gen.max_tokens : room);
  if (gen.params.min_tokens > gen.params.max_tokens)
    return bad_request("min_tokens", "min_tokens: must not exceed max_tokens");
  if (Status s = gen.params.validate(ctx.vocab); !s.ok()) return bad_request_from(s);
  return std::nullopt;
}

}  // namespace ember::server
