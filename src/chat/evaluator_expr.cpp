// Expression evaluation: names, attribute/item access with jinja2's sandbox
// lookup rules, calls (macros, builtins, methods), filters and tests.
#include <algorithm>
#include <cstdint>

#include "chat/builtins.h"
#include "chat/evaluator.h"
#include "chat/template_error.h"
#include "chat/text_ops.h"
#include "chat/value_format.h"
#include "chat/value_ops.h"

namespace ember::chat {
namespace {

Value no_attribute(const Value& obj, std::string_view name) {
  return Value::undefined(object_description(obj) + " has no attribute '" + std::string(name) + "'");
}

Value no_element(const Value& obj, const Value& key) {
  return Value::undefined(object_description(obj) + " has no element " + python_repr(key));
}

// Python's slice.indices(): normalized start/stop for a sequence of length n.
void slice_bounds(int64_t n, const Value* start_v, const Value* stop_v, int64_t step, int64_t& start,
                  int64_t& stop) {
  auto clamp = [&](const Value* v, bool is_start) -> int64_t {
    if (v == nullptr) {
      if (step < 0) return is_start ? n - 1 : -1;
      return is_start ? 0 : n;
    }
    int64_t i = v->as_int();
    if (i < 0) {
      i += n;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  };
  start = clamp(start_v, true);
  stop = clamp(stop_v, false);
}

// Calls f(i) for each index of the slice, without overflowing on huge steps.
template <class F>
void for_each_slice_index(int64_t b, int64_t e, int64_t step, F f) {
  if (step == INT64_MIN) step = -INT64_MAX;
  for (int64_t i = b; step > 0 ? i < e : i > e;) {
    f(static_cast<size_t>(i));
    if (step > 0 ? (e - i <= step) : (i - e <= -step)) break;
    i += step;
  }
}

}  // namespace

Value Evaluator::eval(const Expr& e) {
  DepthGuard guard(*this);
  tick();
  try {
    return eval_inner(e);
  } catch (TemplateError& err) {
    err.locate(e.line, e.column);
    throw;
  }
}

Value Evaluator::lookup(const std::string& name) {
  for (Scope* s = scope_; s != nullptr; s = s->parent) {
    if (const Value* v = s->find_local(name)) return *v;
  }
  if (const BuiltinFunction* g = find_global(name)) return Value::object(const_cast<BuiltinFunction*>(g));
  return Value::undefined("'" + name + "' is undefined");
}

Value Evaluator::eval_inner(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kLiteral: return static_cast<const LiteralExpr&>(e).value;
    case ExprKind::kName: return lookup(static_cast<const NameExpr&>(e).name);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      const auto& l = static_cast<const ListExpr&>(e);
      std::vector<Value> items;
      items.reserve(l.items.size());
      for (const ExprPtr& item : l.items) items.push_back(eval(*item));
      return make_list(std::move(items), e.kind == ExprKind::kTuple);
    }
    case ExprKind::kDict: {
      const auto& d = static_cast<const DictExpr&>(e);
      DictObject* dict = make_dict();
      for (const auto& [k, v] : d.items) {
        Value key = eval(*k);
        dict_set(dict, key, eval(*v));
      }
      return Value::dict(dict);
    }
    case ExprKind::kGetAttr: {
      const auto& g = static_cast<const GetAttrExpr&>(e);
      return get_attr(eval(*g.object), g.name);
    }
    case ExprKind::kGetItem: {
      const auto& g = static_cast<const GetItemExpr&>(e);
      Value obj = eval(*g.object);
      if (g.index->kind == ExprKind::kSlice) return eval_slice(obj, static_cast<const SliceExpr&>(*g.index));
      return get_item(obj, eval(*g.index));
    }
    case ExprKind::kSlice: throw_error("slice outside of a subscript");
    case ExprKind::kCall: return eval_call(static_cast<const CallExpr&>(e));
    case ExprKind::kFilter: return eval_filter(static_cast<const FilterExpr&>(e));
    case ExprKind::kTest: {
      const auto& t = static_cast<const TestExpr&>(e);
      Value input = eval(*t.input);
      CallArgs args = eval_args(t.args);
      return Value::boolean(apply_test(t.name, input, args));
    }
    case ExprKind::kNeg: return negate(eval(*static_cast<const UnaryExpr&>(e).operand));
    case ExprKind::kPos: return unary_plus(eval(*static_cast<const UnaryExpr&>(e).operand));
    case ExprKind::kNot: return Value::boolean(!truthy(eval(*static_cast<const UnaryExpr&>(e).operand)));
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      Value left = eval(*b.left);
      Value right = eval(*b.right);
      return binary_op(*this, b.op, left, right);
    }
    case ExprKind::kConcat: {
      std::string out;
      for (const ExprPtr& part : static_cast<const ConcatExpr&>(e).parts) {
        Value v = eval(*part);
        if (v.is_string()) {
          charge_string(out.size() + v.as_string().size());
          out += v.as_string();
        } else {
          std::string s = python_str(v);
          charge_string(out.size() + s.size());
          out += s;
        }
      }
      return Value::string(std::move(out));
    }
    case ExprKind::kCompare: {
      const auto& c = static_cast<const CompareExpr&>(e);
      Value left = eval(*c.first);
      for (const auto& [op, expr] : c.rest) {
        Value right = eval(*expr);
        bool ok;
        if (op == CompareOp::kIn) {
          ok = contains(right, left);
        } else if (op == CompareOp::kNotIn) {
          ok = !contains(right, left);
        } else {
          ok = compare(op, left, right);
        }
        if (!ok) return Value::boolean(false);
        left = std::move(right);
      }
      return Value::boolean(true);
    }
    case ExprKind::kAnd: {
      const auto& l = static_cast<const LogicalExpr&>(e);
      Value left = eval(*l.left);
      if (!truthy(left)) return left;
      return eval(*l.right);
    }
    case ExprKind::kOr: {
      const auto& l = static_cast<const LogicalExpr&>(e);
      Value left = eval(*l.left);
      if (truthy(left)) return left;
      return eval(*l.right);
    }
    case ExprKind::kCondExpr: {
      const auto& c = static_cast<const CondExpr&>(e);
      if (truthy(eval(*c.test))) return eval(*c.then_expr);
      if (c.else_expr) return eval(*c.else_expr);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined");
    }
  }
  return Value();
}

