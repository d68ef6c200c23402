// Turning values into text the way Python does: str() for {{ }} output and
// ~, repr() inside containers, float repr (shortest round trip), and
// json.dumps as transformers' tojson filter calls it.
#pragma once

#include <optional>
#include <string>

#include "chat/value.h"

namespace ember::chat {

// Nesting deeper than this in repr/json/equality is an error (also stops cycles).
inline constexpr int kMaxValueDepth = 256;
// repr() / json_dumps() results longer than this are an error: a list holding
// one big string many times must not be expanded without bound.
inline constexpr size_t kMaxFormattedBytes = 64u << 20;

std::string format_float(double f);
std::string html_escape(const std::string& s);  // markupsafe.escape: & < > " '            // Python repr(float)
std::string python_str(const Value& v);        // str(v); undefined -> ""
std::string python_repr(const Value& v, int depth = 0);
void append_string_repr(std::string& out, const std::string& s);  // repr(str)
// Python type(v).__name__: "str", "int", "NoneType", "list", ...
std::string type_name(const Value& v);
// jinja2's object_type_repr, for undefined hints: "dict object", "None", ...
std::string object_description(const Value& v);

struct JsonStyle {
  std::optional<std::string> indent;  // json.dumps(indent=...) as a string
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool ensure_ascii = false;
  bool sort_keys = false;
};
// json.dumps(v, ...); throws a TemplateError for values JSON cannot hold.
std::string json_dumps(const Value& v, const JsonStyle& style);

}  // namespace ember::chat
