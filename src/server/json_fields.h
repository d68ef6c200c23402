// Typed reads of optional fields of an untrusted JSON request body. A field
// that is absent or null leaves the target as it is; a field of the wrong
// type or out of range gives a 400 naming it. Never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/api_error.h"

namespace ember::server {

class JsonFields {
 public:
  explicit JsonFields(const nlohmann::ordered_json& body) : body_(body) {}

  bool has(const char* key) const;  // present and not null
  const nlohmann::ordered_json* find(const char* key) const;  // nullptr when absent or null

  std::optional<ApiError> get_bool(const char* key, bool* out) const;
  std::optional<ApiError> get_float(const char* key, float* out) const;
  std::optional<ApiError> get_float(const char* key, std::optional<float>* out) const;
  // Integers in [lo, hi] (a float with no fraction counts, as pydantic does).
  std::optional<ApiError> get_int(const char* key, int64_t lo, int64_t hi, int64_t* out) const;
  std::optional<ApiError> get_string(const char* key, std::string* out) const;
  // A string or a list of strings.
  std::optional<ApiError> get_strings(const char* key, std::vector<std::string>* out) const;
  std::optional<ApiError> get_int_list(const char* key, int64_t lo, int64_t hi, std::vector<int32_t>* out) const;

 private:
  const nlohmann::ordered_json& body_;
};

// json::dump that never throws on invalid UTF-8 (replaces it).
std::string dump_json(const nlohmann::ordered_json& j);

}  // namespace ember::server
