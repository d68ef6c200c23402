// POST /v1/chat/completions, /v1/completions and /generate: parse, render,
// tokenize, run a Generation, and write the OpenAI wire format (one JSON
// body, or SSE chunks ending with [DONE]; NDJSON lines for /generate).
#include <httplib.h>

#include <chrono>
#include <ctime>
#include <random>

#include "server/client_connection.h"
#include "server/generation.h"
#include "server/json_fields.h"
#include "server/request_log.h"
#include "server/response_cache.h"
#include "server/server.h"
#include "server/sse.h"

namespace ember::server {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(50);

std::string random_id(const char* prefix) {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  static const char* kHex = "0123456789abcdef";
  std::string s = prefix;
  for (int i = 0; i < 2; ++i) {
    uint64_t v = rng();
    for (int k = 0; k < 16; ++k, v >>= 4) s += kHex[v & 15];
  }
  return s;
}

Json nullable(const std::string& s, bool is_null) { return is_null ? Json(nullptr) : Json(s); }

// How logprob tokens are written.
struct TokenNamer {
  const tokenizer::Tokenizer* tokenizer;
  bool as_ids;
  std::string operator()(int32_t id) const {
    if (as_ids) return "token_id:" + std::to_string(id);
    const int32_t one[1] = {id};
    return tokenizer->decode(std::span<const int32_t>(one, 1), false);
  }
  // The token's own bytes (a token may hold part of a UTF-8 character,
  // which its text shows as U+FFFD).
  Json bytes(int32_t id) const {
    std::string raw;
    tokenizer->append_token_bytes(id, false, &raw);
    Json b = Json::array();
    for (unsigned char c : raw) b.push_back(static_cast<int>(c));
    return b;
  }
};

// Chat: {"content": [{token, logprob, bytes, top_logprobs: [...]}]}
Json chat_logprobs(const std::vector<sampling::TokenLogprobs>& lps, const TokenNamer& name) {
  Json content = Json::array();
  for (const auto& lp : lps) {
    const std::string tok = name(lp.token);
    Json top = Json::array();
    for (const auto& [id, v] : lp.top) {
      const std::string t = name(id);
      top.push_back({{"token", t}, {"logprob", v}, {"bytes", name.bytes(id)}});
    }
    content.push_back({{"token", tok}, {"logprob", lp.logprob}, {"bytes", name.bytes(lp.token)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

// Completions: {text_offset, token_logprobs, tokens, top_logprobs}; offsets
// count from `offset`, advanced past the tokens' text.
Json completion_logprobs(const std::vector<sampling::TokenLogprobs>& lps, const TokenNamer& name, size_t* offset) {
  Json j = {{"text_offset", Json::array()}, {"token_logprobs", Json::array()}, {"tokens", Json::array()},
            {"top_logprobs", Json::array()}};
  for (const auto& lp : lps) {
    const std::string tok = name(lp.token);
    j["text_offset"].push_back(*offset);
    j["token_logprobs"].push_back(lp.logprob);
    j["tokens"].push_back(tok);
    Json top = Json::object();
    for (const auto& [id, v] : lp.top) top[name(id)] = v;
    j["top_logprobs"].push_back(top);
    *offset += tok.size();
  }
  return j;
}

Json usage_json(const Generation& g) {
  return {{"prompt_tokens", g.prompt_tokens()},
          {"total_tokens", g.prompt_tokens() + g.completion_tokens()},
          {"completion_tokens", g.completion_tokens()}};
}

// What every response body and stream chunk starts with.
Json envelope(const std::string& id, const char* object, int64_t created, const std::string& model, Json choices) {
  return {{"id", id}, {"object", object}, {"created", created}, {"model", model}, {"choices", std::move(choices)}};
}

// A stream chunk of one choice; with include_usage every chunk carries
// "usage": null, as in OpenAI's streams.
Json stream_chunk(const std::string& id, const char* object, int64_t created, const std::string& model,
                  bool include_usage, Json choice) {
  Json c = envelope(id, object, created, model, Json::array({std::move(choice)}));
  if (include_usage) c["usage"] = nullptr;
  return c;
}

}  // namespace

struct RunningGeneration {
  std::unique_ptr<Generation> gen;
  std::unique_ptr<InFlight> inflight;
  std::string id;         // the response's id, also the request log's
  std::string cache_key;  // where the completed recording goes; empty: not cached
};

namespace {

// A streamed response: the content provider pulls deltas and writes what
// `on_deltas` / `on_end` make of them.
struct StreamJob {
  RunningGeneration run;
  std::function<void(std::string&)> on_begin;
  std::function<void(const std::vector<ChoiceDelta>&, std::string&)> on_deltas;
  std::function<void(std::string&)> on_end;
  bool began = false, ended = false;
  int socket = -1;                 // the client's, watched while nothing is written
  ResponseCache* cache = nullptr;

  // The client went away: abort, and stop the response.
  bool give_up() {
    run.gen->abort();
    note_generation(*run.gen, run.id);
    return false;
  }
  void complete() {
    if (!run.cache_key.empty()) cache->put(run.cache_key, run.gen->recording());
    note_generation(*run.gen, run.id);
  }
};

void stream_response(const httplib::Request& req, httplib::Response& res, std::shared_ptr<StreamJob> job,
                     RunningGeneration run, ResponseCache& cache, const char* content_type) {
  job->run = std::move(run);
  job->cache = &cache;
  if (!job->run.gen->replaying()) job->socket = request_socket(req);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      content_type,
      [job](size_t, httplib::DataSink& sink) {
        if (job->ended) {
          sink.done();
          return true;
        }
        std::string out;
        if (!job->began) {
          job->began = true;
          if (job->on_begin) job->on_begin(out);
        }
        const auto deltas = job->run.gen->poll(kPollInterval);
        if (!deltas.empty()) job->on_deltas(deltas, out);
        if (job->run.gen->done()) {
          job->on_end(out);
          job->ended = true;
          job->complete();
        }
        if (!out.empty()) {
          if (!sink.write(out.data(), out.size())) return job->give_up();  // the client went away
        } else if (!sink.is_writable() || peer_closed(job->socket)) {
          return job->give_up();
        }
        if (job->ended) sink.done();
        return true;
      },
      [job](bool) { job->run.gen->abort(); });
}

struct ChoiceAccum {
  std::string content, reasoning, finish_reason;
  Json stop_reason;
  std::vector<sampling::TokenLogprobs> logprobs;
  std::vector<int32_t> tokens;
};

// Runs a non-streamed generation to its end, watching the client's socket:
// a client that goes away has its generation aborted (nullopt).
std::optional<std::vector<ChoiceAccum>> run_to_end(Generation& g, const httplib::Request& req) {
  const int socket = g.replaying() ? -1 : request_socket(req);
  std::vector<ChoiceAccum> acc(static_cast<size_t>(g.num_choices()));
  while (!g.done()) {
    for (auto& d : g.poll(kPollInterval)) {
      ChoiceAccum& a = acc[static_cast<size_t>(d.index)];
      a.content += d.content;
      a.reasoning += d.reasoning;
      a.logprobs.insert(a.logprobs.end(), d.logprobs.begin(), d.logprobs.end());
      a.tokens.insert(a.tokens.end(), d.tokens.begin(), d.tokens.end());
      if (!d.finish_reason.empty()) {
        a.finish_reason = d.finish_reason;
        a.stop_reason = d.stop_reason;
      }
    }
    if (!g.done() && peer_closed(socket)) {
      g.abort();
      return std::nullopt;
    }
  }
  return acc;
}

// After a non-streamed generation: the log record and the cache entry; the
// error to answer when the client left or the engine failed.
std::optional<ApiError> conclude(const RunningGeneration& run, bool client_gone, ResponseCache& cache) {
  const Generation& g = *run.gen;
  note_generation(g, run.id);
  if (client_gone) return ApiError{499, "The client closed the connection.", "BadRequestError", "", ""};
  if (!g.error().ok()) return ApiError{500, g.error().message(), "InternalServerError", "", ""};
  if (!run.cache_key.empty() && !g.replaying()) cache.put(run.cache_key, g.recording());
  return std::nullopt;
}

// The end of an SSE stream: the error event, or the usage chunk when
// stream_options.include_usage asked for it; then [DONE].
std::string sse_stream_end(const Generation& g, bool include_usage, const std::string& id, const char* object,
                           int64_t created, const std::string& model) {
  std::string out;
  if (!g.error().ok()) {
    out += sse_event(ApiError{500, g.error().message(), "InternalServerError", "", ""}.to_json());
  } else if (include_usage) {
    Json usage = envelope(id, object, created, model, Json::array());
    usage["usage"] = usage_json(g);
    out += sse_event(usage);
  }
  out += sse_done();
  return out;
}

}  // namespace

std::optional<ApiError> Server::start_generation(const GenerationOptions& go, const std::string& key,
                                                 const char* id_prefix, const char* param,
                                                 const std::function<Status(Generation&)>& add,
                                                 RunningGeneration* out) {
  auto gen = std::make_unique<Generation>(engine_, tokenizer_.tokenizer, go, metrics_.get());
  bool replay = false;
  if (!key.empty()) {
    if (auto hit = response_cache_->get(key)) {
      gen->replay(std::move(hit));
      replay = true;
    } else {
      gen->record();
    }
    request_log().response_cache = replay ? "hit" : "miss";
  }
  if (!replay)
    if (Status s = add(*gen); !s.ok()) return bad_request_from(s, param);
  out->inflight = std::make_unique<InFlight>(*this, gen->request_ids());
  out->gen = std::move(gen);
  out->id = random_id(id_prefix);
  out->cache_key = key;
  return std::nullopt;
}

void Server::handle_chat(const httplib::Request& req, httplib::Response& res) {
  Json body;
  ChatRequest cr;
  if (auto e = parse_body(req.body, &body)) return send_error(res, *e);
  if (auto e = parse_chat_request(body, parse_context_, &cr)) return send_error(res, *e);
  if (auto e = check_model(cr.gen.model)) return send_error(res, *e);
  std::string text;
  if (auto e = render_chat(cr, &text)) return send_error(res, *e);
  auto ids = tokenizer_.tokenizer->encode(text, {.add_special_tokens = false, .parse_special = true});
  if (!ids.ok()) return send_error(res, bad_request("messages", ids.status().message()));
  if (auto e = resolve_max_tokens(cr.gen, static_cast<int64_t>(ids->size()), parse_context_, "messages"))
    return send_error(res, *e);

  GenerationOptions go;
  go.text = cr.gen.text;
  go.reasoning = reasoning_;
  go.starts_in_reasoning = chat::prompt_opens_reasoning(text) || options_.reasoning_parser == "deepseek_r1";
  go.include_reasoning = cr.include_reasoning;
  const std::string key =
      response_cache_->enabled()
          ? response_cache_key("chat", options_.served_model_name, go, {{&*ids, &cr.gen.params, cr.gen.n}},
                               {{"logprobs", cr.gen.logprobs},
                                {"return_tokens_as_token_ids", cr.gen.return_tokens_as_token_ids}})
          : std::string();
  RunningGeneration run;
  if (auto e = start_generation(go, key, "chatcmpl-", "messages",
                                [&](Generation& g) { return g.add(std::move(*ids), cr.gen.params, cr.gen.n); }, &run))
    return send_error(res, *e);
  Generation* const gen = run.gen.get();
  const std::string id = run.id;
  const int64_t created = static_cast<int64_t>(std::time(nullptr));
  const std::string model = options_.served_model_name;
  const TokenNamer namer{tokenizer_.tokenizer.get(), cr.gen.return_tokens_as_token_ids};
  const bool want_logprobs = cr.gen.logprobs;

  if (!cr.gen.stream) {
    const auto acc = run_to_end(*gen, req);
    if (auto e = conclude(run, !acc, *response_cache_)) return send_error(res, *e);
    Json choices = Json::array();
    for (size_t i = 0; i < acc->size(); ++i) {
      const ChoiceAccum& a = (*acc)[i];
      // As vLLM's deepseek_r1 parser: an output that was reasoning has its
      // reasoning as a string ("" when </think> came first or nothing was
      // generated) and content only if text follows </think> (else null).
      const ReasoningSplit split = gen->reasoning_split(static_cast<int32_t>(i));
      const bool no_content =
          split == ReasoningSplit::kOpen || (split == ReasoningSplit::kEnded && a.content.empty());
      const bool no_reasoning = split == ReasoningSplit::kNone || !cr.include_reasoning;
      Json message = {{"role", "assistant"},
                      {"content", nullable(a.content, no_content)},
                      {"reasoning_content", nullable(a.reasoning, no_reasoning)},
                      {"reasoning", nullable(a.reasoning, no_reasoning)},
                      {"tool_calls", Json::array()}};
      choices.push_back({{"index", i},
                         {"message", message},
                         {"logprobs", want_logprobs ? chat_logprobs(a.logprobs, namer) : Json(nullptr)},
                         {"finish_reason", a.finish_reason},
                         {"stop_reason", a.stop_reason}});
    }
    Json out = envelope(id, "chat.completion", created, model, std::move(choices));
    out["usage"] = usage_json(*gen);
    return send_json(res, out);
  }

  auto job = std::make_shared<StreamJob>();
  const Generation* g = gen;
  const int32_t n = g->num_choices();
  const bool include_usage = cr.gen.include_usage;
  auto chunk = [=](Json choice) {
    return stream_chunk(id, "chat.completion.chunk", created, model, include_usage, std::move(choice));
  };
  job->on_begin = [=](std::string& out) {
    for (int32_t i = 0; i < n; ++i)
      out += sse_event(chunk({{"index", i},
                              {"delta", {{"role", "assistant"}, {"content", ""}}},
                              {"logprobs", nullptr},
                              {"finish_reason", nullptr}}));
  };
  job->on_deltas = [=](const std::vector<ChoiceDelta>& deltas, std::string& out) {
    for (const ChoiceDelta& d : deltas) {
      Json lp = want_logprobs && !d.logprobs.empty() ? chat_logprobs(d.logprobs, namer) : Json(nullptr);
      // Reasoning and content never share a delta: split exactly at </think>.
      std::vector<Json> parts;
      if (!d.reasoning.empty()) parts.push_back({{"reasoning_content", d.reasoning}, {"reasoning", d.reasoning}});
      if (!d.content.empty()) parts.push_back({{"content", d.content}});
      if (parts.empty() && (!lp.is_null() || !d.finish_reason.empty()))
        parts.push_back(lp.is_null() ? Json::object() : Json{{"content", ""}});
      for (size_t k = 0; k < parts.size(); ++k) {
        const bool last = k + 1 == parts.size();
        Json choice = {{"index", d.index},
                       {"delta", parts[k]},
                       {"logprobs", k == 0 ? lp : Json(nullptr)},
                       {"finish_reason", last && !d.finish_reason.empty() ? Json(d.finish_reason) : Json(nullptr)}};
        if (last && !d.finish_reason.empty()) choice["stop_reason"] = d.stop_reason;
        out += sse_event(chunk(std::move(choice)));
      }
    }
  };
  job->on_end = [=](std::string& out) { out += sse_stream_end(*g, include_usage, id, "chat.completion.chunk", created, model); };
  stream_response(req, res, std::move(job), std::move(run), *response_cache_, "text/event-stream");
}

void Server::handle_completions(const httplib::Request& req, httplib::Response& res) {
  Json body;
  CompletionRequest cr;
  if (auto e = parse_body(req.body, &body)) return send_error(res, *e);
  if (auto e = parse_completion_request(body, parse_context_, &cr)) return send_error(res, *e);
  if (auto e = check_model(cr.gen.model)) return send_error(res, *e);
  if (cr.echo && cr.gen.logprobs)
    return send_error(res, bad_request("echo", "echo: is not supported together with logprobs (no prompt logprobs)"));

  GenerationOptions go;
  go.text = cr.gen.text;
  std::vector<std::string> echoes;
  std::vector<sampling::SamplingParams> params;  // per prompt (max_tokens resolved for each)
  for (auto& p : cr.prompts) {
    if (p.text) {
      auto ids = tokenizer_.tokenizer->encode(*p.text, {.add_special_tokens = true, .parse_special = true});
      if (!ids.ok()) return send_error(res, bad_request("prompt", ids.status().message()));
      p.ids = std::move(*ids);
      if (p.ids.empty()) return send_error(res, bad_request("prompt", "prompt: is empty"));
    }
    GenerationRequest g = cr.gen;
    if (auto e = resolve_max_tokens(g, static_cast<int64_t>(p.ids.size()), parse_context_, "prompt"))
      return send_error(res, *e);
    std::string echo;
    if (cr.echo) echo = p.text ? *p.text : tokenizer_.tokenizer->decode(p.ids, cr.gen.text.skip_special_tokens);
    for (int32_t i = 0; i < cr.gen.n; ++i) echoes.push_back(echo);
    params.push_back(g.params);
  }
  std::string key;
  if (response_cache_->enabled()) {
    std::vector<CacheKeyPart> parts;
    for (size_t i = 0; i < cr.prompts.size(); ++i) parts.push_back({&cr.prompts[i].ids, &params[i], cr.gen.n});
    key = response_cache_key("completions", options_.served_model_name, go, parts,
                             {{"logprobs", cr.gen.logprobs},
                              {"echo", cr.echo},
                              {"return_tokens_as_token_ids", cr.gen.return_tokens_as_token_ids}});
  }
  RunningGeneration run;
  if (auto e = start_generation(go, key, "cmpl-", "prompt",
                                [&](Generation& g) {
                                  for (size_t i = 0; i < cr.prompts.size(); ++i)
                                    EMBER_RETURN_IF_ERROR(g.add(std::move(cr.prompts[i].ids), params[i], cr.gen.n));
                                  return ok_status();
                                },
                                &run))
    return send_error(res, *e);
  Generation* const gen = run.gen.get();
  const std::string id = run.id;
  const int64_t created = static_cast<int64_t>(std::time(nullptr));
  const std::string model = options_.served_model_name;
  const TokenNamer namer{tokenizer_.tokenizer.get(), cr.gen.return_tokens_as_token_ids};
  const bool want_logprobs = cr.gen.logprobs;

  if (!cr.gen.stream) {
    const auto acc = run_to_end(*gen, req);
    if (auto e = conclude(run, !acc, *response_cache_)) return send_error(res, *e);
    Json choices = Json::array();
    for (size_t i = 0; i < acc->size(); ++i) {
      const ChoiceAccum& a = (*acc)[i];
      size_t offset = echoes[i].size();
      choices.push_back({{"index", i},
                         {"text", echoes[i] + a.content},
                         {"logprobs", want_logprobs ? completion_logprobs(a.logprobs, namer, &offset) : Json(nullptr)},
                         {"finish_reason", a.finish_reason},
                         {"stop_reason", a.stop_reason}});
    }
    Json out = envelope(id, "text_completion", created, model, std::move(choices));
    out["usage"] = usage_json(*gen);
    return send_json(res, out);
  }

  auto job = std::make_shared<StreamJob>();
  const Generation* g = gen;
  const bool include_usage = cr.gen.include_usage;
  auto offsets = std::make_shared<std::vector<size_t>>(echoes.size(), 0);
  auto chunk = [=](Json choice) {
    return stream_chunk(id, "text_completion", created, model, include_usage, std::move(choice));
  };
  job->on_begin = [=](std::string& out) {
    for (size_t i = 0; i < echoes.size(); ++i) {
      (*offsets)[i] = echoes[i].size();
      if (!echoes[i].empty())
        out += sse_event(chunk({{"index", i}, {"text", echoes[i]}, {"logprobs", nullptr}, {"finish_reason", nullptr}}));
    }
  };
  job->on_deltas = [=](const std::vector<ChoiceDelta>& deltas, std::string& out) {
    for (const ChoiceDelta& d : deltas) {
      if (d.content.empty() && d.finish_reason.empty() && !(want_logprobs && !d.logprobs.empty())) continue;
      Json choice = {{"index", d.index},
                     {"text", d.content},
                     {"logprobs", want_logprobs ? completion_logprobs(d.logprobs, namer, &(*offsets)[d.index])
                                                : Json(nullptr)},
                     {"finish_reason", d.finish_reason.empty() ? Json(nullptr) : Json(d.finish_reason)}};
      if (!d.finish_reason.empty()) choice["stop_reason"] = d.stop_reason;
      out += sse_event(chunk(std::move(choice)));
    }
  };
  job->on_end = [=](std::string& out) { out += sse_stream_end(*g, include_usage, id, "text_completion", created, model); };
  stream_response(req, res, std::move(job), std::move(run), *response_cache_, "text/event-stream");
}

void Server::handle_generate(const httplib::Request& req, httplib::Response& res) {
  Json body;
  CompletionRequest cr;
  if (auto e = parse_body(req.body, &body)) return send_error(res, *e);
  if (auto e = parse_generate_request(body, parse_context_, &cr)) return send_error(res, *e);
  if (auto e = check_model(cr.gen.model)) return send_error(res, *e);
  auto ids = tokenizer_.tokenizer->encode(*cr.prompts[0].text, {.add_special_tokens = true, .parse_special = true});
  if (!ids.ok()) return send_error(res, bad_request("prompt", ids.status().message()));
  if (auto e = resolve_max_tokens(cr.gen, static_cast<int64_t>(ids->size()), parse_context_, "prompt"))
    return send_error(res, *e);
  GenerationOptions go;
  go.text = cr.gen.text;
  const std::string key =
      response_cache_->enabled()
          ? response_cache_key("generate", options_.served_model_name, go, {{&*ids, &cr.gen.params, 1}}, {})
          : std::string();
  RunningGeneration run;
  if (auto e = start_generation(go, key, "generate-", "prompt",
                                [&](Generation& g) { return g.add(std::move(*ids), cr.gen.params, 1); }, &run))
    return send_error(res, *e);
  if (!cr.gen.stream) {
    const auto acc = run_to_end(*run.gen, req);
    if (auto e = conclude(run, !acc, *response_cache_)) return send_error(res, *e);
    return send_json(res, Json{{"response", (*acc)[0].content}});
  }
  auto job = std::make_shared<StreamJob>();
  const Generation* g = run.gen.get();
  auto finish = std::make_shared<std::string>();
  job->on_deltas = [finish](const std::vector<ChoiceDelta>& deltas, std::string& out) {
    for (const ChoiceDelta& d : deltas) {
      if (!d.content.empty()) out += ndjson_line(Json{{"response", d.content}});
      if (!d.finish_reason.empty()) *finish = d.finish_reason;
    }
  };
  job->on_end = [g, finish](std::string& out) {
    Json last = {{"response", ""}, {"done", true}, {"finish_reason", *finish}};
    if (!g->error().ok()) last["error"] = g->error().message();
    out += ndjson_line(last);
  };
  stream_response(req, res, std::move(job), std::move(run), *response_cache_, "application/x-ndjson");
}

}  // namespace ember::server
