// What answers on the port while the model loads: /health 503 ("loading"),
// everything else 503 in the OpenAI error format. `ember serve` binds it
// first (so a port in use fails before a long load) and stops it right
// before the real Server binds the same port.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "base/status.h"

namespace httplib {
class Server;
}

namespace ember::server {

class LoadingServer {
 public:
  LoadingServer();
  ~LoadingServer();  // stop()
  LoadingServer(const LoadingServer&) = delete;
  LoadingServer& operator=(const LoadingServer&) = delete;

  // Binds host:port and serves on a thread of its own.
  Status start(const std::string& host, int port);
  // Stops serving and releases the port. Safe more than once.
  void stop();

 private:
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
};

}  // namespace ember::server