Value Evaluator::get_attr(const Value& obj, std::string_view name) {
  switch (obj.kind()) {
    case ValueKind::kUndefined: fail_undefined(obj);
    case ValueKind::kDict: {
      if (is_dict_attribute(name)) return Value::object(arena_.make<BoundMethod>(obj, std::string(name)));
      if (const Value* v = obj.as_dict()->find(name)) return *v;
      return no_attribute(obj, name);
    }
    case ValueKind::kString:
    case ValueKind::kList:
      if (obj.is_list() && obj.as_list()->is_group && obj.as_list()->items.size() == 2) {
        if (name == "grouper") return obj.as_list()->items[0];
        if (name == "list") return obj.as_list()->items[1];
      }
      if (find_method(obj, name) != nullptr) return Value::object(arena_.make<BoundMethod>(obj, std::string(name)));
      return no_attribute(obj, name);
    case ValueKind::kObject: {
      Object* o = obj.as_object();
      if (auto* ns = dynamic_cast<NamespaceObject*>(o)) {
        if (const Value* v = ns->attrs.find(name)) return *v;
        return no_attribute(obj, name);
      }
      if (auto* loop = dynamic_cast<LoopObject*>(o)) return loop_attr(*loop, name);
      if (auto* cyc = dynamic_cast<CyclerObject*>(o)) {
        if (name == "current") return cyc->items.empty() ? Value::none() : cyc->items[cyc->pos];
        if (name == "next" || name == "reset") return Value::object(arena_.make<BoundMethod>(obj, std::string(name)));
      }
      return no_attribute(obj, name);
    }
    default: return no_attribute(obj, name);
  }
}

