// Python methods on str, list and dict values ("a,b".split(','),
// d.items(), ...). Only methods that do not mutate are offered, except
// list.append (jinja2's sandbox refuses it; templates written for other
// engines use it, and allowing it changes no template that works in jinja2).
#include <algorithm>

#include "chat/builtins.h"
#include "chat/evaluator.h"
#include "chat/template_error.h"
#include "chat/text_ops.h"
#include "chat/value_format.h"
#include "chat/value_ops.h"

namespace ember::chat {
namespace {

const std::string& str(const Value& self) { return self.as_string(); }

std::string string_arg(const ArgReader& a, size_t i, const char* fn) {
  const Value* v = a.get(i);
  if (v == nullptr || !v->is_string()) {
    throw_error(std::string(fn) + "() argument must be str, not " + (v ? type_name(*v) : "nothing"));
  }
  return v->as_string();
}

// Optional string argument (None or absent -> nullopt).
std::optional<std::string> opt_string(const ArgReader& a, size_t i, const char* fn) {
  const Value* v = a.get(i);
  if (v == nullptr || v->is_none()) return std::nullopt;
  if (!v->is_string()) throw_error(std::string(fn) + "() argument must be str or None, not " + type_name(*v));
  return v->as_string();
}

Value strings_list(Evaluator& ev, std::vector<std::string> parts) {
  std::vector<Value> items;
  items.reserve(parts.size());
  for (std::string& p : parts) items.push_back(ev.make_string(std::move(p)));
  return ev.make_list(std::move(items));
}

Value m_split_impl(Evaluator& ev, const Value& self, CallArgs& args, bool reverse) {
  ArgReader a(args, reverse ? "rsplit" : "split", {"sep", "maxsplit"});
  std::optional<std::string> sep = opt_string(a, 0, "split");
  if (sep && sep->empty()) throw_error("empty separator");
  int64_t maxsplit = a.get_int(1, -1);
  ev.charge_string(str(self).size());
  const std::string* sp = sep ? &*sep : nullptr;
  return strings_list(ev, reverse ? text::rsplit(str(self), sp, maxsplit) : text::split(str(self), sp, maxsplit));
}
Value m_split(Evaluator& ev, const Value& self, CallArgs& args) { return m_split_impl(ev, self, args, false); }
Value m_rsplit(Evaluator& ev, const Value& self, CallArgs& args) { return m_split_impl(ev, self, args, true); }

Value m_strip_impl(Evaluator& ev, const Value& self, CallArgs& args, bool left, bool right) {
  ArgReader a(args, "strip", {"chars"});
  std::optional<std::string> chars = opt_string(a, 0, "strip");
  return ev.make_string(text::strip(str(self), chars ? &*chars : nullptr, left, right));
}
Value m_strip(Evaluator& ev, const Value& s, CallArgs& a) { return m_strip_impl(ev, s, a, true, true); }
Value m_lstrip(Evaluator& ev, const Value& s, CallArgs& a) { return m_strip_impl(ev, s, a, true, false); }
Value m_rstrip(Evaluator& ev, const Value& s, CallArgs& a) { return m_strip_impl(ev, s, a, false, true); }

// s[start:end] in code points, for startswith/endswith/find/count ranges.
std::string sub_range(const std::string& s, const ArgReader& a, size_t start_index) {
  if (!a.has(start_index) && !a.has(start_index + 1)) return s;
  std::vector<uint32_t> cps = text::code_points(s);
  int64_t n = static_cast<int64_t>(cps.size());
  auto norm = [&](int64_t i) {
    if (i < 0) i += n;
    return std::clamp<int64_t>(i, 0, n);
  };
  int64_t b = norm(a.get_int(start_index, 0));
  int64_t e = norm(a.get_int(start_index + 1, n));
  if (e < b) return std::string();
  return text::from_code_points(cps, static_cast<size_t>(b), static_cast<size_t>(e));
}

Value m_affix_impl(Evaluator& ev, const Value& self, CallArgs& args, bool prefix) {
  const char* fn = prefix ? "startswith" : "endswith";
  ArgReader a(args, fn, {"prefix", "start", "end"});
  const Value* p = a.get(0);
  if (p == nullptr) throw_error(std::string(fn) + "() takes at least 1 argument");
  std::string s = sub_range(str(self), a, 1);
  std::vector<Value> options;
  if (p->is_list() && p->as_list()->is_tuple) {
    options = p->as_list()->items;
  } else {
    options.push_back(*p);
  }
  for (const Value& o : options) {
    if (!o.is_string()) {
      throw_error(std::string(fn) + " first arg must be str or a tuple of str, not " + type_name(o));
    }
    const std::string& x = o.as_string();
    if (x.size() <= s.size() && (prefix ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0)) {
      return Value::boolean(true);
    }
  }
  return Value::boolean(false);
}
Value m_startswith(Evaluator& ev, const Value& s, CallArgs& a) { return m_affix_impl(ev, s, a, true); }
Value m_endswith(Evaluator& ev, const Value& s, CallArgs& a) { return m_affix_impl(ev, s, a, false); }

template <std::string (*F)(std::string_view)>
Value m_case(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "str method", {});
  return ev.make_string(F(str(self)));
}

Value m_replace(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "replace", {"old", "new", "count"});
  std::string from = string_arg(a, 0, "replace");
  std::string to = string_arg(a, 1, "replace");
  int64_t count = a.get_int(2, -1);
  size_t hits = from.empty() ? text::length(str(self)) + 1 : static_cast<size_t>(text::count(str(self), from));
  if (count >= 0) hits = std::min<size_t>(hits, static_cast<size_t>(count));
  ev.charge_string(str(self).size() + hits * to.size());
  return Value::string(text::replace(str(self), from, to, count));
}

