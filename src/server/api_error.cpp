#include "server/api_error.h"

#include <cctype>

namespace ember::server {

nlohmann::ordered_json ApiError::to_json() const {
  nlohmann::ordered_json e = {{"message", message}, {"type", type}};
  e["param"] = param.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(param);
  e["code"] = code.empty() ? nlohmann::ordered_json(status) : nlohmann::ordered_json(code);
  return {{"error", e}};
}

ApiError bad_request_from(const Status& s, const std::string& default_param) {
  const std::string& m = s.message();
  // SamplingParams::validate and friends write "field: why".
  const size_t colon = m.find(": ");
  std::string param = default_param;
  if (colon != std::string::npos && colon > 0 && colon < 40) {
    bool ident = true;
    for (size_t i = 0; i < colon; ++i)
      if (!(std::isalnum(static_cast<unsigned char>(m[i])) || m[i] == '_' || m[i] == '.')) ident = false;
    if (ident) param = m.substr(0, colon);
  }
  return bad_request(param, m);
}

}  // namespace ember::server
