#include "chat/value_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/template_error.h"
#include "chat/text_ops.h"

namespace ember::chat {
namespace {

void check_depth(int depth) {
  if (depth > kMaxValueDepth) throw_limit("value nested more than " + std::to_string(kMaxValueDepth) + " deep");
}

void check_size(const std::string& out) {
  if (out.size() > kMaxFormattedBytes) {
    throw_limit("value formats to more than " + std::to_string(kMaxFormattedBytes >> 20) + " MiB");
  }
}

void append_hex(std::string& out, uint32_t v, int digits) {
  static const char* kHex = "0123456789abcdef";
  for (int k = digits - 1; k >= 0; --k) out.push_back(kHex[(v >> (4 * k)) & 0xF]);
}

void append_json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20) {
            out += "\\u";
            append_hex(out, c, 4);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      continue;
    }
    size_t start = i;
    uint32_t cp = text::decode(s, i);
    if (!ensure_ascii) {
      out.append(s, start, i - start);
    } else if (cp < 0x10000) {
      out += "\\u";
      append_hex(out, cp, 4);
    } else {
      uint32_t v = cp - 0x10000;
      out += "\\u";
      append_hex(out, 0xD800 + (v >> 10), 4);
      out += "\\u";
      append_hex(out, 0xDC00 + (v & 0x3FF), 4);
    }
  }
  out.push_back('"');
}

std::string json_float(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "Infinity" : "-Infinity";
  return format_float(f);
}

struct JsonWriter {
  const JsonStyle& style;
  std::string out;

  void newline(int level) {
    out.push_back('\n');
    for (int k = 0; k < level; ++k) out += *style.indent;
    check_size(out);
  }

  std::string key_string(const Value& k) {
    switch (k.kind()) {
      case ValueKind::kString: return k.as_string();
      case ValueKind::kBool: return k.as_bool() ? "true" : "false";
      case ValueKind::kNone: return "null";
      case ValueKind::kInt: return std::to_string(k.as_int());
      case ValueKind::kFloat: return json_float(k.as_float());
      default:
        throw_error("keys must be str, int, float, bool or None, not " + type_name(k));
    }
  }

  void dump(const Value& v, int level) {
    check_depth(level);
    switch (v.kind()) {
      case ValueKind::kNone: out += "null"; return;
      case ValueKind::kBool: out += v.as_bool() ? "true" : "false"; return;
      case ValueKind::kInt: out += std::to_string(v.as_int()); return;
      case ValueKind::kFloat: out += json_float(v.as_float()); return;
      case ValueKind::kString:
        append_json_string(out, v.as_string(), style.ensure_ascii);
        check_size(out);
        return;
      case ValueKind::kList: {
        const auto& items = v.as_list()->items;
        if (items.empty()) {
          out += "[]";
          return;
        }
        out.push_back('[');
        for (size_t k = 0; k < items.size(); ++k) {
          if (k > 0) out += style.item_separator;
          if (style.indent) newline(level + 1);
          dump(items[k], level + 1);
        }
        if (style.indent) newline(level);
        out.push_back(']');
        return;
      }
      case ValueKind::kDict: {
        const auto& entries = v.as_dict()->entries();
        if (entries.empty()) {
          out += "{}";
          return;
        }
        std::vector<std::pair<std::string, const Value*>> items;
        items.reserve(entries.size());
        for (const auto& [k, val] : entries) items.emplace_back(key_string(k), &val);
        if (style.sort_keys) {
          std::stable_sort(items.begin(), items.end(),
                           [](const auto& a, const auto& b) { return a.first < b.first; });
        }
        out.push_back('{');
        for (size_t k = 0; k < items.size(); ++k) {
          if (k > 0) out += style.item_separator;
          if (style.indent) newline(level + 1);
          append_json_string(out, items[k].first, style.ensure_ascii);
          out += style.key_separator;
          dump(*items[k].second, level + 1);
        }
        if (style.indent) newline(level);
        out.push_back('}');
        return;
      }
      case ValueKind::kUndefined:
      case ValueKind::kObject:
        throw_error("Object of type " + type_name(v) + " is not JSON serializable");
    }
  }
};

}  // namespace

