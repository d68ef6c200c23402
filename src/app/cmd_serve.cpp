// `ember serve`: the OpenAI-compatible HTTP server (src/server) on the
// serving engine. MODEL is a local Hugging Face directory or .gguf file, or
// a Hugging Face repo id: found in the Hugging Face cache or downloaded into
// it (src/hub).
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "app/chat_session.h"
#include "app/commands.h"
#include "app/model_flags.h"
#include "base/log.h"
#include "engine/model_defaults.h"
#include "engine/tokenizer_loader.h"
#include "hub/resolve.h"
#include "server/chat_store.h"
#include "server/loading_server.h"
#include "server/response_cache.h"
#include "server/server.h"

namespace ember::app {
namespace {

constexpr const char* kDefaultModel = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B";

// Where the web UI's chats live: $XDG_DATA_HOME/ember, else ~/.local/share/ember.
std::string default_data_dir() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/ember";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/ember";
}

Result<std::optional<sampling::GenerationDefaults>> defaults_from_flags(const CliArgs& args, const model::Model& m) {
  std::optional<sampling::GenerationDefaults> d = engine::generation_defaults(m);
  auto num = [&](const char* name, std::optional<float>* out) -> Status {
    if (!args.has(name)) return ok_status();
    EMBER_ASSIGN_OR_RETURN(double v, args.get_double(name));
    if (!d) d.emplace();
    *out = static_cast<float>(v);
    return ok_status();
  };
  sampling::GenerationDefaults tmp;
  EMBER_RETURN_IF_ERROR(num("default-temperature", &tmp.temperature));
  EMBER_RETURN_IF_ERROR(num("default-top-p", &tmp.top_p));
  EMBER_RETURN_IF_ERROR(num("default-min-p", &tmp.min_p));
  EMBER_RETURN_IF_ERROR(num("default-repetition-penalty", &tmp.repetition_penalty));
  if (args.has("default-top-k")) {
    EMBER_ASSIGN_OR_RETURN(int64_t k, args.get_int("default-top-k"));
    if (!d) d.emplace();
    tmp.top_k = static_cast<int32_t>(k);
  }
  if (d) {
    if (tmp.temperature) d->temperature = tmp.temperature;
    if (tmp.top_p) d->top_p = tmp.top_p;
    if (tmp.min_p) d->min_p = tmp.min_p;
    if (tmp.repetition_penalty) d->repetition_penalty = tmp.repetition_penalty;
    if (tmp.top_k) d->top_k = tmp.top_k;
    sampling::SamplingParams check;
    d->apply_to(check);
    if (Status s = check.validate(m.config().vocab); !s.ok()) return s.with_context("sampling defaults");
  }
  return d;
}

// SIGINT/SIGTERM, taken by sigwait on a thread of their own (blocked in
// every other thread, so the mask must be set before any starts). While the
// model loads a signal exits at once; once serve() named the server it shuts
// it down (stop accepting, abort in-flight requests, close idle
// connections) and the main thread, waiting for listen() to return, exits 0
// (at most kShutdownGrace after the shutdown, see wait_for_listener).
class SignalWaiter {
 public:
  SignalWaiter() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] {
      int sig = 0;
      sigwait(&set_, &sig);
      if (finished_.load()) return;
      if (server::Server* s = server_.load()) {
        LOG_INFO("shutting down (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
        s->shutdown();
        shut_down_at_.store(std::chrono::steady_clock::now().time_since_epoch().count());
      } else {
        LOG_INFO("interrupted while loading (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
        std::_Exit(0);
      }
    });
  }
  ~SignalWaiter() { finish(); }
  void serve(server::Server* s) { server_.store(s); }
  // When the signal's shutdown() returned; nullopt before.
  std::optional<std::chrono::steady_clock::time_point> shut_down_at() const {
    const auto t = shut_down_at_.load();
    if (t == 0) return std::nullopt;
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(t));
  }
  // Ends the waiting thread (waking it if no signal came).
  void finish() {
    if (!thread_.joinable()) return;
    finished_.store(true);
    ::kill(::getpid(), SIGTERM);  // blocked everywhere: only the waiting thread takes it
    thread_.join();
  }

 private:
  sigset_t set_;
  std::atomic<server::Server*> server_{nullptr};
  std::atomic<bool> finished_{false};
  std::atomic<std::chrono::steady_clock::rep> shut_down_at_{0};
  std::thread thread_;
};

