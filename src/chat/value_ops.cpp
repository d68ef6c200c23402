#include "chat/value_ops.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "chat/evaluator.h"
#include "chat/template_error.h"
#include "chat/value_format.h"

namespace ember::chat {
namespace {

[[noreturn]] void unsupported_operands(const char* op, const Value& a, const Value& b) {
  throw_error(std::string("unsupported operand type(s) for ") + op + ": '" + type_name(a) + "' and '" +
              type_name(b) + "'");
}

void check_defined(const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
}

Value repeat(Evaluator& ev, const Value& seq, int64_t times) {
  if (times < 0) times = 0;
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && static_cast<uint64_t>(times) > (1ull << 40) / s.size()) ev.charge_string(SIZE_MAX / 2);
    ev.charge_string(s.size() * static_cast<size_t>(times));
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(times));
    for (int64_t k = 0; k < times; ++k) out += s;
    return seq.is_markup() ? Value::markup(std::move(out)) : Value::string(std::move(out));
  }
  const ListObject* l = seq.as_list();
  if (!l->items.empty() && static_cast<uint64_t>(times) > (1ull << 32) / l->items.size()) {
    ev.arena().charge(SIZE_MAX / 2);
  }
  std::vector<Value> out;
  ev.arena().charge(l->items.size() * static_cast<size_t>(times) * sizeof(Value));
  for (int64_t k = 0; k < times; ++k) out.insert(out.end(), l->items.begin(), l->items.end());
  return ev.make_list(std::move(out), l->is_tuple);
}

// Ints are 64-bit here, not Python's unbounded ints: overflow is an error.
void check_overflow(bool overflow) {
  if (overflow) throw_unsupported("integer overflow (ints are 64-bit here)");
}

double floor_mod(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

}  // namespace

bool truthy(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kNone: return false;
    case ValueKind::kBool: return v.as_bool();
    case ValueKind::kInt: return v.as_int() != 0;
    case ValueKind::kFloat: return v.as_float() != 0.0;
    case ValueKind::kString: return !v.as_string().empty();
    case ValueKind::kList: return !v.as_list()->items.empty();
    case ValueKind::kDict: return v.as_dict()->size() != 0;
    case ValueKind::kObject: return true;
  }
  return false;
}

bool equals(const Value& a, const Value& b, int depth) {
  if (depth > kMaxValueDepth) throw_limit("value nested too deeply to compare");
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() == b.as_int();
    if (a.is_float() && b.is_float()) return a.as_float() == b.as_float();
    const Value& f = a.is_float() ? a : b;
    const Value& i = a.is_float() ? b : a;
    double d = f.as_float();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) >= 9.2e18) return false;
    return static_cast<int64_t>(d) == i.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kNone: return true;
    case ValueKind::kString: return a.as_string() == b.as_string();
    case ValueKind::kList: {
      const ListObject* x = a.as_list();
      const ListObject* y = b.as_list();
      if (x == y) return true;
      if (x->is_tuple != y->is_tuple || x->items.size() != y->items.size()) return false;
      for (size_t k = 0; k < x->items.size(); ++k) {
        if (!equals(x->items[k], y->items[k], depth + 1)) return false;
      }
      return true;
    }
    case ValueKind::kDict: {
      const DictObject* x = a.as_dict();
      const DictObject* y = b.as_dict();
      if (x == y) return true;
      if (x->size() != y->size()) return false;
      for (const auto& [k, v] : x->entries()) {
        const Value* other = y->find(k);
        if (other == nullptr || !equals(v, *other, depth + 1)) return false;
      }
      return true;
    }
    case ValueKind::kObject: return a.as_object() == b.as_object();
    default: return false;
  }
}

