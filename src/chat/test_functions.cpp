// Jinja tests: `x is defined`, `x is string`, `n is divisibleby 3`, ...
#include <algorithm>
#include <cmath>

#include "chat/builtins.h"
#include "chat/evaluator.h"
#include "chat/template_error.h"
#include "chat/text_ops.h"
#include "chat/value_format.h"
#include "chat/value_ops.h"

namespace ember::chat {
namespace {

const Value& arg0(CallArgs& args, const char* test) {
  if (!args.positional.empty()) return args.positional[0];
  if (!args.named.empty()) return args.named[0].second;
  throw_error(std::string("test '") + test + "' needs an argument");
}

int64_t int_input(const Value& v, const char* test) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_integral()) return v.as_int();
  if (v.is_float() && std::isfinite(v.as_float())) return static_cast<int64_t>(std::fmod(v.as_float(), 1e18));
  throw_error(std::string("test '") + test + "' needs a number, not " + type_name(v));
}

bool t_defined(Evaluator&, const Value& v, CallArgs&) { return !v.is_undefined(); }
bool t_undefined(Evaluator&, const Value& v, CallArgs&) { return v.is_undefined(); }
bool t_none(Evaluator&, const Value& v, CallArgs&) { return v.is_none(); }
bool t_boolean(Evaluator&, const Value& v, CallArgs&) { return v.is_bool(); }
bool t_true(Evaluator&, const Value& v, CallArgs&) { return v.is_bool() && v.as_bool(); }
bool t_false(Evaluator&, const Value& v, CallArgs&) { return v.is_bool() && !v.as_bool(); }
bool t_integer(Evaluator&, const Value& v, CallArgs&) { return v.is_int(); }
bool t_float(Evaluator&, const Value& v, CallArgs&) { return v.is_float(); }
bool t_number(Evaluator&, const Value& v, CallArgs&) { return v.is_number(); }
bool t_string(Evaluator&, const Value& v, CallArgs&) { return v.is_string(); }
bool t_mapping(Evaluator&, const Value& v, CallArgs&) { return v.is_dict(); }
bool t_sequence(Evaluator&, const Value& v, CallArgs&) { return v.is_string() || v.is_list() || v.is_dict(); }
bool t_iterable(Evaluator&, const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool t_callable(Evaluator&, const Value& v, CallArgs&) { return v.is_object() && v.as_object()->is_callable(); }
bool t_escaped(Evaluator&, const Value& v, CallArgs&) { return v.is_markup(); }
bool t_odd(Evaluator&, const Value& v, CallArgs&) { return int_input(v, "odd") % 2 != 0; }
bool t_even(Evaluator&, const Value& v, CallArgs&) { return int_input(v, "even") % 2 == 0; }

bool t_divisibleby(Evaluator&, const Value& v, CallArgs& args) {
  const Value& n = arg0(args, "divisibleby");
  if (!n.is_number() || !v.is_number()) throw_error("divisibleby needs numbers");
  if (n.as_float() == 0) throw_error("integer division or modulo by zero");
  if (v.is_integral() && n.is_integral()) return n.as_int() == -1 || v.as_int() % n.as_int() == 0;
  return std::fmod(v.as_float(), n.as_float()) == 0;
}

bool t_lower(Evaluator&, const Value& v, CallArgs&) {
  std::string s = python_str(v);
  bool cased = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = text::decode(s, i);
    if (text::is_upper(cp)) return false;
    cased = cased || text::is_lower(cp);
  }
  return cased;
}

bool t_upper(Evaluator&, const Value& v, CallArgs&) {
  std::string s = python_str(v);
  bool cased = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = text::decode(s, i);
    if (text::is_lower(cp)) return false;
    cased = cased || text::is_upper(cp);
  }
  return cased;
}

bool t_sameas(Evaluator&, const Value& v, CallArgs& args) {
  const Value& o = arg0(args, "sameas");
  if (v.kind() != o.kind()) return false;
  if (v.is_list() || v.is_dict() || v.is_object()) return v.as_object() == o.as_object();
  return equals(v, o);
}

bool t_in(Evaluator&, const Value& v, CallArgs& args) { return contains(arg0(args, "in"), v); }
bool t_eq(Evaluator&, const Value& v, CallArgs& args) { return equals(v, arg0(args, "eq")); }
bool t_ne(Evaluator&, const Value& v, CallArgs& args) { return !equals(v, arg0(args, "ne")); }
bool t_lt(Evaluator&, const Value& v, CallArgs& args) { return compare(CompareOp::kLt, v, arg0(args, "lt")); }
bool t_le(Evaluator&, const Value& v, CallArgs& args) { return compare(CompareOp::kLe, v, arg0(args, "le")); }
bool t_gt(Evaluator&, const Value& v, CallArgs& args) { return compare(CompareOp::kGt, v, arg0(args, "gt")); }
bool t_ge(Evaluator&, const Value& v, CallArgs& args) { return compare(CompareOp::kGe, v, arg0(args, "ge")); }
bool t_filter(Evaluator&, const Value& v, CallArgs&) { return v.is_string() && find_filter(v.as_string()) != nullptr; }
bool t_test(Evaluator&, const Value& v, CallArgs&) { return v.is_string() && find_test(v.as_string()) != nullptr; }

struct Test {
  std::string_view name;
  TestFn fn;
};

constexpr Test kTests[] = {
    {"defined", t_defined},   {"undefined", t_undefined}, {"none", t_none},
    {"boolean", t_boolean},   {"true", t_true},           {"false", t_false},
    {"integer", t_integer},   {"float", t_float},         {"number", t_number},
    {"string", t_string},     {"mapping", t_mapping},     {"sequence", t_sequence},
    {"iterable", t_iterable}, {"callable", t_callable},   {"escaped", t_escaped},
    {"odd", t_odd},           {"even", t_even},           {"divisibleby", t_divisibleby},
    {"lower", t_lower},       {"upper", t_upper},         {"sameas", t_sameas},
    {"in", t_in},             {"eq", t_eq},               {"equalto", t_eq},
    {"==", t_eq},             {"ne", t_ne},               {"!=", t_ne},
    {"lt", t_lt},             {"lessthan", t_lt},         {"<", t_lt},
    {"le", t_le},             {"<=", t_le},               {"gt", t_gt},
    {"greaterthan", t_gt},    {">", t_gt},                {"ge", t_ge},
    {">=", t_ge},             {"filter", t_filter},       {"test", t_test},
};

}  // namespace

TestFn find_test(std::string_view name) {
  for (const Test& t : kTests) {
    if (t.name == name) return t.fn;
  }
  return nullptr;
}

}  // namespace ember::chat