Value m_find_impl(Evaluator& ev, const Value& self, CallArgs& args, bool reverse, bool raise) {
  ArgReader a(args, "find", {"sub", "start", "end"});
  std::string sub = string_arg(a, 0, "find");
  std::string s = sub_range(str(self), a, 1);
  int64_t r = text::find(s, sub, reverse);
  if (r >= 0 && a.has(1)) {
    int64_t n = static_cast<int64_t>(text::length(str(self)));
    int64_t b = a.get_int(1, 0);
    if (b < 0) b = std::max<int64_t>(0, b + n);
    r += std::min(b, n);
  }
  if (r < 0 && raise) throw_error("substring not found");
  return Value::integer(r);
}
Value m_find(Evaluator& ev, const Value& s, CallArgs& a) { return m_find_impl(ev, s, a, false, false); }
Value m_rfind(Evaluator& ev, const Value& s, CallArgs& a) { return m_find_impl(ev, s, a, true, false); }
Value m_index(Evaluator& ev, const Value& s, CallArgs& a) { return m_find_impl(ev, s, a, false, true); }
Value m_rindex(Evaluator& ev, const Value& s, CallArgs& a) { return m_find_impl(ev, s, a, true, true); }

Value m_count(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "count", {"sub", "start", "end"});
  std::string sub = string_arg(a, 0, "count");
  return Value::integer(text::count(sub_range(str(self), a, 1), sub));
}

Value m_join(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "join", {"iterable"});
  if (!a.has(0)) throw_error("join() takes exactly one argument");
  std::vector<Value> items = ev.iterate(*a.get(0));
  std::string out;
  for (size_t k = 0; k < items.size(); ++k) {
    if (!items[k].is_string()) {
      throw_error("sequence item " + std::to_string(k) + ": expected str instance, " + type_name(items[k]) + " found");
    }
    if (k > 0) out += str(self);
    out += items[k].as_string();
    ev.charge_string(out.size());
  }
  return Value::string(std::move(out));
}

template <bool (*P)(uint32_t)>
Value m_is(Evaluator& ev, const Value& self, CallArgs& args) {
  const std::string& s = str(self);
  if (s.empty()) return Value::boolean(false);
  for (size_t i = 0; i < s.size();) {
    if (!P(text::decode(s, i))) return Value::boolean(false);
  }
  return Value::boolean(true);
}
bool is_alnum(uint32_t cp) { return text::is_alpha(cp) || text::is_digit(cp); }

