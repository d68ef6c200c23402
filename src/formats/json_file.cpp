#include "formats/json_file.h"

#include "base/mapped_file.h"

namespace ember::formats {

Result<nlohmann::ordered_json> parse_json(const std::string& text, const std::string& what) {
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return corrupt(what + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    // Not only parse_error: a number too large for a double (1e400) throws
    // out_of_range, which must become a Status like any other bad input.
    return corrupt(what + ": invalid JSON: " + e.what());
  }
}

Result<nlohmann::ordered_json> read_json_file(const std::string& path) {
  EMBER_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return parse_json(text, path);
}

}  // namespace ember::formats
