#include "server/client_connection.h"

#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <httplib.h>

namespace ember::server {
namespace {

int port_of(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
  return -1;
}

// A connected TCP socket's identity as httplib reports it: local port,
// peer port, peer address (getnameinfo NI_NUMERICHOST). Empty if fd is not
// a connected socket.
std::string identity(int fd) {
  sockaddr_storage local{}, peer{};
  socklen_t local_len = sizeof local, peer_len = sizeof peer;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return "";  // not a socket
  if (port_of(local) < 0) return "";
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) return "";  // e.g. a listener
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&peer), peer_len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0)
    return "";
  return std::to_string(port_of(local)) + " " + std::to_string(port_of(peer)) + " " + host;
}

// Connections seen by the last scan of this process's descriptors. Many
// requests arriving together cost one scan, not one each; an entry is
// checked against its descriptor before use (descriptors are reused).
std::mutex g_mutex;
std::unordered_map<std::string, int> g_sockets;

int lookup_locked(const std::string& id) {
  auto it = g_sockets.find(id);
  if (it == g_sockets.end()) return -1;
  if (identity(it->second) == id) return it->second;
  g_sockets.erase(it);
  return -1;
}

void rescan_locked() {
  g_sockets.clear();
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return;
  const int own = ::dirfd(dir);
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int fd = std::atoi(e->d_name);
    if (fd == own) continue;
    if (std::string id = identity(fd); !id.empty()) g_sockets[id] = fd;
  }
  ::closedir(dir);
}

}  // namespace

std::string connection_id(const httplib::Request& req) {
  return std::to_string(req.local_port) + " " + std::to_string(req.remote_port) + " " + req.remote_addr;
}

int request_socket(const httplib::Request& req) {
  if (req.remote_port <= 0 || req.local_port <= 0) return -1;
  const std::string id = connection_id(req);
  std::lock_guard<std::mutex> lock(g_mutex);
  if (int fd = lookup_locked(id); fd >= 0) return fd;
  rescan_locked();
  return lookup_locked(id);
}

bool peer_closed(int fd) {
  if (fd < 0) return false;
  pollfd p{fd, static_cast<short>(POLLIN | POLLRDHUP), 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) return true;
  if (p.revents & POLLIN) {
    char c;
    return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;  // EOF (data is a pipelined request)
  }
  return false;
}

int end_idle_connections(int port, const std::function<bool(const std::string&)>& busy) {
  if (port <= 0) return 0;
  const std::string prefix = std::to_string(port) + " ";
  std::vector<int> idle;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return 0;
  const int own = ::dirfd(dir);
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int fd = std::atoi(e->d_name);
    if (fd == own) continue;
    const std::string id = identity(fd);
    if (id.compare(0, prefix.size(), prefix) == 0 && !busy(id)) idle.push_back(fd);
  }
  ::closedir(dir);
  // SHUT_RD: the poll for a next request sees EOF; nothing is sent until
  // httplib closes the socket.
  int ended = 0;
  for (int fd : idle) ended += ::shutdown(fd, SHUT_RD) == 0;
  return ended;
}

}  // namespace ember::server
