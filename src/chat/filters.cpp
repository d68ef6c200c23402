// Jinja filters with jinja2's argument names and defaults; tojson is
// transformers' version (json.dumps with ensure_ascii=False, no HTML escaping).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_set>

#include "chat/builtins.h"
#include "chat/evaluator.h"
#include "chat/template_error.h"
#include "chat/text_ops.h"
#include "chat/value_format.h"
#include "chat/value_ops.h"

namespace ember::chat {
namespace {

// make_attrgetter: "a.b.0" looks up item["a"]["b"][0]; "x,y" (multi) gives a list.
struct AttrGetter {
  std::vector<std::vector<Value>> paths;  // one per comma-separated attribute
  bool multi = false;
  bool lower_strings = false;
  const Value* fallback = nullptr;

  AttrGetter(const Value* attribute, bool multi_attr, bool ignore_case)
      : multi(multi_attr), lower_strings(ignore_case) {
    if (attribute == nullptr || attribute->is_none()) {
      paths.emplace_back();
      return;
    }
    if (!attribute->is_string()) {
      paths.push_back({*attribute});
      return;
    }
    const std::string s = attribute->as_string();
    std::vector<std::string> parts = multi ? text::split(s, &kComma, -1) : std::vector<std::string>{s};
    for (const std::string& part : parts) {
      std::vector<Value> path;
      for (const std::string& piece : text::split(part, &kDot, -1)) {
        bool digits = !piece.empty() && std::all_of(piece.begin(), piece.end(), [](char c) { return c >= '0' && c <= '9'; });
        path.push_back(digits && piece.size() < 18 ? Value::integer(std::stoll(piece)) : Value::string(piece));
      }
      paths.push_back(std::move(path));
    }
  }

  Value one(Evaluator& ev, Value item, const std::vector<Value>& path) const {
    for (const Value& part : path) {
      item = ev.get_item(item, part);
      if (fallback != nullptr && item.is_undefined()) item = *fallback;
    }
    if (lower_strings && item.is_string()) item = Value::string(text::lower(item.as_string()));
    return item;
  }

  Value operator()(Evaluator& ev, const Value& item) const {
    if (!multi) return one(ev, item, paths[0]);
    std::vector<Value> keys;
    for (const auto& path : paths) keys.push_back(one(ev, item, path));
    return ev.make_list(std::move(keys));
  }

  static inline const std::string kComma = ",";
  static inline const std::string kDot = ".";
};

Value undefined_if_empty(const char* what) { return Value::undefined(std::string(what)); }

void no_args(CallArgs& args, const char* name) { ArgReader(args, name, {}); }

Value f_abs(Evaluator&, const Value& v, CallArgs& args) {
  no_args(args, "abs");
  if (v.is_integral()) {
    if (v.as_int() == INT64_MIN) throw_unsupported("integer overflow");
    return Value::integer(std::llabs(v.as_int()));
  }
  if (v.is_float()) return Value::number(std::fabs(v.as_float()));
  if (v.is_undefined()) fail_undefined(v);
  throw_error("bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_attr(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "attr", {"name"});
  std::string name = a.get_string(0, "");
  if (v.is_dict()) {
    if (is_dict_attribute(name)) return ev.get_attr(v, name);
    return Value::undefined("'dict object' has no attribute '" + name + "'");
  }
  return ev.get_attr(v, name);
}

Value f_batch(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "batch", {"linecount", "fill_with"});
  int64_t n = a.get_int(0, 0);
  if (n <= 0) throw_error("batch(): linecount must be positive");
  std::vector<Value> items = ev.iterate(v);
  std::vector<Value> out;
  for (size_t i = 0; i < items.size(); i += static_cast<size_t>(n)) {
    size_t end = std::min(items.size(), i + static_cast<size_t>(n));
    std::vector<Value> row(items.begin() + static_cast<std::ptrdiff_t>(i), items.begin() + static_cast<std::ptrdiff_t>(end));
    if (a.has(1) && !a.get(1)->is_none()) {
      while (row.size() < static_cast<size_t>(n)) row.push_back(*a.get(1));
    }
    out.push_back(ev.make_list(std::move(row)));
  }
  return ev.make_list(std::move(out));
}

Value f_slice(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "slice", {"slices", "fill_with"});
  int64_t slices = a.get_int(0, 0);
  if (slices <= 0 || slices > 100000) throw_error("slice(): slices must be positive");
  std::vector<Value> seq = ev.iterate(v);
  int64_t length = static_cast<int64_t>(seq.size());
  int64_t per = length / slices, extra = length % slices, offset = 0;
  std::vector<Value> out;
  for (int64_t k = 0; k < slices; ++k) {
    int64_t start = offset + k * per;
    if (k < extra) ++offset;
    int64_t end = offset + (k + 1) * per;
    std::vector<Value> tmp(seq.begin() + start, seq.begin() + end);
    if (a.has(1) && !a.get(1)->is_none() && k >= extra) tmp.push_back(*a.get(1));
    out.push_back(ev.make_list(std::move(tmp)));
  }
  return ev.make_list(std::move(out));
}

Value f_capitalize(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "capitalize");
  return ev.make_string(text::capitalize(python_str(v)));
}

