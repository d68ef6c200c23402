// Requests of the OpenAI API as ember serves them (POST /v1/chat/completions,
// /v1/completions, and the /generate endpoint), parsed and validated from an
// untrusted JSON body. Fields ember does not know are ignored; a field of the
// wrong type or value is a 400 that names it. Sampling fields a request
// leaves out take the model's generation_config.json defaults (as vLLM).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/text_output.h"
#include "sampling/sampling_params.h"
#include "server/api_error.h"

namespace ember::server {

using Json = nlohmann::ordered_json;

struct ParseContext {
  int64_t vocab = 0;
  int64_t max_model_len = 0;
  std::optional<sampling::GenerationDefaults> defaults;
};

// Fields shared by every generating endpoint.
struct GenerationRequest {
  std::string model;                       // empty: not given
  sampling::SamplingParams params;         // max_tokens set by resolve_max_tokens
  std::optional<int64_t> max_tokens;       // as the request gave it
  engine::TextOutputOptions text;          // stop strings, skip_special_tokens, ...
  int32_t n = 1;
  bool stream = false;
  bool include_usage = false;              // stream_options.include_usage
  bool return_tokens_as_token_ids = false; // vLLM: logprob tokens as "token_id:N"
  bool logprobs = false;                   // report logprobs (params.logprobs = top k)
};

struct ChatRequest {
  GenerationRequest gen;
  Json messages = Json::array();
  std::optional<Json> tools;
  Json chat_template_kwargs = Json::object();
  bool add_generation_prompt = true;
  bool continue_final_message = false;
  bool include_reasoning = true;
};

struct CompletionPrompt {
  std::optional<std::string> text;  // given as text (else ids)
  std::vector<int32_t> ids;         // given as ids, or filled in by tokenizing text
};

struct CompletionRequest {
  GenerationRequest gen;
  std::vector<CompletionPrompt> prompts;  // one or more
  bool echo = false;
};

std::optional<ApiError> parse_chat_request(const Json& body, const ParseContext& ctx, ChatRequest* out);
std::optional<ApiError> parse_completion_request(const Json& body, const ParseContext& ctx, CompletionRequest* out);
// /generate: {"prompt": text, sampling fields, "stream"}.
std::optional<ApiError> parse_generate_request(const Json& body, const ParseContext& ctx, CompletionRequest* out);

// Sets params.max_tokens (default: what fits in the context after the
// prompt) and validates the sampling parameters; prompt_param names the
// prompt field in the error for a prompt too long for the context.
std::optional<ApiError> resolve_max_tokens(GenerationRequest& gen, int64_t prompt_len, const ParseContext& ctx,
                                           const char* prompt_param);

// The body as JSON, or a 400 for malformed JSON / a body that is not an object.
std::optional<ApiError> parse_body(const std::string& text, Json* out);

}  // namespace ember::server