bool less(const Value& a, const Value& b, int depth) {
  if (depth > kMaxValueDepth) throw_limit("value nested too deeply to compare");
  check_defined(a, b);
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() < b.as_int();
    return a.as_float() < b.as_float();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list() && a.as_list()->is_tuple == b.as_list()->is_tuple) {
    const auto& x = a.as_list()->items;
    const auto& y = b.as_list()->items;
    for (size_t k = 0; k < x.size() && k < y.size(); ++k) {
      if (!equals(x[k], y[k], depth + 1)) return less(x[k], y[k], depth + 1);
    }
    return x.size() < y.size();
  }
  throw_error("'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

bool compare(CompareOp op, const Value& a, const Value& b) {
  switch (op) {
    case CompareOp::kEq: return equals(a, b);
    case CompareOp::kNe: return !equals(a, b);
    case CompareOp::kLt: return less(a, b);
    case CompareOp::kGt: return less(b, a);
    case CompareOp::kLe: return less(a, b) || equals(a, b);
    case CompareOp::kGe: return less(b, a) || equals(a, b);
    default: return false;
  }
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case ValueKind::kUndefined: return false;
    case ValueKind::kString:
      if (!item.is_string()) {
        if (item.is_undefined()) fail_undefined(item);
        throw_error("'in <string>' requires string as left operand, not " + type_name(item));
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case ValueKind::kList:
      for (const Value& v : container.as_list()->items) {
        if (equals(v, item)) return true;
      }
      return false;
    case ValueKind::kDict:
      if (!item.is_string() && !DictObject::key_of(item)) throw_error("unhashable type: '" + type_name(item) + "'");
      return container.as_dict()->find(item) != nullptr;
    default: throw_error("argument of type '" + type_name(container) + "' is not iterable");
  }
}

Value negate(const Value& v) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_integral()) {
    int64_t r = 0;
    check_overflow(__builtin_sub_overflow(int64_t{0}, v.as_int(), &r));
    return Value::integer(r);
  }
  if (v.is_float()) return Value::number(-v.as_float());
  throw_error("bad operand type for unary -: '" + type_name(v) + "'");
}

Value unary_plus(const Value& v) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.is_float()) return v;
  throw_error("bad operand type for unary +: '" + type_name(v) + "'");
}

Value binary_op(Evaluator& ev, BinaryOp op, const Value& a, const Value& b) {
  check_defined(a, b);
  const bool nums = a.is_number() && b.is_number();
  const bool ints = a.is_integral() && b.is_integral();
  switch (op) {
    case BinaryOp::kAdd: {
      if (ints) {
        int64_t r = 0;
        check_overflow(__builtin_add_overflow(a.as_int(), b.as_int(), &r));
    return Value::integer(r);
      }
      if (nums) return Value::number(a.as_float() + b.as_float());
      if (a.is_string() && b.is_string()) {
        if (a.is_markup() != b.is_markup()) {  // Markup + str escapes the str
          std::string left = a.is_markup() ? a.as_string() : html_escape(a.as_string());
          std::string right = b.is_markup() ? b.as_string() : html_escape(b.as_string());
          ev.charge_string(left.size() + right.size());
          return Value::markup(left + right);
        }
        ev.charge_string(a.as_string().size() + b.as_string().size());
        if (a.is_markup()) return Value::markup(a.as_string() + b.as_string());
        return Value::string(a.as_string() + b.as_string());
      }
      if (a.is_list() && b.is_list() && a.as_list()->is_tuple == b.as_list()->is_tuple) {
        std::vector<Value> items = a.as_list()->items;
        items.insert(items.end(), b.as_list()->items.begin(), b.as_list()->items.end());
        return ev.make_list(std::move(items), a.as_list()->is_tuple);
      }
      if (a.is_string()) throw_error("can only concatenate str (not \"" + type_name(b) + "\") to str");
      if (a.is_list()) {
        throw_error("can only concatenate " + type_name(a) + " (not \"" + type_name(b) + "\") to " + type_name(a));
      }
      unsupported_operands("+", a, b);
    }
    case BinaryOp::kSub: {
      if (ints) {
        int64_t r = 0;
        check_overflow(__builtin_sub_overflow(a.as_int(), b.as_int(), &r));
    return Value::integer(r);
      }
      if (nums) return Value::number(a.as_float() - b.as_float());
      unsupported_operands("-", a, b);
    }
    case BinaryOp::kMul: {
      if (ints) {
        int64_t r = 0;
        check_overflow(__builtin_mul_overflow(a.as_int(), b.as_int(), &r));
    return Value::integer(r);
      }
      if (nums) return Value::number(a.as_float() * b.as_float());
      if ((a.is_string() || a.is_list()) && b.is_integral()) return repeat(ev, a, b.as_int());
      if ((b.is_string() || b.is_list()) && a.is_integral()) return repeat(ev, b, a.as_int());
      unsupported_operands("*", a, b);
    }
    case BinaryOp::kDiv: {
      if (!nums) unsupported_operands("/", a, b);
      if (b.as_float() == 0.0) throw_error("division by zero");
      return Value::number(a.as_float() / b.as_float());
    }
    case BinaryOp::kFloorDiv: {
      if (!nums) unsupported_operands("//", a, b);
      if (b.as_float() == 0.0) throw_error("integer division or modulo by zero");
      if (ints) {
        int64_t x = a.as_int(), y = b.as_int();
        if (x == INT64_MIN && y == -1) throw_unsupported("integer overflow (ints are 64-bit here)");
        int64_t q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
        return Value::integer(q);
      }
      return Value::number(std::floor(a.as_float() / b.as_float()));
    }
    case BinaryOp::kMod: {
      if (a.is_string()) return ev.make_string(percent_format(ev, a.as_string(), b));
      if (!nums) unsupported_operands("%", a, b);
      if (b.as_float() == 0.0) throw_error("integer division or modulo by zero");
      if (ints) {
        int64_t x = a.as_int(), y = b.as_int();
        if (y == -1) return Value::integer(0);
        int64_t r = x % y;
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        return Value::integer(r);
      }
      return Value::number(floor_mod(a.as_float(), b.as_float()));
    }
    case BinaryOp::kPow: {
      if (!nums) unsupported_operands("** or pow()", a, b);
      if (ints && b.as_int() >= 0) {
        int64_t base = a.as_int(), e = b.as_int(), r = 1;
        while (e > 0) {
          if (e & 1) check_overflow(__builtin_mul_overflow(r, base, &r));
          e >>= 1;
          if (e > 0) check_overflow(__builtin_mul_overflow(base, base, &base));
        }
        return Value::integer(r);
      }
      if (a.as_float() == 0.0 && b.as_float() < 0) throw_error("0.0 cannot be raised to a negative power");
      return Value::number(std::pow(a.as_float(), b.as_float()));
    }
  }
  return Value();
}

