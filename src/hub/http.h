// A small HTTP client on libcurl for the Hub: HTTPS, redirects, Range
// resumes, the proxies libcurl reads from the environment (https_proxy,
// no_proxy, ...), connect and stall timeouts.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>

namespace ember::hub {

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  bool follow_redirects = true;
  std::string bearer_token;  // sent as Authorization only to URLs on the same origin as auth_origin
  std::string auth_origin;   // "scheme://host[:port]"
  // GET into a file: the body of a 200/206 answer is written to SINK from
  // RESUME_FROM on (with "Range: bytes=RESUME_FROM-"); a 200 to a range
  // request restarts the file. Without a sink the body lands in
  // HttpResponse::body (at most max_body bytes).
  FILE* sink = nullptr;
  uint64_t resume_from = 0;
  size_t max_body = 64u << 20;
  // Called as body bytes arrive with the sink's size so far.
  std::function<void(uint64_t)> on_progress;
  long connect_timeout_s = 15;
  long stall_timeout_s = 60;  // abort when no byte arrives for this long
};

struct HttpResponse {
  // Transport: 0 when an HTTP answer came (whatever its status); otherwise
  // libcurl's code and message (cannot resolve, refused, reset mid-body ...).
  int curl_code = 0;
  std::string error;
  bool transport_ok() const { return curl_code == 0; }

  long status = 0;
  std::map<std::string, std::string> headers;  // the last answer's, names lowercased
  std::string body;                            // without a sink, or an error status's body
  uint64_t file_size = 0;                      // the sink's size at the end
  bool restarted = false;                      // a range request answered 200: written from 0

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

HttpResponse http_request(const HttpRequest& request);

// "https://host:port" of a URL (lowercased scheme and host), "" if none.
std::string url_origin(const std::string& url);
// Percent-encodes everything but unreserved characters (and '/' when
// keep_slash), for repo file names and revisions in URLs.
std::string url_encode(const std::string& s, bool keep_slash);

}  // namespace ember::hub
