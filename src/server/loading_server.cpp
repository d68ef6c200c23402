#include "server/loading_server.h"

#include <httplib.h>

#include <chrono>

#include "server/api_error.h"
#include "server/json_fields.h"
#include "server/socket_options.h"

namespace ember::server {

LoadingServer::LoadingServer() : http_(std::make_unique<httplib::Server>()) {
  http_->new_task_queue = [] { return new httplib::ThreadPool(4); };
  http_->set_keep_alive_max_count(1);  // no connection outlives the loading phase
  http_->set_read_timeout(5, 0);
  http_->set_socket_options([](int sock) { set_listen_socket_options(sock); });
  auto answer = [](const httplib::Request& req, httplib::Response& res) {
    res.status = 503;
    if (req.path == "/health") {
      res.set_content("loading", "text/plain");
      return;
    }
    res.set_content(dump_json(ApiError{503, "The model is still loading.", "ServiceUnavailableError", "", ""}.to_json()),
                    "application/json");
  };
  http_->Get(".*", answer);
  http_->Post(".*", answer);
}

LoadingServer::~LoadingServer() { stop(); }

Status LoadingServer::start(const std::string& host, int port) {
  if (!http_->bind_to_port(host, port))
    return io_error("cannot listen on " + host + ":" + std::to_string(port) +
                    " (in use, or not an address of this machine)");
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  return ok_status();
}

void LoadingServer::stop() {
  if (!thread_.joinable()) return;
  // stop() acts only once listen_after_bind is running.
  for (int i = 0; i < 5000 && !http_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
  thread_.join();
}

}  // namespace ember::server
