// Noticing a client that went away while its request waits for the engine.
// httplib (0.11, Debian's) does not hand a handler its socket, so it is
// found by the connection's addresses: the one socket of this process whose
// local port and peer address/port are the request's (one scan of the
// process's descriptors serves every connection open at the time). A
// handler runs on the thread that owns the connection, so the socket stays
// open while it runs.
#pragma once

#include <functional>
#include <string>

namespace httplib {
struct Request;
}

namespace ember::server {

// The socket the request came on; -1 if it cannot be found.
int request_socket(const httplib::Request& req);

// Whether the peer closed or reset the connection (an EOF or an error is
// waiting on it; a client that only shut down its sending side after the
// request counts as gone too). Does not block or consume data; false for
// fd < 0.
bool peer_closed(int fd);

// A request's connection as httplib names it: "local_port remote_port
// remote_addr" (unique among the process's open connections).
std::string connection_id(const httplib::Request& req);

// Ends the server's idle keep-alive connections at shutdown. After stop(),
// httplib 0.11 (Debian's) waits out each idle connection's keep-alive
// timeout before listen() returns (its issue #1959). This shuts down the
// reading side of every connected socket of this process on local port
// `port` for which busy(connection_id) is false: its thread, polling for a
// next request, reads EOF and closes it. A connection that is busy ends by
// itself after its response (httplib serves no more requests once stopped).
// Returns how many were ended.
int end_idle_connections(int port, const std::function<bool(const std::string&)>& busy);

}  // namespace ember::server