Value m_cased_is(const Value& self, bool want_upper) {
  bool cased = false;
  const std::string& s = str(self);
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = text::decode(s, i);
    if (want_upper ? text::is_lower(cp) : text::is_upper(cp)) return Value::boolean(false);
    if (text::is_upper(cp) || text::is_lower(cp)) cased = true;
  }
  return Value::boolean(cased);
}
Value m_islower(Evaluator&, const Value& s, CallArgs&) { return m_cased_is(s, false); }
Value m_isupper(Evaluator&, const Value& s, CallArgs&) { return m_cased_is(s, true); }

Value m_splitlines(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "splitlines", {"keepends"});
  ev.charge_string(str(self).size());
  return strings_list(ev, text::splitlines(str(self), a.get_bool(0, false)));
}

Value m_partition_impl(Evaluator& ev, const Value& self, CallArgs& args, bool reverse) {
  ArgReader a(args, "partition", {"sep"});
  std::string sep = string_arg(a, 0, "partition");
  if (sep.empty()) throw_error("empty separator");
  const std::string& s = str(self);
  size_t pos = reverse ? s.rfind(sep) : s.find(sep);
  std::vector<Value> parts;
  if (pos == std::string::npos) {
    Value empty = Value::string(std::string());
    parts = reverse ? std::vector<Value>{empty, empty, self} : std::vector<Value>{self, empty, empty};
  } else {
    parts = {ev.make_string(s.substr(0, pos)), Value::string(sep), ev.make_string(s.substr(pos + sep.size()))};
  }
  return ev.make_list(std::move(parts), true);
}
Value m_partition(Evaluator& ev, const Value& s, CallArgs& a) { return m_partition_impl(ev, s, a, false); }
Value m_rpartition(Evaluator& ev, const Value& s, CallArgs& a) { return m_partition_impl(ev, s, a, true); }

// center / ljust / rjust / zfill.
Value m_pad_impl(Evaluator& ev, const Value& self, CallArgs& args, char mode) {
  ArgReader a(args, "pad", {"width", "fillchar"});
  int64_t width = a.get_int(0, 0);
  std::string fill = a.has(1) ? string_arg(a, 1, "pad") : std::string(" ");
  if (mode == 'z') fill = "0";
  if (text::length(fill) != 1) throw_error("The fill character must be exactly one character long");
  const std::string& s = str(self);
  int64_t len = static_cast<int64_t>(text::length(s));
  if (width <= len) return self;
  int64_t total = width - len;
  ev.charge_string(s.size() + static_cast<size_t>(total) * fill.size());
  int64_t left = 0;
  if (mode == 'c') {
    left = total / 2 + (total & width & 1);
  } else if (mode == 'r' || mode == 'z') {
    left = total;
  }
  std::string out;
  auto pad = [&](int64_t n) {
    for (int64_t k = 0; k < n; ++k) out += fill;
  };
  if (mode == 'z' && !s.empty() && (s[0] == '-' || s[0] == '+')) {
    out.push_back(s[0]);
    pad(left);
    out.append(s, 1, std::string::npos);
    return Value::string(std::move(out));
  }
  pad(left);
  out += s;
  pad(total - left);
  return Value::string(std::move(out));
}
Value m_center(Evaluator& ev, const Value& s, CallArgs& a) { return m_pad_impl(ev, s, a, 'c'); }
Value m_ljust(Evaluator& ev, const Value& s, CallArgs& a) { return m_pad_impl(ev, s, a, 'l'); }
Value m_rjust(Evaluator& ev, const Value& s, CallArgs& a) { return m_pad_impl(ev, s, a, 'r'); }
Value m_zfill(Evaluator& ev, const Value& s, CallArgs& a) { return m_pad_impl(ev, s, a, 'z'); }