Value f_center(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "center", {"width"});
  CallArgs inner;
  inner.positional.push_back(Value::integer(a.get_int(0, 80)));
  Value s = Value::string(python_str(v));
  return ev.call(ev.get_attr(s, "center"), inner);
}

Value f_length(Evaluator&, const Value& v, CallArgs& args) {
  no_args(args, "length");
  switch (v.kind()) {
    case ValueKind::kUndefined: return Value::integer(0);
    case ValueKind::kString: return Value::integer(static_cast<int64_t>(text::length(v.as_string())));
    case ValueKind::kList: return Value::integer(static_cast<int64_t>(v.as_list()->items.size()));
    case ValueKind::kDict: return Value::integer(static_cast<int64_t>(v.as_dict()->size()));
    case ValueKind::kObject:
      if (auto* loop = dynamic_cast<LoopObject*>(v.as_object())) return Value::integer(static_cast<int64_t>(loop->items.size()));
      [[fallthrough]];
    default: throw_error("object of type '" + type_name(v) + "' has no len()");
  }
}

Value f_default(Evaluator&, const Value& v, CallArgs& args) {
  ArgReader a(args, "default", {"default_value", "boolean"});
  if (v.is_undefined() || (a.get_bool(1, false) && !truthy(v))) return a.value_or(0, Value::string(std::string()));
  return v;
}

// Sorts `items` by `keys` (stable); less() throws for incomparable keys.
void sort_by_keys(std::vector<Value>& items, std::vector<Value>& keys, bool reverse) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return reverse ? less(keys[y], keys[x]) : less(keys[x], keys[y]);
  });
  std::vector<Value> sorted;
  sorted.reserve(items.size());
  for (size_t i : order) sorted.push_back(items[i]);
  items = std::move(sorted);
}

Value f_dictsort(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "dictsort", {"case_sensitive", "by", "reverse"});
  if (!v.is_dict()) throw_error("dictsort() needs a mapping, not " + type_name(v));
  bool case_sensitive = a.get_bool(0, false);
  std::string by = a.get_string(1, "key");
  if (by != "key" && by != "value") throw_error("You can only sort by either \"key\" or \"value\"");
  size_t pos = by == "key" ? 0 : 1;
  std::vector<Value> items, keys;
  for (const auto& [k, val] : v.as_dict()->entries()) {
    items.push_back(ev.make_list({k, val}, true));
    Value key = pos == 0 ? k : val;
    if (!case_sensitive && key.is_string()) key = Value::string(text::lower(key.as_string()));
    keys.push_back(key);
  }
  sort_by_keys(items, keys, a.get_bool(2, false));
  return ev.make_list(std::move(items));
}

Value f_escape(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "escape");
  if (v.is_markup()) return v;
  std::string s = html_escape(python_str(v));
  ev.charge_string(s.size());
  return Value::markup(std::move(s));
}

Value f_forceescape(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "forceescape");
  std::string s = html_escape(python_str(v));
  ev.charge_string(s.size());
  return Value::markup(std::move(s));
}

Value f_first(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "first");
  if (v.is_list()) {
    if (v.as_list()->items.empty()) return undefined_if_empty("No first item, sequence was empty.");
    return v.as_list()->items.front();
  }
  std::vector<Value> items = ev.iterate(v);
  if (items.empty()) return undefined_if_empty("No first item, sequence was empty.");
  return items.front();
}

