// Noticing a client that went away while its request waits for the engine.
// httplib (0.11, Debian's) does not hand a handler its socket, so it is
// found by the connection's addresses: the one socket of this process whose
// local port and peer address/port are the request's (one scan of the
// process's descriptors serves every connection open at the time). A
// handler runs on the thread that owns the connection, so the socket stays
// open while it runs.
#pragma once

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

}  // namespace ember::server