Value m_affix_remove(Evaluator& ev, const Value& self, CallArgs& args, bool prefix) {
  ArgReader a(args, prefix ? "removeprefix" : "removesuffix", {"affix"});
  std::string x = string_arg(a, 0, "removeprefix");
  const std::string& s = str(self);
  if (x.size() > s.size()) return self;
  if (prefix && s.compare(0, x.size(), x) == 0) return ev.make_string(s.substr(x.size()));
  if (!prefix && s.compare(s.size() - x.size(), x.size(), x) == 0) return ev.make_string(s.substr(0, s.size() - x.size()));
  return self;
}
Value m_removeprefix(Evaluator& ev, const Value& s, CallArgs& a) { return m_affix_remove(ev, s, a, true); }
Value m_removesuffix(Evaluator& ev, const Value& s, CallArgs& a) { return m_affix_remove(ev, s, a, false); }

Value m_expandtabs(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "expandtabs", {"tabsize"});
  int64_t tab = a.get_int(0, 8);
  std::string out;
  int64_t col = 0;
  const std::string& s = str(self);
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    uint32_t cp = text::decode(s, i);
    if (cp == '\t') {
      if (tab > 0) {
        int64_t n = tab - col % tab;
        ev.charge_string(out.size() + static_cast<size_t>(n));
        out.append(static_cast<size_t>(n), ' ');
        col += n;
      }
    } else {
      out.append(s, start, i - start);
      col = (cp == '\n' || cp == '\r') ? 0 : col + 1;
    }
  }
  return ev.make_string(std::move(out));
}

// str.format: {} {0} {name} with !r / !s; a format spec is not supported.
Value m_format(Evaluator& ev, const Value& self, CallArgs& args) {
  const std::string& f = str(self);
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (c == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') ++i;
      out.push_back('}');
      continue;
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    size_t close = f.find('}', i);
    if (close == std::string::npos) throw_error("Single '{' encountered in format string");
    std::string field = f.substr(i + 1, close - i - 1);
    i = close;
    char conversion = 's';
    size_t bang = field.find('!');
    if (bang != std::string::npos) {
      if (bang + 1 < field.size()) conversion = field[bang + 1];
      field.resize(bang);
    }
    if (field.find(':') != std::string::npos) throw_unsupported("format specs in str.format() are not supported");
    const Value* v = nullptr;
    if (field.empty()) {
      if (auto_index >= args.positional.size()) throw_error("Replacement index " + std::to_string(auto_index) + " out of range");
      v = &args.positional[auto_index++];
    } else if (std::all_of(field.begin(), field.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      size_t idx = std::stoul(field.substr(0, 9));
      if (idx >= args.positional.size()) throw_error("Replacement index " + field + " out of range");
      v = &args.positional[idx];
    } else {
      v = args.find(field);
      if (v == nullptr) throw_error("KeyError: '" + field + "'");
    }
    out += conversion == 'r' ? python_repr(*v) : python_str(*v);
    ev.charge_string(out.size());
  }
  return Value::string(std::move(out));
}

// list methods
Value m_append(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "append", {"object"});
  if (!a.has(0)) throw_error("append() takes exactly one argument");
  if (self.as_list()->is_tuple) throw_error("'tuple' object has no attribute 'append'");
  ev.arena().charge(sizeof(Value));
  self.as_list()->items.push_back(*a.get(0));
  return Value::none();
}

Value m_list_index(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "index", {"value"});
  if (!a.has(0)) throw_error("index() takes at least 1 argument");
  const auto& items = self.as_list()->items;
  for (size_t k = 0; k < items.size(); ++k) {
    if (equals(items[k], *a.get(0))) return Value::integer(static_cast<int64_t>(k));
  }
  throw_error(python_repr(*a.get(0)) + " is not in list");
}

Value m_list_count(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "count", {"value"});
  if (!a.has(0)) throw_error("count() takes exactly one argument");
  int64_t n = 0;
  for (const Value& v : self.as_list()->items) n += equals(v, *a.get(0)) ? 1 : 0;
  return Value::integer(n);
}