Value f_last(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "last");
  std::vector<Value> items = v.is_list() ? v.as_list()->items : ev.iterate(v);
  if (items.empty()) return undefined_if_empty("No last item, sequence was empty.");
  return items.back();
}

// Python float(str): optional whitespace, sign, digits with single underscores,
// inf / nan spellings. nullopt when it does not parse.
std::optional<double> parse_python_float(const std::string& raw) {
  std::string s = text::strip(raw, nullptr, true, true);
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      bool ok = i > 0 && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
                std::isdigit(static_cast<unsigned char>(s[i + 1]));
      if (!ok) return std::nullopt;
      continue;
    }
    if (c == 'x' || c == 'X' || c == 'p' || c == 'P') return std::nullopt;
    clean.push_back(c);
  }
  if (clean.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  return d;
}

// Python int(str, base) for bases 2..36 and 0; nullopt on failure.
std::optional<int64_t> parse_python_int(const std::string& raw, int64_t base) {
  std::string s = text::strip(raw, nullptr, true, true);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  auto prefix_base = [&](char p) { return p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0; };
  if (i + 1 < s.size() && s[i] == '0') {
    int pb = prefix_base(static_cast<char>(std::tolower(static_cast<unsigned char>(s[i + 1]))));
    if (pb != 0 && (base == 0 || base == pb)) {
      base = pb;
      i += 2;
      if (i < s.size() && s[i] == '_') ++i;
    }
  }
  if (base == 0) base = 10;
  if (base < 2 || base > 36) return std::nullopt;
  unsigned __int128 v = 0;
  bool any = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_' && any && i + 1 < s.size() && s[i + 1] != '_') continue;
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : std::isalpha(static_cast<unsigned char>(c)) ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                                                           : 99;
    if (d >= base) return std::nullopt;
    v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (v > static_cast<unsigned __int128>(INT64_MAX) + 1) return std::nullopt;
    any = true;
  }
  if (!any) return std::nullopt;
  if (!negative && v > static_cast<unsigned __int128>(INT64_MAX)) return std::nullopt;
  return negative ? static_cast<int64_t>(-static_cast<__int128>(v)) : static_cast<int64_t>(v);
}

Value f_float(Evaluator&, const Value& v, CallArgs& args) {
  ArgReader a(args, "float", {"default"});
  if (v.is_number()) return Value::number(v.as_float());
  if (v.is_string()) {
    if (auto d = parse_python_float(v.as_string())) return Value::number(*d);
  }
  return a.value_or(0, Value::number(0.0));
}

Value f_int(Evaluator&, const Value& v, CallArgs& args) {
  ArgReader a(args, "int", {"default", "base"});
  Value fallback = a.value_or(0, Value::integer(0));
  auto from_double = [&](double d) -> Value {
    if (!std::isfinite(d)) throw_error("cannot convert float infinity or NaN to integer");
    if (std::fabs(d) >= 9.2e18) throw_unsupported("integer overflow");
    return Value::integer(static_cast<int64_t>(std::trunc(d)));
  };
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.is_float()) return from_double(v.as_float());
  if (v.is_string()) {
    if (auto i = parse_python_int(v.as_string(), a.get_int(1, 10))) return Value::integer(*i);
    if (auto d = parse_python_float(v.as_string())) {
      if (std::isfinite(*d) && std::fabs(*d) < 9.2e18) return Value::integer(static_cast<int64_t>(std::trunc(*d)));
    }
  }
  return fallback;
}

Value f_format(Evaluator& ev, const Value& v, CallArgs& args) {
  if (!args.positional.empty() && !args.named.empty()) {
    throw_error("can't handle positional and keyword arguments at the same time");
  }
  Value fmt_args;
  if (!args.named.empty()) {
    DictObject* d = ev.make_dict();
    for (const auto& [k, val] : args.named) ev.dict_set(d, Value::string(k), val);
    fmt_args = Value::dict(d);
  } else {
    fmt_args = ev.make_list(args.positional, true);
  }
  return ev.make_string(percent_format(ev, python_str(v), fmt_args));
}

