// Server-sent events as the OpenAI streaming API frames them: every event is
// one `data: <json>\n\n`, and the stream ends with `data: [DONE]\n\n`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "server/json_fields.h"

namespace ember::server {

inline std::string sse_event(const nlohmann::ordered_json& j) { return "data: " + dump_json(j) + "\n\n"; }
inline const char* sse_done() { return "data: [DONE]\n\n"; }
// One NDJSON line (/generate with "stream": true).
inline std::string ndjson_line(const nlohmann::ordered_json& j) { return dump_json(j) + "\n"; }

}  // namespace ember::server
