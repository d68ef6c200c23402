#include "server/server.h"

#include <httplib.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "base/log.h"
#include "engine/model_defaults.h"
#include "server/chat_store.h"
#include "server/client_connection.h"
#include "server/generation.h"
#include "server/json_fields.h"
#include "server/request_log.h"
#include "server/response_cache.h"
#include "server/socket_options.h"
#include "server/web_routes.h"

namespace ember::server {
namespace {

// 33554432 -> "32 MiB"; a size that is not whole MiB in bytes.
std::string byte_size(size_t n) {
  if (n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
  return std::to_string(n) + " bytes";
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || b.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

Status ServerOptions::validate() const {
  if (served_model_name.empty()) return invalid_argument("served model name: is empty");
  if (port < 0 || port > 65535) return invalid_argument("--port must be between 0 and 65535");
  if (reasoning_parser != "auto" && reasoning_parser != "deepseek_r1" && reasoning_parser != "none")
    return invalid_argument("--reasoning-parser must be auto, deepseek_r1 or none");
  if (http_threads < 4 || http_threads > 8192) return invalid_argument("http threads must be in [4, 8192]");
  if (max_body_bytes < 1024) return invalid_argument("body limit must be at least 1 KiB");
  if (auto cors = CorsPolicy::parse(allowed_origins); !cors.ok()) return cors.status();
  return ok_status();
}

Server::Server(ServerOptions options, engine::AsyncEngine& engine, engine::ModelTokenizer tokenizer,
               std::optional<sampling::GenerationDefaults> defaults)
    : options_(std::move(options)), engine_(engine), tokenizer_(std::move(tokenizer)), defaults_(std::move(defaults)) {}

Server::~Server() { shutdown(); }

Result<std::unique_ptr<Server>> Server::create(ServerOptions options, engine::AsyncEngine& engine,
                                               engine::ModelTokenizer tokenizer,
                                               std::optional<sampling::GenerationDefaults> defaults) {
  EMBER_RETURN_IF_ERROR(options.validate());
  if (!tokenizer.tokenizer) return invalid_argument("the server needs the model's tokenizer");
  std::unique_ptr<Server> s(new Server(std::move(options), engine, std::move(tokenizer), std::move(defaults)));
  s->parse_context_.vocab = engine.model().config().vocab;
  s->parse_context_.max_model_len = engine.max_model_len();
  s->parse_context_.defaults = s->defaults_;
  if (!s->options_.chat_template.empty()) {
    auto t = chat::ChatTemplate::create(s->options_.chat_template);
    if (!t.ok()) return t.status().with_context("chat template");
    s->template_ = std::make_unique<chat::ChatTemplate>(std::move(*t));
    if (!s->options_.tool_chat_template.empty() && s->options_.tool_chat_template != s->options_.chat_template) {
      auto tt = chat::ChatTemplate::create(s->options_.tool_chat_template);
      if (!tt.ok()) return tt.status().with_context("tool_use chat template");
      s->tool_template_ = std::make_unique<chat::ChatTemplate>(std::move(*tt));
    }
    // Does the generation prompt open the reasoning (DeepSeek-R1: "<think>\n")?
    ChatRequest probe;
    probe.messages = Json::array({{{"role", "user"}, {"content", "x"}}});
    std::string text;
    const bool opens = !s->render_chat(probe, &text) && chat::prompt_opens_reasoning(text);
    s->reasoning_ = s->options_.reasoning_parser == "deepseek_r1" || (s->options_.reasoning_parser == "auto" && opens);
  } else if (s->options_.reasoning_parser == "deepseek_r1") {
    s->reasoning_ = true;
  }
  if (!s->options_.data_dir.empty()) {
    auto store = ChatStore::open(s->options_.data_dir);
    if (!store.ok()) return store.status();
    s->chat_store_ = std::move(*store);
  }
  s->metrics_ = std::make_unique<Metrics>(s->options_.served_model_name, engine.max_model_len());
  s->cors_ = *CorsPolicy::parse(s->options_.allowed_origins);  // validated above
  s->response_cache_ = std::make_unique<ResponseCache>(s->options_.response_cache_bytes);
  s->created_ = static_cast<int64_t>(std::time(nullptr));
  s->http_ = std::make_unique<httplib::Server>();
  s->install_routes();
  return s;
}

void Server::send_json(httplib::Response& res, const Json& body, int status) const {
  res.status = status;
  res.set_content(dump_json(body), "application/json");
}

void Server::send_error(httplib::Response& res, const ApiError& e) const { send_json(res, e.to_json(), e.status); }

std::optional<ApiError> Server::check_model(const std::string& model) const {
  if (model.empty() || model == options_.served_model_name) return std::nullopt;
  return ApiError{404, "The model `" + model + "` does not exist.", "NotFoundError", "model", ""};
}

std::optional<ApiError> Server::render_chat(const ChatRequest& req, std::string* text) const {
  if (!template_)
    return bad_request("messages", "This model has no chat template; start the server with --chat-template FILE.");
  chat::ChatRenderInput in;
  in.messages = req.messages;
  in.tools = req.tools;
  in.add_generation_prompt = req.add_generation_prompt;
  in.continue_final_message = req.continue_final_message;
  if (!tokenizer_.bos_token.empty()) in.bos_token = tokenizer_.bos_token;
  if (!tokenizer_.eos_token.empty()) in.eos_token = tokenizer_.eos_token;
  if (!tokenizer_.pad_token.empty()) in.pad_token = tokenizer_.pad_token;
  in.extra = req.chat_template_kwargs;
  const bool tools = req.tools && !req.tools->empty();
  auto r = (tools && tool_template_ ? *tool_template_ : *template_).render(in);
  if (!r.ok()) return bad_request("messages", "chat template: " + r.status().message());
  *text = std::move(*r);
  return std::nullopt;
}

void Server::track(const std::vector<engine::RequestId>& ids) {
  std::lock_guard<std::mutex> lock(inflight_mutex_);
  for (auto id : ids) inflight_.insert(id);
  if (shutting_down_.load())
    for (auto id : ids) engine_.abort(id);
}

void Server::untrack(const std::vector<engine::RequestId>& ids) {
  std::lock_guard<std::mutex> lock(inflight_mutex_);
  for (auto id : ids)
    if (auto it = inflight_.find(id); it != inflight_.end()) inflight_.erase(it);
}

void Server::install_routes() {
  httplib::Server& h = *http_;
  h.new_task_queue = [n = options_.http_threads] { return new httplib::ThreadPool(static_cast<size_t>(n)); };
  h.set_payload_max_length(options_.max_body_bytes);
  h.set_read_timeout(options_.read_timeout_s, 0);
  h.set_write_timeout(options_.write_timeout_s, 0);
  h.set_keep_alive_timeout(options_.keep_alive_timeout_s);
  h.set_keep_alive_max_count(1000);
  h.set_tcp_nodelay(true);
  h.set_socket_options([this](int sock) {
    set_listen_socket_options(sock);
    listen_fd_.store(sock);
  });

  h.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    begin_request_log();
    {
      std::lock_guard<std::mutex> lock(connections_mutex_);
      busy_connections_.insert(connection_id(req));
    }
    if (cors_.enabled()) {
      if (req.method == "OPTIONS") {
        cors_.answer_preflight(req, res);
        return httplib::Server::HandlerResponse::Handled;
      }
      cors_.add_headers(req, res);
    }
    if (options_.api_key.empty() || req.path == "/health" ||
        (options_.ui_enabled && (req.method == "GET" || req.method == "HEAD") && is_ui_path(req.path)))
      return httplib::Server::HandlerResponse::Unhandled;
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (auth.compare(0, prefix.size(), prefix) == 0 && constant_time_equal(auth.substr(prefix.size()), options_.api_key))
      return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, ApiError{401, "Incorrect API key provided.", "invalid_request_error", "", "invalid_api_key"});
    return httplib::Server::HandlerResponse::Handled;
  });
  h.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    metrics_->record_http(req.method, http_route_label(req.path, options_.ui_enabled), res.status);
    write_request_log(req.method, req.path, res.status);
    // After the response is written (a request httplib refused before
    // pre-routing was never counted busy).
    std::lock_guard<std::mutex> lock(connections_mutex_);
    if (auto it = busy_connections_.find(connection_id(req)); it != busy_connections_.end()) busy_connections_.erase(it);
  });
  h.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    LOG_ERROR("request failed: %s", what.c_str());
    send_error(res, ApiError{500, what, "InternalServerError", "", ""});
  });
  // Errors httplib made itself (no route, a body over the limit, a request
  // it could not read): JSON in the OpenAI shape, the chat store's types
  // under /api/.
  h.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.status < 400) return;
    std::string message = "HTTP error " + std::to_string(res.status);
    if (res.status == 404) message = "Not Found";
    if (res.status == 413) message = "The request body is larger than the server's limit of " +
                                     byte_size(options_.max_body_bytes) + ".";
    if (is_api_path(req.path)) {
      res.set_content(api_error_body(res.status, message), "application/json");
      return;
    }
    const char* type = res.status == 404 ? "NotFoundError" : res.status >= 500 ? "InternalServerError" : "BadRequestError";
    send_error(res, ApiError{res.status, message, type, "", ""});
  });

  auto guarded = [this](void (Server::*fn)(const httplib::Request&, httplib::Response&)) {
    return [this, fn](const httplib::Request& req, httplib::Response& res) {
      if (shutting_down_.load()) {
        send_error(res, ApiError{503, "The server is shutting down.", "ServiceUnavailableError", "", ""});
        return;
      }
      (this->*fn)(req, res);
    };
  };
  h.Post("/v1/chat/completions", guarded(&Server::handle_chat));
  h.Post("/v1/completions", guarded(&Server::handle_completions));
  h.Post("/generate", guarded(&Server::handle_generate));
  h.Post("/tokenize", guarded(&Server::handle_tokenize));
  h.Post("/detokenize", guarded(&Server::handle_detokenize));
  h.Get("/v1/models", guarded(&Server::handle_models));
  h.Get("/metrics", guarded(&Server::handle_metrics));
  h.Get("/version", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, Json{{"version", "0.1.0"}});
  });
  h.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (ready_.load() && !shutting_down_.load()) {
      res.status = 200;
    } else {
      res.status = 503;
      res.set_content(shutting_down_.load() ? "shutting down" : "loading", "text/plain");
    }
  });
  install_api_routes(h, chat_store_.get());
  if (options_.ui_enabled) install_ui_routes(h);  // last: it takes any other GET path
}