// dict methods
Value m_items(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "items", {});
  std::vector<Value> out;
  for (const auto& [k, v] : self.as_dict()->entries()) out.push_back(ev.make_list({k, v}, true));
  return ev.make_list(std::move(out));
}

Value m_keys(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "keys", {});
  return ev.make_list(ev.iterate(self));
}

Value m_values(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "values", {});
  std::vector<Value> out;
  for (const auto& entry : self.as_dict()->entries()) out.push_back(entry.second);
  return ev.make_list(std::move(out));
}

Value m_get(Evaluator& ev, const Value& self, CallArgs& args) {
  ArgReader a(args, "get", {"key", "default"});
  if (!a.has(0)) throw_error("get expected at least 1 argument, got 0");
  if (!a.get(0)->is_string() && !DictObject::key_of(*a.get(0))) {
    throw_error("unhashable type: '" + type_name(*a.get(0)) + "'");
  }
  if (const Value* v = self.as_dict()->find(*a.get(0))) return *v;
  return a.value_or(1, Value::none());
}

Value m_copy(Evaluator& ev, const Value& self, CallArgs& args) {
  DictObject* d = ev.make_dict();
  for (const auto& [k, v] : self.as_dict()->entries()) ev.dict_set(d, k, v);
  return Value::dict(d);
}

struct Method {
  std::string_view name;
  MethodFn fn;
};

constexpr Method kStringMethods[] = {
    {"split", m_split},
    {"rsplit", m_rsplit},
    {"strip", m_strip},
    {"lstrip", m_lstrip},
    {"rstrip", m_rstrip},
    {"startswith", m_startswith},
    {"endswith", m_endswith},
    {"upper", m_case<text::upper>},
    {"lower", m_case<text::lower>},
    {"casefold", m_case<text::lower>},
    {"title", m_case<text::title>},
    {"capitalize", m_case<text::capitalize>},
    {"swapcase", m_case<text::swapcase>},
    {"replace", m_replace},
    {"find", m_find},
    {"rfind", m_rfind},
    {"index", m_index},
    {"rindex", m_rindex},
    {"count", m_count},
    {"join", m_join},
    {"format", m_format},
    {"isdigit", m_is<text::is_digit>},
    {"isdecimal", m_is<text::is_digit>},
    {"isnumeric", m_is<text::is_digit>},
    {"isalpha", m_is<text::is_alpha>},
    {"isalnum", m_is<is_alnum>},
    {"isspace", m_is<text::is_space>},
    {"islower", m_islower},
    {"isupper", m_isupper},
    {"splitlines", m_splitlines},
    {"partition", m_partition},
    {"rpartition", m_rpartition},
    {"center", m_center},
    {"ljust", m_ljust},
    {"rjust", m_rjust},
    {"zfill", m_zfill},
    {"removeprefix", m_removeprefix},
    {"removesuffix", m_removesuffix},
    {"expandtabs", m_expandtabs},
};

constexpr Method kListMethods[] = {
    {"append", m_append},
    {"index", m_list_index},
    {"count", m_list_count},
};

constexpr Method kDictMethods[] = {
    {"items", m_items}, {"keys", m_keys}, {"values", m_values}, {"get", m_get}, {"copy", m_copy},
};

template <size_t N>
MethodFn lookup(const Method (&table)[N], std::string_view name) {
  for (const Method& m : table) {
    if (m.name == name) return m.fn;
  }
  return nullptr;
}

}  // namespace

MethodFn find_method(const Value& self, std::string_view name) {
  switch (self.kind()) {
    case ValueKind::kString: return lookup(kStringMethods, name);
    case ValueKind::kList: return lookup(kListMethods, name);
    case ValueKind::kDict: return lookup(kDictMethods, name);
    default: return nullptr;
  }
}

bool is_dict_attribute(std::string_view name) {
  static constexpr std::string_view kNames[] = {"clear", "copy",    "fromkeys",   "get",    "items", "keys",
                                                "pop",   "popitem", "setdefault", "update", "values"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

}  // namespace ember::chat
