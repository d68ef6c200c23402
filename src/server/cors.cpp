#include "server/cors.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include "server/api_error.h"
#include "server/json_fields.h"

namespace ember::server {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

Result<CorsPolicy> CorsPolicy::parse(const std::string& spec) {
  CorsPolicy p;
  if (trim(spec).empty()) return p;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    const std::string o = trim(spec.substr(pos, comma - pos));
    pos = comma + 1;
    if (o.empty()) return invalid_argument("--allowed-origins: an empty origin in '" + spec + "'");
    if (o == "*") {
      p.any_ = true;
      continue;
    }
    if (std::any_of(o.begin(), o.end(), [](unsigned char c) { return c <= ' ' || c >= 0x7f || c == ','; }))
      return invalid_argument("--allowed-origins: '" + o + "' is not an origin");
    if (o.back() == '/' || o.find("://") == std::string::npos)
      return invalid_argument("--allowed-origins: '" + o + "' is not an origin (scheme://host[:port], no path)");
    p.origins_.push_back(o);
  }
  return p;
}

bool CorsPolicy::allows(const std::string& origin) const {
  if (origin.empty()) return false;
  return any_ || std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

void CorsPolicy::add_headers(const httplib::Request& req, httplib::Response& res) const {
  if (!enabled()) return;
  res.set_header("Vary", "Origin");
  const std::string origin = req.get_header_value("Origin");
  if (!allows(origin)) return;
  res.set_header("Access-Control-Allow-Origin", origin);
}

void CorsPolicy::answer_preflight(const httplib::Request& req, httplib::Response& res) const {
  add_headers(req, res);
  const std::string origin = req.get_header_value("Origin");
  if (origin.empty()) {  // not a preflight
    res.status = 204;
    res.set_header("Allow", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
    return;
  }
  if (!allows(origin)) {
    res.status = 403;
    res.set_content(dump_json(ApiError{403, "Disallowed CORS origin: " + origin, "BadRequestError", "", ""}.to_json()),
                    "application/json");
    return;
  }
  res.status = 204;
  res.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  // The headers asked for (e.g. an SDK's own x-... headers) as well.
  std::string headers = "Authorization, Content-Type";
  const std::string asked = req.get_header_value("Access-Control-Request-Headers");
  const bool token_list = std::all_of(asked.begin(), asked.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == ',' || c == ' ';
  });
  if (!asked.empty() && token_list && asked.size() <= 2048) headers += ", " + asked;
  res.set_header("Access-Control-Allow-Headers", headers);
  res.set_header("Access-Control-Max-Age", "600");
}

}  // namespace ember::server
