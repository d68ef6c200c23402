#include "server/json_fields.h"

#include <cmath>

namespace ember::server {
namespace {

ApiError type_error(const char* key, const char* what) {
  return bad_request(key, std::string(key) + ": must be " + what);
}

}  // namespace

const nlohmann::ordered_json* JsonFields::find(const char* key) const {
  auto it = body_.find(key);
  if (it == body_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool JsonFields::has(const char* key) const { return find(key) != nullptr; }

std::optional<ApiError> JsonFields::get_bool(const char* key, bool* out) const {
  const nlohmann::ordered_json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) return type_error(key, "a boolean");
  *out = v->get<bool>();
  return std::nullopt;
}

std::optional<ApiError> JsonFields::get_float(const char* key, float* out) const {
  std::optional<float> v;
  if (auto e = get_float(key, &v)) return e;
  if (v) *out = *v;
  return std::nullopt;
}

std::optional<ApiError> JsonFields::get_float(const char* key, std::optional<float>* out) const {
  const nlohmann::ordered_json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) return type_error(key, "a number");
  const double d = v->get<double>();
  if (!std::isfinite(d) || std::fabs(d) > 3.0e38) return type_error(key, "a finite number");
  *out = static_cast<float>(d);
  return std::nullopt;
}

std::optional<ApiError> JsonFields::get_int(const char* key, int64_t lo, int64_t hi, int64_t* out) const {
  const nlohmann::ordered_json* v = find(key);
  if (!v) return std::nullopt;
  int64_t x = 0;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return type_error(key, "an integer in range");
    x = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    x = v->get<int64_t>();
  } else if (v->is_number_float()) {
    const double d = v->get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) return type_error(key, "an integer");
    x = static_cast<int64_t>(d);
  } else {
    return type_error(key, "an integer");
  }
  if (x < lo || x > hi)
    return bad_request(key, std::string(key) + ": must be between " + std::to_string(lo) + " and " +
                                std::to_string(hi) + ", got " + std::to_string(x));
  *out = x;
  return std::nullopt;
}

std::optional<ApiError> JsonFields::get_string(const char* key, std::string* out) const {
  const nlohmann::ordered_json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) return type_error(key, "a string");
  *out = v->get<std::string>();
  return std::nullopt;
}

std::optional<ApiError> JsonFields::get_strings(const char* key, std::vector<std::string>* out) const {
  const nlohmann::ordered_json* v = find(key);
  if (!v) return std::nullopt;
  out->clear();
  if (v->is_string()) {
    out->push_back(v->get<std::string>());
    return std::nullopt;
  }
  if (!v->is_array()) return type_error(key, "a string or a list of strings");
  for (const auto& e : *v) {
    if (!e.is_string()) return type_error(key, "a string or a list of strings");
    out->push_back(e.get<std::string>());
  }
  return std::nullopt;
}

std::optional<ApiError> JsonFields::get_int_list(const char* key, int64_t lo, int64_t hi,
                                                 std::vector<int32_t>* out) const {
  const nlohmann::ordered_json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_array()) return type_error(key, "a list of integers");
  out->clear();
  for (const auto& e : *v) {
    if (!e.is_number_integer()) return type_error(key, "a list of integers");
    const int64_t x = e.is_number_unsigned() && e.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                          ? INT64_MAX
                          : e.get<int64_t>();
    if (x < lo || x > hi)
      return bad_request(key, std::string(key) + ": " + std::to_string(x) + " is out of range [" +
                                  std::to_string(lo) + ", " + std::to_string(hi) + "]");
    out->push_back(static_cast<int32_t>(x));
  }
  return std::nullopt;
}

std::string dump_json(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace ember::server
