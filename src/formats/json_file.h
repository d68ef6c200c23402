// Reads a JSON file (config.json, tokenizer_config.json, ...) keeping key
// order; errors name the file and the parse position.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace ember::formats {

Result<nlohmann::ordered_json> read_json_file(const std::string& path);
Result<nlohmann::ordered_json> parse_json(const std::string& text, const std::string& what);

}  // namespace ember::formats