std::string percent_format(Evaluator& ev, const std::string& format, const Value& args) {
  std::vector<Value> positional;
  const DictObject* mapping = nullptr;
  if (args.is_list() && args.as_list()->is_tuple) {
    positional = args.as_list()->items;
  } else if (args.is_dict()) {
    mapping = args.as_dict();
  } else {
    positional.push_back(args);
  }
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (++i >= format.size()) throw_error("incomplete format");
    const Value* arg = nullptr;
    if (format[i] == '(') {
      size_t close = format.find(')', i);
      if (close == std::string::npos || mapping == nullptr) throw_error("format requires a mapping");
      arg = mapping->find(std::string_view(format).substr(i + 1, close - i - 1));
      if (arg == nullptr) throw_error("KeyError: '" + format.substr(i + 1, close - i - 1) + "'");
      i = close + 1;
    }
    std::string spec = "%";
    while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string_view::npos) spec += format[i++];
    // Width and precision: at most 4 digits, so snprintf never pads for long.
    size_t digits = 0;
    while (i < format.size() && format[i] >= '0' && format[i] <= '9') spec += format[i++], ++digits;
    if (i < format.size() && format[i] == '.') {
      spec += format[i++];
      size_t prec = 0;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') spec += format[i++], ++prec;
      digits = std::max(digits, prec);
    }
    if (digits > 4 || spec.size() > 12) throw_unsupported("format width or precision too large");
    if (i >= format.size()) throw_error("incomplete format");
    char type = format[i];
    if (type == '%') {
      out.push_back('%');
      continue;
    }
    if (arg == nullptr) {
      if (next >= positional.size()) throw_error("not enough arguments for format string");
      arg = &positional[next++];
    }
    char buf[512];
    switch (type) {
      case 's':
      case 'r':
      case 'a': {
        std::string s = type == 's' ? python_str(*arg) : python_repr(*arg);
        std::string fmt = spec + "s";
        int width = std::snprintf(nullptr, 0, fmt.c_str(), s.c_str());
        if (width < 0) throw_error("bad format");
        ev.charge_string(static_cast<size_t>(width));
        std::string piece(static_cast<size_t>(width) + 1, '\0');
        std::snprintf(piece.data(), piece.size(), fmt.c_str(), s.c_str());
        piece.resize(static_cast<size_t>(width));
        out += piece;
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o':
      case 'c': {
        if (!arg->is_number()) throw_error(std::string("%") + type + " format: a number is required, not " + type_name(*arg));
        double d = arg->as_float();
        int64_t v = arg->is_integral() ? arg->as_int() : static_cast<int64_t>(std::trunc(std::isfinite(d) ? d : 0));
        if (type == 'c') {
          out.push_back(static_cast<char>(v & 0x7F));
          break;
        }
        char t = (type == 'i' || type == 'u') ? 'd' : type;
        std::snprintf(buf, sizeof buf, (spec + "ll" + t).c_str(), static_cast<long long>(v));
        out += buf;
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (!arg->is_number()) throw_error(std::string("must be real number, not ") + type_name(*arg));
        std::snprintf(buf, sizeof buf, (spec + type).c_str(), arg->as_float());
        out += buf;
        break;
      }
      default: throw_error(std::string("unsupported format character '") + type + "'");
    }
    ev.charge_string(out.size());
  }
  if (mapping == nullptr && next < positional.size()) {
    throw_error("not all arguments converted during string formatting");
  }
  return out;
}

}  // namespace ember::chat