std::string format_float(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  bool negative = !sci.empty() && sci[0] == '-';
  if (negative) sci.remove_prefix(1);
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exp = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp);
  std::string out = negative ? "-" : "";
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      size_t int_len = static_cast<size_t>(exp) + 1;
      if (digits.size() <= int_len) {
        out += digits;
        out.append(int_len - digits.size(), '0');
        out += ".0";
      } else {
        out += digits.substr(0, int_len);
        out += '.';
        out += digits.substr(int_len);
      }
    } else {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += digits;
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) {
    out += '.';
    out += digits.substr(1);
  }
  char ebuf[16];
  std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  out += ebuf;
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

void append_string_repr(std::string& out, const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  out.push_back(quote);
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    uint32_t cp = text::decode(s, i);
    if (cp == static_cast<uint32_t>(quote) || cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (text::is_printable(cp)) {
      out.append(s, start, i - start);
    } else if (cp >= 0xDC80 && cp <= 0xDCFF) {
      out += "\\udc";
      append_hex(out, cp & 0xFF, 2);
    } else if (cp <= 0xFF) {
      out += "\\x";
      append_hex(out, cp, 2);
    } else if (cp <= 0xFFFF) {
      out += "\\u";
      append_hex(out, cp, 4);
    } else {
      out += "\\U";
      append_hex(out, cp, 8);
    }
  }
  out.push_back(quote);
}

std::string python_str(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return std::string();
    case ValueKind::kString: return v.as_string();
    default: return python_repr(v, 0);
  }
}

std::string python_repr(const Value& v, int depth) {
  check_depth(depth);
  switch (v.kind()) {
    case ValueKind::kUndefined: return "Undefined";
    case ValueKind::kNone: return "None";
    case ValueKind::kBool: return v.as_bool() ? "True" : "False";
    case ValueKind::kInt: return std::to_string(v.as_int());
    case ValueKind::kFloat: return format_float(v.as_float());
    case ValueKind::kString: {
      std::string out;
      append_string_repr(out, v.as_string());
      return out;
    }
    case ValueKind::kList: {
      const ListObject* l = v.as_list();
      std::string out = l->is_tuple ? "(" : "[";
      for (size_t k = 0; k < l->items.size(); ++k) {
        if (k > 0) out += ", ";
        out += python_repr(l->items[k], depth + 1);
        check_size(out);
      }
      if (l->is_tuple && l->items.size() == 1) out += ",";
      out += l->is_tuple ? ")" : "]";
      return out;
    }
    case ValueKind::kDict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, val] : v.as_dict()->entries()) {
        if (!first) out += ", ";
        first = false;
        out += python_repr(k, depth + 1);
        out += ": ";
        out += python_repr(val, depth + 1);
        check_size(out);
      }
      out += "}";
      return out;
    }
    case ValueKind::kObject: return v.as_object()->repr(depth + 1);
  }
  return std::string();
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return "Undefined";
    case ValueKind::kNone: return "NoneType";
    case ValueKind::kBool: return "bool";
    case ValueKind::kInt: return "int";
    case ValueKind::kFloat: return "float";
    case ValueKind::kString: return "str";
    case ValueKind::kList:
    case ValueKind::kDict:
    case ValueKind::kObject: return v.as_object()->type_name();
  }
  return "object";
}

std::string object_description(const Value& v) {
  if (v.is_none()) return "None";
  return type_name(v) + " object";
}

std::string json_dumps(const Value& v, const JsonStyle& style) {
  JsonWriter w{style, {}};
  w.dump(v, 0);
  return std::move(w.out);
}

}  // namespace ember::chat
