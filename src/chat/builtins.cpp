// ArgReader, the global functions and the methods of loop / cycler objects.
#include "chat/builtins.h"

#include <ctime>

#include "chat/evaluator.h"
#include "chat/template_error.h"
#include "chat/value_format.h"
#include "chat/value_ops.h"

namespace ember::chat {

ArgReader::ArgReader(const CallArgs& args, std::string_view function,
                     std::initializer_list<std::string_view> params)
    : function_(function), params_(params), bound_(params.size(), nullptr) {
  if (args.positional.size() > params_.size()) {
    throw_error(std::string(function) + "() takes at most " + std::to_string(params_.size()) +
                " argument(s) (" + std::to_string(args.positional.size()) + " given)");
  }
  for (size_t i = 0; i < args.positional.size(); ++i) bound_[i] = &args.positional[i];
  for (const auto& [name, value] : args.named) {
    size_t k = 0;
    while (k < params_.size() && params_[k] != name) ++k;
    if (k == params_.size()) {
      throw_error(std::string(function) + "() got an unexpected keyword argument '" + name + "'");
    }
    if (bound_[k] != nullptr) {
      throw_error(std::string(function) + "() got multiple values for argument '" + name + "'");
    }
    bound_[k] = &value;
  }
}

int64_t ArgReader::get_int(size_t index, int64_t fallback) const {
  const Value* v = get(index);
  if (v == nullptr || v->is_none()) return fallback;
  if (!v->is_integral()) {
    throw_error(std::string(function_) + "(): '" + std::string(params_[index]) +
                "' must be an integer, not " + type_name(*v));
  }
  return v->as_int();
}

std::string ArgReader::get_string(size_t index, std::string fallback) const {
  const Value* v = get(index);
  if (v == nullptr) return fallback;
  return python_str(*v);
}

bool ArgReader::get_bool(size_t index, bool fallback) const {
  const Value* v = get(index);
  return v == nullptr ? fallback : truthy(*v);
}

namespace {

Value fn_range(Evaluator& ev, CallArgs& args) {
  if (!args.named.empty()) throw_error("range() takes no keyword arguments");
  size_t n = args.positional.size();
  if (n < 1 || n > 3) throw_error("range expected 1 to 3 arguments, got " + std::to_string(n));
  for (const Value& v : args.positional) {
    if (!v.is_integral()) throw_error("'" + type_name(v) + "' object cannot be interpreted as an integer");
  }
  int64_t start = 0, stop = 0, step = 1;
  if (n == 1) {
    stop = args.positional[0].as_int();
  } else {
    start = args.positional[0].as_int();
    stop = args.positional[1].as_int();
    if (n == 3) step = args.positional[2].as_int();
  }
  if (step == 0) throw_error("range() arg 3 must not be zero");
  // Count without overflow: work in long double-free unsigned arithmetic.
  uint64_t count = 0;
  if (step > 0 && start < stop) {
    count = (static_cast<uint64_t>(stop) - static_cast<uint64_t>(start) - 1) / static_cast<uint64_t>(step) + 1;
  } else if (step < 0 && start > stop) {
    uint64_t mag = step == INT64_MIN ? (1ull << 63) : static_cast<uint64_t>(-step);
    count = (static_cast<uint64_t>(start) - static_cast<uint64_t>(stop) - 1) / mag + 1;
  }
  if (count > static_cast<uint64_t>(ev.options().limits.max_range)) {
    throw_limit("range too big: the sandbox allows at most " + std::to_string(ev.options().limits.max_range) +
                " items");
  }
  ev.tick(count);
  std::vector<Value> items;
  items.reserve(count);
  int64_t v = start;
  for (uint64_t k = 0; k < count; ++k) {
    items.push_back(Value::integer(v));
    if (k + 1 < count) v += step;
  }
  return ev.make_list(std::move(items));
}

// dict(mapping_or_pairs, **kwargs) into `d`.
void fill_dict(Evaluator& ev, DictObject* d, CallArgs& args, const char* fn) {
  if (args.positional.size() > 1) throw_error(std::string(fn) + " expected at most 1 argument");
  if (!args.positional.empty()) {
    const Value& src = args.positional[0];
    if (src.is_dict()) {
      for (const auto& [k, v] : src.as_dict()->entries()) ev.dict_set(d, k, v);
    } else {
      for (const Value& pair : ev.iterate(src)) {
        std::vector<Value> kv = ev.iterate(pair);
        if (kv.size() != 2) throw_error("dictionary update sequence element has length " + std::to_string(kv.size()) + "; 2 is required");
        ev.dict_set(d, kv[0], kv[1]);
      }
    }
  }
  for (const auto& [k, v] : args.named) ev.dict_set(d, Value::string(k), v);
}

Value fn_dict(Evaluator& ev, CallArgs& args) {
  DictObject* d = ev.make_dict();
  fill_dict(ev, d, args, "dict");
  return Value::dict(d);
}

Value fn_namespace(Evaluator& ev, CallArgs& args) {
  auto* ns = ev.arena().make<NamespaceObject>();
  fill_dict(ev, &ns->attrs, args, "namespace");
  return Value::object(ns);
}

Value fn_raise_exception(Evaluator& ev, CallArgs& args) {
  std::string msg = args.positional.empty() ? std::string() : python_str(args.positional[0]);
  throw_error("raise_exception: " + msg);
}

Value fn_strftime_now(Evaluator& ev, CallArgs& args) {
  ArgReader a(args, "strftime_now", {"format"});
  if (!a.has(0) || !a.get(0)->is_string()) throw_error("strftime_now() needs a format string");
  const std::string& format = a.get(0)->as_string();
  if (format.size() > 1024) throw_error("strftime_now() format too long");
  std::time_t now = ev.options().now ? *ev.options().now : std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  if (format.empty()) return Value::string(std::string());
  for (size_t size = 256; size <= 65536; size *= 4) {
    std::string buf(size, '\0');
    size_t n = std::strftime(buf.data(), buf.size(), format.c_str(), &tm);
    if (n > 0) {
      buf.resize(n);
      return ev.make_string(std::move(buf));
    }
  }
  return Value::string(std::string());
}

Value fn_cycler(Evaluator& ev, CallArgs& args) {
  if (args.positional.empty()) throw_error("at least one item has to be provided");
  auto* c = ev.arena().make<CyclerObject>();
  c->items = args.positional;
  return Value::object(c);
}

Value fn_joiner(Evaluator& ev, CallArgs& args) {
  ArgReader a(args, "joiner", {"sep"});
  auto* j = ev.arena().make<JoinerObject>();
  j->sep = a.get_string(0, ", ");
  return Value::object(j);
}

const BuiltinFunction kGlobals[] = {
    {"range", fn_range},
    {"dict", fn_dict},
    {"namespace", fn_namespace},
    {"raise_exception", fn_raise_exception},
    {"strftime_now", fn_strftime_now},
    {"cycler", fn_cycler},
    {"joiner", fn_joiner},
};

}  // namespace

const BuiltinFunction* find_global(std::string_view name) {
  for (const BuiltinFunction& g : kGlobals) {
    if (name == g.name) return &g;
  }
  return nullptr;
}

Value call_object_method(Evaluator& ev, Object* self, std::string_view name, CallArgs& args) {
  if (auto* loop = dynamic_cast<LoopObject*>(self)) {
    if (name == "cycle") {
      if (args.positional.empty()) throw_error("no items for cycling given");
      return args.positional[loop->index % args.positional.size()];
    }
    if (name == "changed") {
      bool changed = !loop->changed_called || loop->last_changed.size() != args.positional.size();
      for (size_t k = 0; !changed && k < args.positional.size(); ++k) {
        changed = !equals(loop->last_changed[k], args.positional[k]);
      }
      loop->changed_called = true;
      if (changed) loop->last_changed = args.positional;
      return Value::boolean(changed);
    }
  }
  if (auto* c = dynamic_cast<CyclerObject*>(self)) {
    if (name == "next") {
      Value v = c->items[c->pos];
      c->pos = (c->pos + 1) % c->items.size();
      return v;
    }
    if (name == "reset") {
      c->pos = 0;
      return Value::none();
    }
  }
  throw_error("'" + std::string(self->type_name()) + "' object has no method '" + std::string(name) + "'");
}

}  // namespace ember::chat