Value Evaluator::loop_attr(LoopObject& loop, std::string_view name) {
  const int64_t n = static_cast<int64_t>(loop.items.size());
  const int64_t i = static_cast<int64_t>(loop.index);
  if (name == "index") return Value::integer(i + 1);
  if (name == "index0") return Value::integer(i);
  if (name == "revindex") return Value::integer(n - i);
  if (name == "revindex0") return Value::integer(n - i - 1);
  if (name == "first") return Value::boolean(i == 0);
  if (name == "last") return Value::boolean(i == n - 1);
  if (name == "length") return Value::integer(n);
  if (name == "depth") return Value::integer(loop.depth);
  if (name == "depth0") return Value::integer(loop.depth - 1);
  if (name == "previtem") {
    if (i == 0) return Value::undefined("there is no previous item");
    return loop.items[loop.index - 1];
  }
  if (name == "nextitem") {
    if (i + 1 >= n) return Value::undefined("there is no next item");
    return loop.items[loop.index + 1];
  }
  if (name == "cycle" || name == "changed") {
    return Value::object(arena_.make<BoundMethod>(Value::object(&loop), std::string(name)));
  }
  return Value::undefined("'LoopContext object' has no attribute '" + std::string(name) + "'");
}

Value Evaluator::get_item(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case ValueKind::kUndefined: fail_undefined(obj);
    case ValueKind::kDict: {
      if (const Value* v = obj.as_dict()->find(key)) return *v;
      if (key.is_string() && is_dict_attribute(key.as_string())) {
        return Value::object(arena_.make<BoundMethod>(obj, key.as_string()));
      }
      if (!key.is_string() && !DictObject::key_of(key)) return Value::undefined("unhashable key");
      return key.is_string() ? no_attribute(obj, key.as_string()) : no_element(obj, key);
    }
    case ValueKind::kList: {
      if (key.is_integral()) {
        const auto& items = obj.as_list()->items;
        int64_t i = key.as_int();
        int64_t n = static_cast<int64_t>(items.size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return no_element(obj, key);
        return items[static_cast<size_t>(i)];
      }
      if (key.is_string()) return get_attr(obj, key.as_string());
      return no_element(obj, key);
    }
    case ValueKind::kString: {
      if (key.is_integral()) {
        const std::string& s = obj.as_string();
        int64_t i = key.as_int();
        if (text::is_ascii(s)) {
          int64_t n = static_cast<int64_t>(s.size());
          if (i < 0) i += n;
          if (i < 0 || i >= n) return no_element(obj, key);
          return make_string(std::string(1, s[static_cast<size_t>(i)]));
        }
        std::vector<uint32_t> cps = text::code_points(s);
        int64_t n = static_cast<int64_t>(cps.size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return no_element(obj, key);
        return make_string(text::from_code_points(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
      }
      if (key.is_string()) return get_attr(obj, key.as_string());
      return no_element(obj, key);
    }
    case ValueKind::kObject:
      if (key.is_string()) return get_attr(obj, key.as_string());
      return no_element(obj, key);
    default: return no_element(obj, key);
  }
}

Value Evaluator::eval_slice(const Value& obj, const SliceExpr& s) {
  Value start, stop, step;
  if (s.start) start = eval(*s.start);
  if (s.stop) stop = eval(*s.stop);
  if (s.step) step = eval(*s.step);
  if (obj.is_undefined()) fail_undefined(obj);
  auto bound = [](const Value& v) { return v.is_undefined() || v.is_none() || v.is_integral(); };
  if (!bound(start) || !bound(stop) || !bound(step)) {
    return Value::undefined("slice indices must be integers or None");
  }
  int64_t st = (step.is_integral()) ? step.as_int() : 1;
  if (st == 0) throw_error("slice step cannot be zero");
  auto ptr = [](const Value& v) -> const Value* { return v.is_integral() ? &v : nullptr; };
  if (obj.is_list()) {
    const auto& items = obj.as_list()->items;
    int64_t b, e;
    slice_bounds(static_cast<int64_t>(items.size()), ptr(start), ptr(stop), st, b, e);
    std::vector<Value> out;
    for_each_slice_index(b, e, st, [&](size_t i) { out.push_back(items[i]); });
    return make_list(std::move(out), obj.as_list()->is_tuple);
  }
  if (obj.is_string()) {
    std::vector<uint32_t> cps = text::code_points(obj.as_string());
    int64_t b, e;
    slice_bounds(static_cast<int64_t>(cps.size()), ptr(start), ptr(stop), st, b, e);
    std::string out;
    for_each_slice_index(b, e, st, [&](size_t i) { text::append_utf8(out, cps[i]); });
    return make_string(std::move(out));
  }
  return Value::undefined(object_description(obj) + " cannot be sliced");
}

std::vector<Value> Evaluator::iterate(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return {};
    case ValueKind::kList: return v.as_list()->items;
    case ValueKind::kDict: {
      std::vector<Value> keys;
      keys.reserve(v.as_dict()->size());
      for (const auto& entry : v.as_dict()->entries()) keys.push_back(entry.first);
      return keys;
    }
    case ValueKind::kString: {
      std::vector<Value> out;
      const std::string& s = v.as_string();
      charge_string(s.size());
      arena_.charge(s.size() * sizeof(Value));
      for (size_t i = 0; i < s.size();) {
        size_t start = i;
        text::decode(s, i);
        out.push_back(Value::string(s.substr(start, i - start)));
      }
      return out;
    }
    case ValueKind::kObject:
      if (auto* loop = dynamic_cast<LoopObject*>(v.as_object())) return loop->items;
      [[fallthrough]];
    default: throw_error("'" + type_name(v) + "' object is not iterable");
  }
}

CallArgs Evaluator::eval_args(const CallArgsExpr& a) {
  CallArgs args;
  args.positional.reserve(a.positional.size());
  for (const ExprPtr& p : a.positional) args.positional.push_back(eval(*p));
  if (a.star_args) {
    for (Value& v : iterate(eval(*a.star_args))) args.positional.push_back(std::move(v));
  }
  for (const auto& [name, expr] : a.keyword) args.named.emplace_back(name, eval(*expr));
  if (a.star_kwargs) {
    Value kw = eval(*a.star_kwargs);
    if (!kw.is_dict()) throw_error("argument after ** must be a mapping, not " + type_name(kw));
    for (const auto& [k, v] : kw.as_dict()->entries()) {
      if (!k.is_string()) throw_error("keywords must be strings");
      args.named.emplace_back(k.as_string(), v);
    }
  }
  return args;
}

Value Evaluator::eval_call(const CallExpr& c) {
  if (c.callee->kind == ExprKind::kGetAttr) {
    const auto& g = static_cast<const GetAttrExpr&>(*c.callee);
    Value self = eval(*g.object);
    if (self.is_string() || self.is_list() || (self.is_dict() && is_dict_attribute(g.name))) {
      if (MethodFn m = find_method(self, g.name)) {
        CallArgs args = eval_args(c.args);
        return m(*this, self, args);
      }
    }
    Value callee = get_attr(self, g.name);
    CallArgs args = eval_args(c.args);
    return call(callee, args);
  }
  Value callee = eval(*c.callee);
  CallArgs args = eval_args(c.args);
  return call(callee, args);
}

Value Evaluator::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) fail_undefined(callee);
  if (!callee.is_object()) throw_error("'" + type_name(callee) + "' object is not callable");
  return call_object(callee.as_object(), args);
}

