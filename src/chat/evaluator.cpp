// Statements, scopes, output and limits. Expressions are in evaluator_expr.cpp.
#include "chat/evaluator.h"

#include "chat/builtins.h"
#include "chat/template_error.h"
#include "chat/value_format.h"
#include "chat/value_ops.h"

namespace ember::chat {

void fail_undefined(const Value& v) {
  std::string_view hint = v.undefined_hint();
  throw_error(hint.empty() ? std::string("undefined value") : std::string(hint));
}

Evaluator::Evaluator(const RenderOptions& options, Arena& arena)
    : options_(options), arena_(arena), out_(nullptr) {
  globals_ = arena_.make<Scope>(nullptr);
  scope_ = arena_.make<Scope>(globals_);
}

Evaluator::DepthGuard::DepthGuard(Evaluator& ev) : ev_(ev) {
  if (++ev_.depth_ > ev_.options_.limits.max_depth) {
    --ev_.depth_;
    throw_limit("template evaluation nested more than " + std::to_string(ev_.options_.limits.max_depth) +
                " levels deep");
  }
}

void Evaluator::tick(uint64_t steps) {
  steps_ += steps;
  if (steps_ > options_.limits.max_steps) {
    throw_limit("template ran more than " + std::to_string(options_.limits.max_steps) + " steps");
  }
}

void Evaluator::charge_string(size_t bytes) {
  if (bytes > options_.limits.max_output_bytes) {
    throw_limit("template built a string of more than " + std::to_string(options_.limits.max_output_bytes) +
                " bytes");
  }
  string_bytes_ += bytes;
  if (string_bytes_ > options_.limits.max_string_bytes_total) {
    throw_limit("template built more than " + std::to_string(options_.limits.max_string_bytes_total) +
                " bytes of strings");
  }
}

Value Evaluator::make_string(std::string s) {
  charge_string(s.size());
  return Value::string(std::move(s));
}

Value Evaluator::make_list(std::vector<Value> items, bool is_tuple) {
  return Value::list(arena_.make_list(std::move(items), is_tuple));
}

void Evaluator::dict_set(DictObject* d, const Value& key, Value value) {
  arena_.charge(64);
  if (!d->set(key, std::move(value))) throw_error("unhashable type: '" + type_name(key) + "'");
}

Scope* Evaluator::new_scope(Scope* parent) { return arena_.make<Scope>(parent); }

void Evaluator::write(std::string_view text) {
  output_bytes_ += text.size();
  if (output_bytes_ > options_.limits.max_output_bytes) {
    throw_limit("template output exceeds " + std::to_string(options_.limits.max_output_bytes) + " bytes");
  }
  out_->append(text);
}

void Evaluator::declare_locals(Scope* s, const FrameLocals& names) {
  for (const std::string& name : names) s->set(name, Value::undefined("'" + name + "' is undefined"));
}

std::string Evaluator::capture_in_frame(const Body& body, const FrameLocals& locals) {
  Scope* inner = new_scope(scope_);
  declare_locals(inner, locals);
  ScopeGuard guard(*this, inner);
  return capture(body);
}

std::string Evaluator::render(const Body& body, const FrameLocals& locals) {
  declare_locals(scope_, locals);
  std::string out;
  out_ = &out;
  exec_body(body);
  out_ = nullptr;
  return out;
}

std::string Evaluator::capture(const Body& body) {
  std::string buf;
  std::string* saved = out_;
  out_ = &buf;
  try {
    exec_body(body);
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  return buf;
}

Evaluator::Flow Evaluator::exec_body(const Body& body) {
  for (const StmtPtr& s : body) {
    Flow f = exec(*s);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Evaluator::Flow Evaluator::exec(const Stmt& s) {
  DepthGuard guard(*this);
  tick();
  try {
    return exec_inner(s);
  } catch (TemplateError& e) {
    e.locate(s.line, s.column);
    throw;
  }
}

Evaluator::Flow Evaluator::exec_inner(const Stmt& s) {
  switch (s.kind) {
    case StmtKind::kText: write(static_cast<const TextStmt&>(s).text); return Flow::kNormal;
    case StmtKind::kPrint: {
      Value v = eval(*static_cast<const PrintStmt&>(s).expr);
      if (autoescape_ && !v.is_markup()) {
        write(html_escape(python_str(v)));
      } else if (v.is_string()) {
        write(v.as_string());
      } else {
        write(python_str(v));
      }
      return Flow::kNormal;
    }
    case StmtKind::kIf: {
      const auto& n = static_cast<const IfStmt&>(s);
      for (const auto& [test, body] : n.branches) {
        if (truthy(eval(*test))) return exec_body(body);
      }
      return exec_body(n.else_body);
    }
    case StmtKind::kFor: exec_for(static_cast<const ForStmt&>(s)); return Flow::kNormal;
    case StmtKind::kSet: {
      const auto& n = static_cast<const SetStmt&>(s);
      assign(n.target, eval(*n.value), scope_);
      return Flow::kNormal;
    }
    case StmtKind::kSetBlock: {
      const auto& n = static_cast<const SetBlockStmt&>(s);
      Value v = make_string(capture_in_frame(n.body, n.locals));
      if (n.filter) {
        const Value* saved = block_input_;
        block_input_ = &v;
        Value filtered = eval(*n.filter);
        block_input_ = saved;
        v = filtered;
      }
      assign(n.target, v, scope_);
      return Flow::kNormal;
    }
    case StmtKind::kMacro: {
      const auto& n = static_cast<const MacroStmt&>(s);
      scope_->captured = true;
      scope_->set(n.name, Value::object(arena_.make<MacroObject>(&n, scope_)));
      return Flow::kNormal;
    }
    case StmtKind::kCallBlock: {
      const auto& n = static_cast<const CallBlockStmt&>(s);
      scope_->captured = true;
      const auto& call = static_cast<const CallExpr&>(*n.call);
      Value callee = eval(*call.callee);
      CallArgs args = eval_args(call.args);
      args.named.emplace_back("caller", Value::object(arena_.make<MacroObject>(&n.caller, scope_)));
      Value v = this->call(callee, args);
      write(v.is_string() ? v.as_string() : python_str(v));
      return Flow::kNormal;
    }
    case StmtKind::kFilterBlock: {
      const auto& n = static_cast<const FilterBlockStmt&>(s);
      Value body = make_string(capture_in_frame(n.body, n.locals));
      const Value* saved = block_input_;
      block_input_ = &body;
      Value v = eval(*n.filter);
      block_input_ = saved;
      write(python_str(v));
      return Flow::kNormal;
    }
    case StmtKind::kWith: {
      const auto& n = static_cast<const WithStmt&>(s);
      Scope* inner = new_scope(scope_);
      declare_locals(inner, n.locals);
      for (const auto& [target, value] : n.assignments) assign(target, eval(*value), inner);
      ScopeGuard guard(*this, inner);
      return exec_body(n.body);
    }
    case StmtKind::kBreak: return Flow::kBreak;
    case StmtKind::kContinue: return Flow::kContinue;
    case StmtKind::kScope: {
      const auto& n = static_cast<const ScopeStmt&>(s);
      Scope* frame = scope_;
      if (n.new_frame) {
        frame = new_scope(scope_);
        declare_locals(frame, n.locals);
      }
      ScopeGuard frame_guard(*this, frame);
      if (!n.autoescape) return exec_body(n.body);
      bool saved = autoescape_;
      autoescape_ = truthy(eval(*n.autoescape));
      try {
        Flow f = exec_body(n.body);
        autoescape_ = saved;
        return f;
      } catch (...) {
        autoescape_ = saved;
        throw;
      }
    }
  }
  return Flow::kNormal;
}

void Evaluator::assign(const Target& t, const Value& v, Scope* scope) {
  switch (t.kind) {
    case Target::Kind::kName: scope->set(t.name, v); return;
    case Target::Kind::kNamespaceAttr: {
      Value ns = lookup(t.name);
      auto* n = ns.is_object() ? dynamic_cast<NamespaceObject*>(ns.as_object()) : nullptr;
      if (n == nullptr) throw_error("cannot assign attribute on non-namespace object '" + t.name + "'");
      arena_.charge(64);
      n->attrs.set(Value::string(t.attr), v);
      return;
    }
    case Target::Kind::kTuple: {
      if (!v.is_list() && !v.is_string() && !v.is_dict() && !v.is_undefined()) {
        throw_error("cannot unpack non-iterable " + type_name(v) + " object");
      }
      std::vector<Value> items = iterate(v);
      if (items.size() != t.items.size()) {
        if (items.size() > t.items.size()) {
          throw_error("too many values to unpack (expected " + std::to_string(t.items.size()) + ")");
        }
        throw_error("not enough values to unpack (expected " + std::to_string(t.items.size()) + ", got " +
                    std::to_string(items.size()) + ")");
      }
      for (size_t k = 0; k < items.size(); ++k) assign(t.items[k], items[k], scope);
      return;
    }
  }
}

void Evaluator::exec_for(const ForStmt& f) {
  Value iterable = eval(*f.iter);
  run_loop(f, iterate(iterable), 1, false);
}

std::string Evaluator::run_loop(const ForStmt& f, std::vector<Value> items, int depth, bool capture_output) {
  std::string buf;
  std::string* saved_out = out_;
  if (capture_output) out_ = &buf;
  Scope* outer = scope_;
  try {
    if (f.filter) {
      std::vector<Value> kept;
      Scope* probe = new_scope(outer);
      ScopeGuard guard(*this, probe);
      for (Value& item : items) {
        tick();
        probe->vars.clear();
        assign(f.target, item, probe);
        if (truthy(eval(*f.filter))) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    // jinja2 runs the else body unless some iteration reached the end of the
    // loop body (so also when every iteration hit continue, or the first broke).
    bool completed = false;
    if (!items.empty()) {
      arena_.charge(items.size() * sizeof(Value));
      LoopObject* loop = arena_.make<LoopObject>();
      loop->items = std::move(items);
      loop->node = &f;
      loop->depth = depth;
      loop->outer = outer;
      Scope* iteration = new_scope(outer);
      Value loop_value = Value::object(loop);
      for (size_t i = 0; i < loop->items.size(); ++i) {
        tick();
        if (iteration->captured) {
          iteration = new_scope(outer);
        } else {
          iteration->vars.clear();
        }
        loop->index = i;
        declare_locals(iteration, f.locals);
        iteration->set("loop", loop_value);
        assign(f.target, loop->items[i], iteration);
        ScopeGuard guard(*this, iteration);
        Flow flow = exec_body(f.body);
        if (flow == Flow::kBreak) break;
        if (flow == Flow::kNormal) completed = true;
      }
    }
    if (!completed && !f.else_body.empty()) {
      Scope* else_scope = new_scope(outer);
      declare_locals(else_scope, f.else_locals);
      ScopeGuard guard(*this, else_scope);
      exec_body(f.else_body);
    }
  } catch (...) {
    out_ = saved_out;
    scope_ = outer;
    throw;
  }
  out_ = saved_out;
  return buf;
}

}  // namespace ember::chat
