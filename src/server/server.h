// `ember serve`'s HTTP server: an OpenAI-compatible API (what vLLM serves)
// on cpp-httplib over the async engine. Routes:
//   POST /v1/chat/completions, /v1/completions   (routes_openai.cpp)
//   POST /generate                               (routes_openai.cpp)
//   GET  /v1/models, /health, /version, /metrics; POST /tokenize, /detokenize
//   /api/...  the web UI's chat store (routes_api.cpp, docs/chat-store-api.md)
//   GET  /, /assets/...  the embedded web UI (routes_ui.cpp; no API key needed)
// Bearer API key on everything but /health (and CORS preflights,
// --allowed-origins). One log line per request (request_log.h); repeated
// deterministic requests answered from the response cache (response_cache.h).
// Every handler runs on a thread of httplib's pool; a streamed response is
// written by a content provider that pulls the engine's deltas. A client
// that goes away (a failed write, or its socket seen closed while waiting,
// client_connection.h) has its request aborted.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "engine/async_engine.h"
#include "engine/tokenizer_loader.h"
#include "sampling/sampling_params.h"
#include "server/api_error.h"
#include "server/cors.h"
#include "server/metrics.h"
#include "server/openai_protocol.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ember::server {

class ResponseCache;
class Generation;
struct GenerationOptions;
struct RunningGeneration;
class ChatStore;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                        // 0: any free port (see Server::port())
  std::string served_model_name;          // what `model` must be; required
  std::string model_root;                 // /v1/models "root" (the path served)
  std::string api_key;                    // empty: no authentication
  std::string chat_template;              // Jinja source; empty: chat completions answer 400
  std::string tool_chat_template;         // for requests with tools (a model's "tool_use" template); empty: the above
  std::string reasoning_parser = "auto";  // auto (deepseek_r1 when the template opens <think>) | deepseek_r1 | none
  size_t max_body_bytes = 32u << 20;      // larger request bodies get 413
  int read_timeout_s = 30;                // reading a request
  int write_timeout_s = 60;               // one write to a slow client
  int keep_alive_timeout_s = 15;
  int http_threads = 512;                 // concurrent connections (each stream holds one)
  std::string data_dir;                   // the chat store's directory (chats.db); empty: /api/ is off
  bool ui_enabled = false;                // serve the embedded web UI at / (ember serve: unless --no-ui)
  std::string allowed_origins;            // CORS: "" none, "*", or a comma list of origins (cors.h)
  size_t response_cache_bytes = 0;        // exact-repeat response cache (response_cache.h); 0: off

  Status validate() const;
};

class Server {
 public:
  // `engine` must outlive the server.
  static Result<std::unique_ptr<Server>> create(ServerOptions options, engine::AsyncEngine& engine,
                                                engine::ModelTokenizer tokenizer,
                                                std::optional<sampling::GenerationDefaults> defaults);
  ~Server();

  // Binds host:port (port 0: a free one).
  Status bind();
  int port() const { return port_; }
  // One tiny generation through the whole path; /health answers 200 after.
  Status warm_up();
  // Serves until shutdown(); call after bind().
  Status listen();
  // Stops accepting, aborts in-flight requests (their streams end), closes
  // idle keep-alive connections, and makes listen() return once the
  // responses being written are done. Safe from any thread, more than once.
  void shutdown();
  // Connections between a request's start and its logged response.
  size_t busy_connections();

  bool ready() const { return ready_.load(); }
  bool reasoning_enabled() const { return reasoning_; }
  Metrics& metrics() { return *metrics_; }
  ResponseCache& response_cache() { return *response_cache_; }
  const ServerOptions& options() const { return options_; }
  ChatStore* chat_store() { return chat_store_.get(); }  // null without a data_dir

 private:
  Server(ServerOptions options, engine::AsyncEngine& engine, engine::ModelTokenizer tokenizer,
         std::optional<sampling::GenerationDefaults> defaults);
  void install_routes();
  void send_error(httplib::Response& res, const ApiError& e) const;
  void send_json(httplib::Response& res, const Json& body, int status = 200) const;
  std::optional<ApiError> check_model(const std::string& model) const;
  // Renders a chat request's messages with the chat template; ids as
  // apply_chat_template tokenizes them.
  std::optional<ApiError> render_chat(const ChatRequest& req, std::string* text) const;

  // routes_openai.cpp
  // A generation for one request: replayed from the response cache under
  // `key` (empty: not cached) or started on the engine by `add`, and
  // registered in flight; an engine refusal is a 400 naming `param`.
  std::optional<ApiError> start_generation(const GenerationOptions& go, const std::string& key, const char* id_prefix,
                                           const char* param, const std::function<Status(Generation&)>& add,
                                           RunningGeneration* out);
  void handle_chat(const httplib::Request& req, httplib::Response& res);
  void handle_completions(const httplib::Request& req, httplib::Response& res);
  void handle_generate(const httplib::Request& req, httplib::Response& res);
  // routes_misc.cpp
  std::optional<ApiError> parse_model_body(const std::string& text, Json* body) const;
  void handle_models(const httplib::Request& req, httplib::Response& res);
  void handle_tokenize(const httplib::Request& req, httplib::Response& res);
  void handle_detokenize(const httplib::Request& req, httplib::Response& res);
  void handle_metrics(const httplib::Request& req, httplib::Response& res);

  // In-flight engine requests, aborted on shutdown.
  void track(const std::vector<engine::RequestId>& ids);
  void untrack(const std::vector<engine::RequestId>& ids);
  friend class InFlight;

  ServerOptions options_;
  engine::AsyncEngine& engine_;
  engine::ModelTokenizer tokenizer_;
  std::optional<sampling::GenerationDefaults> defaults_;
  ParseContext parse_context_;
  std::unique_ptr<chat::ChatTemplate> template_;
  std::unique_ptr<chat::ChatTemplate> tool_template_;  // null: template_
  bool reasoning_ = false;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ChatStore> chat_store_;
  CorsPolicy cors_;
  std::unique_ptr<ResponseCache> response_cache_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  int64_t created_ = 0;  // unix time the server started
  std::atomic<bool> ready_{false};
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> listening_{false};  // inside listen()
  std::atomic<int> listen_fd_{-1};      // the listening socket, seen in httplib's socket-options hook
  std::mutex connections_mutex_;
  std::multiset<std::string> busy_connections_;  // connection_id()s with a request being served
  std::mutex inflight_mutex_;
  std::multiset<engine::RequestId> inflight_;
};

// Registers a generation's engine requests with the server while it runs.
class InFlight {
 public:
  InFlight(Server& server, std::vector<engine::RequestId> ids) : server_(server), ids_(std::move(ids)) {
    server_.track(ids_);
  }
  ~InFlight() { server_.untrack(ids_); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  Server& server_;
  std::vector<engine::RequestId> ids_;
};

}  // namespace ember::server
