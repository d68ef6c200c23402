// Listening-socket options for ember's HTTP servers: SO_REUSEADDR only.
// httplib's default also sets SO_REUSEPORT, which lets a second server bind
// the same port and silently share its connections; with this, a port in
// use is an error.
#pragma once

#include <sys/socket.h>

namespace ember::server {

inline void set_listen_socket_options(int sock) {
  int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

// httplib listens with a backlog of 5, so a burst of new connections (many
// clients starting streams at once) has SYNs dropped and retried a second
// later. Listening again on the bound socket raises the backlog (Linux).
inline void raise_listen_backlog(int sock) {
  if (sock >= 0) ::listen(sock, 4096);
}

}  // namespace ember::server