Value f_groupby(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "groupby", {"attribute", "default", "case_sensitive"});
  if (!a.has(0)) throw_error("groupby() needs an attribute");
  bool case_sensitive = a.get_bool(2, false);
  AttrGetter key_of(a.get(0), false, !case_sensitive);
  AttrGetter real_key(a.get(0), false, false);
  if (a.has(1) && !a.get(1)->is_none()) key_of.fallback = real_key.fallback = a.get(1);
  std::vector<Value> items = ev.iterate(v);
  std::vector<Value> keys;
  for (const Value& item : items) keys.push_back(key_of(ev, item));
  std::vector<Value> sorted_keys = keys;
  {
    std::vector<size_t> order(items.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return less(keys[x], keys[y]); });
    std::vector<Value> si;
    sorted_keys.clear();
    for (size_t i : order) {
      si.push_back(items[i]);
      sorted_keys.push_back(keys[i]);
    }
    items = std::move(si);
  }
  std::vector<Value> out;
  for (size_t i = 0; i < items.size();) {
    size_t j = i;
    std::vector<Value> group;
    while (j < items.size() && equals(sorted_keys[j], sorted_keys[i])) group.push_back(items[j++]);
    Value grouper = case_sensitive ? sorted_keys[i] : real_key(ev, group.front());
    ListObject* t = ev.arena().make_list({grouper, ev.make_list(std::move(group))}, true);
    t->is_group = true;
    out.push_back(Value::list(t));
    i = j;
  }
  return ev.make_list(std::move(out));
}

Value f_indent(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "indent", {"width", "first", "blank"});
  std::string indention;
  if (a.has(0) && a.get(0)->is_string()) {
    indention = a.get(0)->as_string();
  } else {
    int64_t w = a.get_int(0, 4);
    if (w > 0) {
      ev.charge_string(static_cast<size_t>(w));
      indention.assign(static_cast<size_t>(w), ' ');
    }
  }
  std::string s = python_str(v) + "\n";
  std::vector<std::string> lines = text::splitlines(s, false);
  ev.charge_string(s.size() + lines.size() * indention.size());
  std::string rv;
  if (a.get_bool(2, false)) {
    for (size_t k = 0; k < lines.size(); ++k) {
      if (k > 0) rv += "\n" + indention;
      rv += lines[k];
    }
  } else if (!lines.empty()) {
    rv = lines[0];
    for (size_t k = 1; k < lines.size(); ++k) {
      rv += "\n";
      if (!lines[k].empty()) rv += indention;
      rv += lines[k];
    }
  }
  if (a.get_bool(1, false)) rv = indention + rv;
  return Value::string(std::move(rv));
}

Value f_items(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "items");
  if (v.is_undefined()) return ev.make_list({});
  if (!v.is_dict()) throw_error("Can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& [k, val] : v.as_dict()->entries()) out.push_back(ev.make_list({k, val}, true));
  return ev.make_list(std::move(out));
}

Value f_join(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "join", {"d", "attribute"});
  std::string sep = a.get_string(0, "");
  std::vector<Value> items = ev.iterate(v);
  std::optional<AttrGetter> getter;
  if (a.has(1) && !a.get(1)->is_none()) getter.emplace(a.get(1), false, false);
  std::string out;
  for (size_t k = 0; k < items.size(); ++k) {
    if (k > 0) out += sep;
    out += python_str(getter ? (*getter)(ev, items[k]) : items[k]);
    ev.charge_string(out.size());
  }
  return Value::string(std::move(out));
}

Value f_list(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "list");
  return ev.make_list(ev.iterate(v));
}

Value f_lower(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "lower");
  return ev.make_string(text::lower(python_str(v)));
}

Value f_upper(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "upper");
  return ev.make_string(text::upper(python_str(v)));
}

Value f_map(Evaluator& ev, const Value& v, CallArgs& args) {
  std::vector<Value> items = ev.iterate(v);
  std::vector<Value> out;
  if (args.positional.empty() && args.find("attribute") != nullptr) {
    const Value* fallback = nullptr;
    for (const auto& [k, val] : args.named) {
      if (k == "default") {
        fallback = &val;
      } else if (k != "attribute") {
        throw_error("Unexpected keyword argument '" + k + "'");
      }
    }
    AttrGetter getter(args.find("attribute"), false, false);
    if (fallback != nullptr && !fallback->is_none()) getter.fallback = fallback;
    for (const Value& item : items) out.push_back(getter(ev, item));
    return ev.make_list(std::move(out));
  }
  if (args.positional.empty()) throw_error("map requires a filter argument");
  if (!args.positional[0].is_string()) throw_error("map(): the filter name must be a string");
  std::string name = args.positional[0].as_string();
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.named = args.named;
  for (const Value& item : items) {
    CallArgs copy = rest;
    out.push_back(ev.apply_filter(name, item, copy));
  }
  return ev.make_list(std::move(out));
}

