// A second server with options of its own (CORS, response cache, many HTTP
// threads) on the fixture's engine, and a raw-socket HTTP client for what
// httplib's client cannot do (hang up mid-request, read until the server
// closes the connection).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "chat/chat_template.h"
#include "engine/model_defaults.h"
#include "server_fixture.h"

namespace ember::server::testing {

class ExtraServer {
 public:
  // `o` gets the fixture's model name, template and key, and port 0.
  explicit ExtraServer(ServerOptions o) {
    o.host = "127.0.0.1";
    o.port = 0;
    o.served_model_name = kModelName;
    o.api_key = kApiKey;
    auto source = chat::load_chat_template(kModelDir, false);
    if (source.ok()) o.chat_template = *source;
    auto s = Server::create(o, ServerTest::engine(), ServerTest::tokenizer_,
                            engine::generation_defaults(ServerTest::engine().model()));
    if (!s.ok()) {
      error_ = s.status().to_string();
      return;
    }
    server_ = std::move(*s);
    if (Status b = server_->bind(); !b.ok()) {
      error_ = b.to_string();
      server_.reset();
      return;
    }
    listener_ = std::thread([this] { (void)server_->listen(); });
    if (Status w = server_->warm_up(); !w.ok()) error_ = w.to_string();
  }
  ~ExtraServer() {
    if (!server_) return;
    server_->shutdown();
    listener_.join();
  }
  bool ok() const { return server_ && error_.empty(); }
  const std::string& error() const { return error_; }
  Server& server() { return *server_; }
  int port() const { return server_->port(); }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port());
    c.set_read_timeout(120, 0);
    return c;
  }
  Reply post(const std::string& path, const Json& body, httplib::Headers headers = {}) const {
    headers.emplace("Authorization", "Bearer " + kApiKey);
    return to_reply(client().Post(path.c_str(), headers, body.dump(), "application/json"));
  }
  std::string metrics() const {
    auto r = client().Get("/metrics", {{"Authorization", "Bearer " + kApiKey}});
    return r ? r->body : "";
  }

 private:
  std::unique_ptr<Server> server_;
  std::thread listener_;
  std::string error_;
};

// A TCP connection to 127.0.0.1:port; -1 on failure.
inline int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// An HTTP/1.1 POST with a JSON body and the fixture's key.
inline std::string http_post_text(const std::string& path, const std::string& body, bool close) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + kApiKey +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         (close ? "Connection: close\r\n" : "") + "\r\n" + body;
}

inline bool send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Sends `request` and reads until the server closes the connection (so
// everything the server does for the request, its log line included, is done).
inline std::string exchange_until_close(int port, const std::string& request) {
  const int fd = connect_to(port);
  if (fd < 0) return "";
  std::string out;
  if (send_all(fd, request)) {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

// Polls `done` every 10 ms for up to `limit`; whether it became true.
template <typename F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

}  // namespace ember::server::testing