Value Evaluator::call_object(Object* o, CallArgs& args) {
  if (auto* m = dynamic_cast<MacroObject*>(o)) return call_macro(*m, args);
  if (auto* b = dynamic_cast<BuiltinFunction*>(o)) return b->fn(*this, args);
  if (auto* bm = dynamic_cast<BoundMethod*>(o)) {
    if (bm->self.is_object()) return call_object_method(*this, bm->self.as_object(), bm->name, args);
    MethodFn fn = find_method(bm->self, bm->name);
    if (fn == nullptr) throw_unsupported("method '" + bm->name + "' of " + type_name(bm->self) + " is not supported");
    return fn(*this, bm->self, args);
  }
  if (auto* loop = dynamic_cast<LoopObject*>(o)) {
    if (!loop->node->recursive) throw_error("'LoopContext' object is not callable (the loop is not recursive)");
    if (args.positional.size() != 1 || !args.named.empty()) throw_error("loop() takes exactly one argument");
    Value items = args.positional[0];
    ScopeGuard guard(*this, loop->outer);
    return make_string(run_loop(*loop->node, iterate(items), loop->depth + 1, true));
  }
  if (auto* j = dynamic_cast<JoinerObject*>(o)) {
    if (!j->used) {
      j->used = true;
      return Value::string(std::string());
    }
    return Value::string(j->sep);
  }
  throw_error(std::string("'") + o->type_name() + "' object is not callable");
}