Value select_or_reject(Evaluator& ev, const Value& v, CallArgs& args, bool select, bool by_attr) {
  if (!truthy(v)) return ev.make_list({});
  std::vector<Value> items = ev.iterate(v);
  size_t off = 0;
  std::optional<AttrGetter> getter;
  if (by_attr) {
    if (args.positional.empty()) throw_error("Missing parameter for attribute name");
    getter.emplace(&args.positional[0], false, false);
    off = 1;
  }
  std::optional<std::string> test;
  CallArgs test_args;
  if (args.positional.size() > off) {
    if (!args.positional[off].is_string()) throw_error("the test name must be a string");
    test = args.positional[off].as_string();
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(off) + 1, args.positional.end());
    test_args.named = args.named;
  }
  std::vector<Value> out;
  for (const Value& item : items) {
    Value x = getter ? (*getter)(ev, item) : item;
    bool ok;
    if (test) {
      CallArgs copy = test_args;
      ok = ev.apply_test(*test, x, copy);
    } else {
      ok = truthy(x);
    }
    if (ok == select) out.push_back(item);
  }
  return ev.make_list(std::move(out));
}

Value f_select(Evaluator& ev, const Value& v, CallArgs& a) { return select_or_reject(ev, v, a, true, false); }
Value f_reject(Evaluator& ev, const Value& v, CallArgs& a) { return select_or_reject(ev, v, a, false, false); }
Value f_selectattr(Evaluator& ev, const Value& v, CallArgs& a) { return select_or_reject(ev, v, a, true, true); }
Value f_rejectattr(Evaluator& ev, const Value& v, CallArgs& a) { return select_or_reject(ev, v, a, false, true); }

Value min_or_max(Evaluator& ev, const Value& v, CallArgs& args, bool want_max) {
  ArgReader a(args, want_max ? "max" : "min", {"case_sensitive", "attribute"});
  std::vector<Value> items = ev.iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  AttrGetter key(a.get(1), false, !a.get_bool(0, false));
  size_t best = 0;
  Value best_key = key(ev, items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key(ev, items[i]);
    if (want_max ? less(best_key, k) : less(k, best_key)) {
      best = i;
      best_key = k;
    }
  }
  return items[best];
}

Value f_min(Evaluator& ev, const Value& v, CallArgs& a) { return min_or_max(ev, v, a, false); }
Value f_max(Evaluator& ev, const Value& v, CallArgs& a) { return min_or_max(ev, v, a, true); }

Value f_pprint(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "pprint");
  return ev.make_string(python_repr(v));
}

Value f_replace(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "replace", {"old", "new", "count"});
  CallArgs inner;
  inner.positional = {Value::string(a.get_string(0, "")), Value::string(a.get_string(1, ""))};
  if (a.has(2) && !a.get(2)->is_none()) inner.positional.push_back(*a.get(2));
  return ev.call(ev.get_attr(Value::string(python_str(v)), "replace"), inner);
}

Value f_reverse(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "reverse");
  if (v.is_string()) {
    std::vector<uint32_t> cps = text::code_points(v.as_string());
    std::reverse(cps.begin(), cps.end());
    return ev.make_string(text::from_code_points(cps, 0, cps.size()));
  }
  std::vector<Value> items = ev.iterate(v);
  std::reverse(items.begin(), items.end());
  return ev.make_list(std::move(items));
}

double python_round(double x, int64_t digits) {
  if (!std::isfinite(x) || digits > 308) return x;
  if (digits == 0) return std::nearbyint(x);
  if (digits > 0) {
    char buf[720];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(digits), x);
    return std::strtod(buf, nullptr);
  }
  if (digits < -308) return 0.0 * x;
  double p = std::pow(10.0, static_cast<double>(-digits));
  return std::nearbyint(x / p) * p;
}