Status Server::bind() {
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
    if (port_ <= 0) return io_error("cannot bind to " + options_.host);
  } else {
    if (!http_->bind_to_port(options_.host, options_.port))
      return io_error("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                      " (in use, or not an address of this machine)");
    port_ = options_.port;
  }
  raise_listen_backlog(listen_fd_.load());
  return ok_status();
}

Status Server::listen() {
  if (port_ <= 0) return internal_error("Server::listen before bind");
  listening_.store(true);
  const bool ok = shutting_down_.load() || http_->listen_after_bind();
  listening_.store(false);
  if (!ok && !shutting_down_.load()) return io_error("the HTTP server stopped unexpectedly");
  return ok_status();
}

Status Server::warm_up() {
  auto ids = tokenizer_.tokenizer->encode("Hello", {.add_special_tokens = false, .parse_special = false});
  std::vector<int32_t> prompt = ids.ok() && !ids->empty() ? *ids : std::vector<int32_t>{0};
  sampling::SamplingParams p;
  p.temperature = 0;
  p.max_tokens = 1;
  {
    Generation g(engine_, tokenizer_.tokenizer, GenerationOptions{}, nullptr);
    EMBER_RETURN_IF_ERROR(g.add(std::move(prompt), p, 1));
    while (!g.done()) g.poll(std::chrono::milliseconds(100));
    if (!g.error().ok()) return g.error().with_context("warm-up");
  }
  ready_.store(true);
  return ok_status();
}

void Server::shutdown() {
  if (shutting_down_.exchange(true)) return;
  ready_.store(false);
  {
    std::lock_guard<std::mutex> lock(inflight_mutex_);
    for (auto id : inflight_) engine_.abort(id);
  }
  // Let aborted streams write their last chunks before the sockets close.
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(inflight_mutex_);
      if (inflight_.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // stop() only acts on a running server: a listen() that is just starting
  // is waited for, so that it cannot start after the stop and block.
  for (int i = 0; i < 5000 && listening_.load() && !http_->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
  // Now that no request can start, idle keep-alive connections are closed
  // rather than waited out; busy ones end after their responses.
  std::lock_guard<std::mutex> lock(connections_mutex_);
  const int ended = end_idle_connections(port_, [this](const std::string& id) { return busy_connections_.count(id) > 0; });
  if (ended > 0) LOG_DEBUG("shutdown: closed %d idle connection(s)", ended);
}

size_t Server::busy_connections() {
  std::lock_guard<std::mutex> lock(connections_mutex_);
  return busy_connections_.size();
}

}  // namespace ember::server