// How long a shutdown waits for responses still being written (a slow
// client, a request body still arriving) before the process exits anyway.
constexpr std::chrono::seconds kShutdownGrace{2};

// Waits for the listener thread (which sets `done` as listen() returns). A
// signal's shutdown has closed idle connections and ended the streams, so
// listen() returns once the last responses are written; a connection still
// busy kShutdownGrace after it is cut: the process exits 0 here without
// waiting for it.
void wait_for_listener(std::thread& listener, const std::atomic<bool>& done, const SignalWaiter& signals,
                       server::Server& server) {
  while (!done.load()) {
    if (auto t = signals.shut_down_at(); t && std::chrono::steady_clock::now() - *t > kShutdownGrace) {
      LOG_WARN("shutdown: connections still open after %lld s (%zu busy: a slow client or an unfinished request); "
               "exiting without them", static_cast<long long>(kShutdownGrace.count()), server.busy_connections());
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  listener.join();
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  CliArgs args("serve", "Serves a model over an OpenAI-compatible HTTP API (what vLLM serves).");
  args.positional("MODEL", std::string("model directory, .gguf file, or Hugging Face repo id (ORG/NAME[:FILE.gguf]; "
                                       "downloaded unless cached; default ") + kDefaultModel + ")", /*required=*/false);
  args.option("host", "ADDR", "address to listen on", "127.0.0.1");
  args.option("port", "N", "port to listen on", "8000");
  args.option("served-model-name", "NAME", "the model name clients use (default: MODEL as given)");
  args.option("api-key", "KEY", "require 'Authorization: Bearer KEY' (default: $EMBER_API_KEY; none if unset)");
  args.option("chat-template", "FILE", "a Jinja chat template instead of the model's");
  args.option("reasoning-parser", "NAME",
              "split <think> reasoning from content: auto|deepseek_r1|none (auto: deepseek_r1 when the chat "
              "template's generation prompt opens <think>)", "auto");
  args.option("http-threads", "N", "HTTP worker threads: concurrent connections, each stream holds one", "512");
  args.option("allowed-origins", "LIST",
              "CORS: '*' or comma-separated origins (https://host[:port]) allowed to call the API from a browser "
              "(default: none, no CORS headers)");
  args.option("response-cache-size", "BYTES",
              "memory for the exact-repeat response cache of deterministic requests (temperature 0 or a seed), "
              "e.g. 64M; 0 disables it", "64M");
  args.option("log-format", "FORMAT", "text|json (json: one JSON object per line)", "text");
  args.option("data-dir", "DIR", "where the web UI's chats are kept (DIR/chats.db; default $XDG_DATA_HOME/ember or "
              "~/.local/share/ember)");
  args.flag("no-ui", "do not serve the web UI at / (the API and the chat store stay)");
  args.option("default-temperature", "T", "override generation_config.json's temperature default");
  args.option("default-top-p", "P", "override generation_config.json's top_p default");
  args.option("default-top-k", "K", "override generation_config.json's top_k default");
  args.option("default-min-p", "P", "override generation_config.json's min_p default");
  args.option("default-repetition-penalty", "X", "override generation_config.json's repetition_penalty default");
  add_model_flags(args);
  add_engine_flags(args);
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;

  SignalWaiter signals;  // before any other thread starts
  LogFormat log_format;
  if (!parse_log_format(args.get("log-format").c_str(), &log_format))
    return report_error("serve", "--log-format must be text or json");
  set_log_format(log_format);

  const std::string model_arg = args.positional_at(0, kDefaultModel);
  auto model_path = hub::resolve_model(model_arg, hub::HubOptions::from_env());
  if (!model_path.ok()) return report_error("serve", model_path.status().message().c_str());
  auto config = engine_config_from_flags(args, *model_path);
  if (!config.ok()) return report_error("serve", config.status().to_string().c_str());
  auto mt = engine::load_model_tokenizer(*model_path);
  if (!mt.ok()) return report_error("serve", mt.status().to_string().c_str());

  server::ServerOptions options;
  options.host = args.get("host");
  auto port = args.get_int("port");
  if (!port.ok()) return report_error("serve", port.status().message().c_str());
  options.port = static_cast<int>(*port);
  if (*port < 1 || *port > 65535) return report_error("serve", "--port must be between 1 and 65535");
  auto threads = args.get_int("http-threads");
  if (!threads.ok()) return report_error("serve", threads.status().message().c_str());
  options.http_threads = static_cast<int>(std::min<int64_t>(*threads, 100000));
  options.served_model_name = args.has("served-model-name") ? args.get("served-model-name") : model_arg;
  options.model_root = *model_path;
  options.api_key = args.get("api-key");
  if (!args.has("api-key"))
    if (const char* k = std::getenv("EMBER_API_KEY")) options.api_key = k;
  options.reasoning_parser = args.get("reasoning-parser");
  options.allowed_origins = args.get("allowed-origins");
  auto cache_size = server::parse_response_cache_size(args.get("response-cache-size"));
  if (!cache_size.ok()) return report_error("serve", cache_size.status().message().c_str());
  options.response_cache_bytes = *cache_size;
  options.data_dir = args.has("data-dir") ? args.get("data-dir") : default_data_dir();
  options.ui_enabled = !args.has("no-ui");
  auto source = chat_template_source(*mt, args.get("chat-template"), false);
  if (source.ok()) {
    options.chat_template = std::move(*source);
    // A model with named templates may have a "tool_use" one for requests with tools.
    if (auto tools = chat_template_source(*mt, args.get("chat-template"), true); tools.ok())
      options.tool_chat_template = std::move(*tools);
  }
  else if (args.has("chat-template")) return report_error("serve", source.status().to_string().c_str());
  else LOG_WARN("%s: no chat template; /v1/chat/completions will answer 400", model_path->c_str());
  if (Status s = options.validate(); !s.ok()) return report_error("serve", s.message().c_str());

  // A chat store that cannot open fails now, not after the weights load.
  if (auto store = server::ChatStore::open(options.data_dir); !store.ok())
    return report_error("serve", store.status().message().c_str());
  // /health answers 503 while the weights load.
  server::LoadingServer loading;
  if (Status s = loading.start(options.host, options.port); !s.ok()) return report_error("serve", s.message().c_str());
  LOG_INFO("loading %s", model_path->c_str());
  auto engine = engine::AsyncEngine::create(*config);
  if (!engine.ok()) return report_error("serve", engine.status().to_string().c_str());
  auto defaults = defaults_from_flags(args, (*engine)->model());
  if (!defaults.ok()) return report_error("serve", defaults.status().to_string().c_str());
  auto server = server::Server::create(options, **engine, std::move(*mt), std::move(*defaults));
  if (!server.ok()) return report_error("serve", server.status().to_string().c_str());
  loading.stop();
  LOG_INFO("chats are stored in %s", (*server)->chat_store()->path().c_str());
  if (Status s = (*server)->bind(); !s.ok()) return report_error("serve", s.message().c_str());

  Status listen_status;
  std::atomic<bool> listen_returned{false};
  std::thread listener([&] {
    listen_status = (*server)->listen();
    listen_returned.store(true);
  });
  signals.serve(server->get());  // a signal from now on shuts the server down
  LOG_INFO("warming up (max_model_len %lld, reasoning parser %s)", static_cast<long long>((*engine)->max_model_len()),
           (*server)->reasoning_enabled() ? "deepseek_r1" : "none");
  if (Status s = (*server)->warm_up(); !s.ok()) {
    LOG_ERROR("%s", s.to_string().c_str());
    (*server)->shutdown();
    listener.join();
    signals.finish();
    return 1;
  }
  LOG_INFO("serving %s as '%s' on http://%s:%d", model_path->c_str(), options.served_model_name.c_str(),
           options.host.c_str(), (*server)->port());
  wait_for_listener(listener, listen_returned, signals, **server);  // until a signal's shutdown (or a failure)
  signals.finish();
  server->reset();
  if (!listen_status.ok()) return report_error("serve", listen_status.message().c_str());
  return 0;
}

}  // namespace ember::app