Value f_round(Evaluator&, const Value& v, CallArgs& args) {
  ArgReader a(args, "round", {"precision", "method"});
  int64_t precision = a.get_int(0, 0);
  std::string method = a.get_string(1, "common");
  if (method != "common" && method != "ceil" && method != "floor") {
    throw_error("method must be common, ceil or floor");
  }
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_number()) throw_error("type " + type_name(v) + " doesn't define __round__ method");
  if (method == "common") {
    if (v.is_integral() && precision >= 0) return Value::integer(v.as_int());
    if (v.is_integral()) {  // round(int, -n): an int, halves to even
      if (precision < -18) return Value::integer(0);
      int64_t p = 1;
      for (int64_t k = 0; k < -precision; ++k) p *= 10;
      int64_t x = v.as_int(), q = x / p, r = x % p;
      if (r < 0) {
        r += p;
        --q;
      }
      if (2 * r > p || (2 * r == p && (q & 1) != 0)) ++q;
      int64_t out = 0;
      if (__builtin_mul_overflow(q, p, &out)) throw_unsupported("integer overflow");
      return Value::integer(out);
    }
    return Value::number(python_round(v.as_float(), precision));
  }
  double p = std::pow(10.0, static_cast<double>(precision));
  double scaled = v.as_float() * p;
  double r = method == "ceil" ? std::ceil(scaled) : std::floor(scaled);
  return Value::number(r / p);
}

Value f_string(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "string");
  if (v.is_string()) return v;
  return ev.make_string(python_str(v));
}

Value f_sort(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "sort", {"reverse", "case_sensitive", "attribute"});
  std::vector<Value> items = ev.iterate(v);
  AttrGetter key(a.get(2), a.has(2), !a.get_bool(1, false));
  std::vector<Value> keys;
  for (const Value& item : items) keys.push_back(key(ev, item));
  sort_by_keys(items, keys, a.get_bool(0, false));
  return ev.make_list(std::move(items));
}

Value f_striptags(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "striptags");
  std::string s = python_str(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') {
      size_t close = s.find('>', i);
      if (close != std::string::npos) {
        i = close;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  std::vector<std::string> words = text::split(out, nullptr, -1);
  std::string joined;
  for (size_t k = 0; k < words.size(); ++k) joined += (k ? " " : "") + words[k];
  return ev.make_string(std::move(joined));
}

Value f_sum(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "sum", {"attribute", "start"});
  std::optional<AttrGetter> getter;
  if (a.has(0) && !a.get(0)->is_none()) getter.emplace(a.get(0), false, false);
  Value total = a.value_or(1, Value::integer(0));
  for (const Value& item : ev.iterate(v)) total = binary_op(ev, BinaryOp::kAdd, total, getter ? (*getter)(ev, item) : item);
  return total;
}

Value f_title(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "title");
  std::string s = python_str(v), out;
  bool word_start = true;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = text::decode(s, i);
    bool sep = cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || text::is_space(cp);
    if (sep) {
      text::append_utf8(out, cp);
      word_start = true;
    } else if (word_start) {
      std::string one;
      text::append_utf8(one, cp);
      out += text::upper(one);
      word_start = false;
    } else {
      text::append_utf8(out, text::to_lower(cp));
    }
  }
  return ev.make_string(std::move(out));
}

Value f_tojson(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "tojson", {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonStyle style;
  style.ensure_ascii = a.get_bool(0, false);
  style.sort_keys = a.get_bool(3, false);
  if (const Value* indent = a.get(1); indent != nullptr && !indent->is_none()) {
    if (indent->is_string()) {
      style.indent = indent->as_string();
    } else if (indent->is_integral()) {
      int64_t n = indent->as_int();
      if (n > 1000) throw_error("tojson(): indent too large");
      style.indent = std::string(n > 0 ? static_cast<size_t>(n) : 0, ' ');
    } else {
      throw_error("tojson(): indent must be an int or a string");
    }
    style.item_separator = ",";
  }
  if (const Value* sep = a.get(2); sep != nullptr && !sep->is_none()) {
    if (!sep->is_list() || sep->as_list()->items.size() != 2 || !sep->as_list()->items[0].is_string() ||
        !sep->as_list()->items[1].is_string()) {
      throw_error("tojson(): separators must be a pair of strings");
    }
    style.item_separator = sep->as_list()->items[0].as_string();
    style.key_separator = sep->as_list()->items[1].as_string();
  }
  return ev.make_string(json_dumps(v, style));
}

Value f_trim(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "trim", {"chars"});
  std::optional<std::string> chars;
  if (a.has(0) && !a.get(0)->is_none()) chars = python_str(*a.get(0));
  return ev.make_string(text::strip(python_str(v), chars ? &*chars : nullptr, true, true));
}