Value Evaluator::call_macro(MacroObject& m, CallArgs& args) {
  if (++macro_depth_ > options_.limits.max_macro_depth) {
    --macro_depth_;
    throw_limit("macro calls nested more than " + std::to_string(options_.limits.max_macro_depth) + " deep");
  }
  struct Unwind {
    int& d;
    ~Unwind() { --d; }
  } unwind{macro_depth_};
  const MacroStmt& node = *m.node;
  Scope* s = new_scope(m.closure);
  ScopeGuard guard(*this, s);
  std::vector<bool> used(args.named.size(), false);
  for (size_t i = 0; i < node.params.size(); ++i) {
    const MacroParam& p = node.params[i];
    const Value* named = nullptr;
    for (size_t k = 0; k < args.named.size(); ++k) {
      if (args.named[k].first == p.name) {
        named = &args.named[k].second;
        used[k] = true;
      }
    }
    if (i < args.positional.size()) {
      if (named != nullptr) throw_error("macro '" + node.name + "' got multiple values for argument '" + p.name + "'");
      s->set(p.name, args.positional[i]);
    } else if (named != nullptr) {
      s->set(p.name, *named);
    } else if (p.default_value) {
      s->set(p.name, eval(*p.default_value));
    } else {
      s->set(p.name, Value::undefined("parameter '" + p.name + "' was not provided"));
    }
  }
  if (args.positional.size() > node.params.size()) {
    if (!node.catch_varargs) {
      throw_error("macro '" + node.name + "' takes not more than " + std::to_string(node.params.size()) +
                  " argument(s)");
    }
    std::vector<Value> extra(args.positional.begin() + static_cast<std::ptrdiff_t>(node.params.size()),
                             args.positional.end());
    s->set("varargs", make_list(std::move(extra), true));
  } else if (node.catch_varargs) {
    s->set("varargs", make_list({}, true));
  }
  DictObject* kwargs = node.catch_kwargs ? make_dict() : nullptr;
  bool have_caller = false;
  for (size_t k = 0; k < args.named.size(); ++k) {
    if (used[k]) continue;
    const std::string& name = args.named[k].first;
    if (name == "caller" && node.uses_caller) {
      s->set("caller", args.named[k].second);
      have_caller = true;
    } else if (kwargs != nullptr) {
      dict_set(kwargs, Value::string(name), args.named[k].second);
    } else if (name == "caller") {
      throw_error("macro '" + node.name +
                  "' was invoked with two values for the special caller argument. This is most likely a bug.");
    } else {
      throw_error("macro '" + node.name + "' takes no keyword argument '" + name + "'");
    }
  }
  if (node.uses_caller && !have_caller) s->set("caller", Value::undefined("No caller defined"));
  if (kwargs != nullptr) s->set("kwargs", Value::dict(kwargs));
  declare_locals(s, node.locals);
  return make_string(capture(node.body));
}

Value Evaluator::eval_filter(const FilterExpr& f) {
  Value input;
  if (f.input) {
    input = eval(*f.input);
  } else if (block_input_ != nullptr) {
    input = *block_input_;
  }
  CallArgs args = eval_args(f.args);
  return apply_filter(f.name, input, args);
}

Value Evaluator::apply_filter(std::string_view name, const Value& input, CallArgs& args) {
  FilterFn fn = find_filter(name);
  if (fn == nullptr) throw_error("unknown filter '" + std::string(name) + "'");
  return fn(*this, input, args);
}

bool Evaluator::apply_test(std::string_view name, const Value& input, CallArgs& args) {
  TestFn fn = find_test(name);
  if (fn == nullptr) throw_error("unknown test '" + std::string(name) + "'");
  return fn(*this, input, args);
}

}  // namespace ember::chat
