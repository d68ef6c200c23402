// CORS for `--allowed-origins`: none by default (no CORS headers at all);
// "*" allows every origin, else a comma-separated list of exact origins
// ("https://app.example.com,http://localhost:3000"). For an allowed Origin a
// response carries Access-Control-Allow-Origin (the origin echoed) and
// Vary: Origin; an OPTIONS preflight is answered 204 with the allowed
// methods and headers (Authorization, Content-Type), without an API key.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace ember::server {

class CorsPolicy {
 public:
  // "" (none), "*", or "ORIGIN[,ORIGIN...]" (spaces around commas ignored).
  static Result<CorsPolicy> parse(const std::string& spec);

  bool enabled() const { return any_ || !origins_.empty(); }
  bool allows(const std::string& origin) const;
  // Adds the response headers when the request's Origin is allowed.
  void add_headers(const httplib::Request& req, httplib::Response& res) const;
  // An OPTIONS request while CORS is on: 204 with the preflight headers for
  // an allowed origin, 403 for another.
  void answer_preflight(const httplib::Request& req, httplib::Response& res) const;

 private:
  bool any_ = false;
  std::vector<std::string> origins_;
};

}  // namespace ember::server