Value f_truncate(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "truncate", {"length", "killwords", "end", "leeway"});
  int64_t length = a.get_int(0, 255);
  bool killwords = a.get_bool(1, false);
  std::string end = a.get_string(2, "...");
  int64_t leeway = a.get_int(3, 5);
  int64_t end_len = static_cast<int64_t>(text::length(end));
  if (length < end_len) throw_error("expected length >= " + std::to_string(end_len) + ", got " + std::to_string(length));
  if (leeway < 0) throw_error("expected leeway >= 0");
  std::string s = python_str(v);
  std::vector<uint32_t> cps = text::code_points(s);
  if (static_cast<int64_t>(cps.size()) <= length + leeway) return Value::string(s);
  std::string head = text::from_code_points(cps, 0, static_cast<size_t>(length - end_len));
  if (!killwords) {
    size_t sp = head.rfind(' ');
    if (sp != std::string::npos) head.resize(sp);
  }
  return ev.make_string(head + end);
}

Value f_unique(Evaluator& ev, const Value& v, CallArgs& args) {
  ArgReader a(args, "unique", {"case_sensitive", "attribute"});
  AttrGetter key(a.get(1), false, !a.get_bool(0, false));
  std::unordered_set<std::string> seen;
  std::vector<Value> out;
  for (const Value& item : ev.iterate(v)) {
    Value k = key(ev, item);
    std::optional<std::string> h = DictObject::key_of(k);
    if (!h) throw_error("unhashable type: '" + type_name(k) + "'");
    if (seen.insert(*h).second) out.push_back(item);
  }
  return ev.make_list(std::move(out));
}

Value f_wordcount(Evaluator&, const Value& v, CallArgs& args) {
  no_args(args, "wordcount");
  std::string s = python_str(v);
  int64_t n = 0;
  bool in_word = false;
  for (size_t i = 0; i < s.size();) {
    bool w = text::is_word(text::decode(s, i));
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::integer(n);
}

Value f_safe(Evaluator& ev, const Value& v, CallArgs& args) {
  no_args(args, "safe");
  if (v.is_markup()) return v;
  std::string s = python_str(v);
  ev.charge_string(s.size());
  return Value::markup(std::move(s));
}

struct Filter {
  std::string_view name;
  FilterFn fn;
};

constexpr Filter kFilters[] = {
    {"abs", f_abs},         {"attr", f_attr},           {"batch", f_batch},
    {"capitalize", f_capitalize}, {"center", f_center}, {"count", f_length},
    {"d", f_default},       {"default", f_default},     {"dictsort", f_dictsort},
    {"e", f_escape},        {"escape", f_escape},       {"forceescape", f_forceescape},
    {"first", f_first},     {"float", f_float},         {"format", f_format},
    {"groupby", f_groupby}, {"indent", f_indent},       {"int", f_int},
    {"items", f_items},     {"join", f_join},           {"last", f_last},
    {"length", f_length},   {"list", f_list},           {"lower", f_lower},
    {"map", f_map},         {"max", f_max},             {"min", f_min},
    {"pprint", f_pprint},   {"reject", f_reject},       {"rejectattr", f_rejectattr},
    {"replace", f_replace}, {"reverse", f_reverse},     {"round", f_round},
    {"safe", f_safe},       {"select", f_select},       {"selectattr", f_selectattr},
    {"slice", f_slice},     {"sort", f_sort},           {"string", f_string},
    {"striptags", f_striptags}, {"sum", f_sum},         {"title", f_title},
    {"tojson", f_tojson},   {"trim", f_trim},           {"truncate", f_truncate},
    {"unique", f_unique},   {"upper", f_upper},         {"wordcount", f_wordcount},
};

}  // namespace

FilterFn find_filter(std::string_view name) {
  for (const Filter& f : kFilters) {
    if (f.name == name) return f.fn;
  }
  return nullptr;
}

}  // namespace ember::chat
