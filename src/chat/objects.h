// The non-container objects templates can hold: variable scopes, namespace(),
// macros, the loop variable, builtin functions, bound methods, cycler() and
// joiner(). All are owned by the render's Arena (builtin functions are static).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/ast.h"
#include "chat/value.h"

namespace ember::chat {

class Evaluator;

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> named;

  const Value* find(std::string_view name) const {
    for (const auto& [k, v] : named) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

// One level of variables ({% for %} iteration, macro call, {% with %}, or
// the template's top level).
class Scope : public Object {
 public:
  explicit Scope(Scope* parent) : parent(parent) {}
  const char* type_name() const override { return "Scope"; }
  const Value* find_local(std::string_view name) const {
    for (const auto& [k, v] : vars) {
      if (k == name) return &v;
    }
    return nullptr;
  }
  void set(std::string_view name, Value v) {
    for (auto& [k, old] : vars) {
      if (k == name) {
        old = std::move(v);
        return;
      }
    }
    vars.emplace_back(std::string(name), std::move(v));
  }

  Scope* parent;
  std::vector<std::pair<std::string, Value>> vars;
  bool captured = false;  // a macro closes over it: do not reuse it
};

class NamespaceObject : public Object {
 public:
  const char* type_name() const override { return "Namespace"; }
  std::string repr(int depth) const override;
  DictObject attrs;
};

class MacroObject : public Object {
 public:
  MacroObject(const MacroStmt* node, Scope* closure) : node(node), closure(closure) {}
  const char* type_name() const override { return "Macro"; }
  std::string repr(int depth) const override { return "<Macro '" + node->name + "'>"; }
  bool is_callable() const override { return true; }
  const MacroStmt* node;
  Scope* closure;
};

class LoopObject : public Object {
 public:
  const char* type_name() const override { return "LoopContext"; }
  std::string repr(int depth) const override {
    return "<LoopContext " + std::to_string(index + 1) + "/" + std::to_string(items.size()) + ">";
  }
  bool is_callable() const override { return node->recursive; }

  std::vector<Value> items;
  size_t index = 0;
  int depth = 1;
  const ForStmt* node = nullptr;
  Scope* outer = nullptr;  // where the loop runs, for loop(...) recursion
  std::vector<Value> last_changed;
  bool changed_called = false;
};

using BuiltinFn = Value (*)(Evaluator&, CallArgs&);

class BuiltinFunction : public Object {
 public:
  BuiltinFunction(const char* name, BuiltinFn fn) : name(name), fn(fn) {}
  const char* type_name() const override { return "builtin_function_or_method"; }
  std::string repr(int) const override { return std::string("<built-in function ") + name + ">"; }
  bool is_callable() const override { return true; }
  const char* name;
  BuiltinFn fn;
};

// `"a,b".split` taken without calling it; calling runs the method.
class BoundMethod : public Object {
 public:
  BoundMethod(Value self, std::string name) : self(std::move(self)), name(std::move(name)) {}
  const char* type_name() const override { return "method"; }
  std::string repr(int) const override { return "<bound method " + name + ">"; }
  bool is_callable() const override { return true; }
  Value self;
  std::string name;
};

class CyclerObject : public Object {
 public:
  const char* type_name() const override { return "Cycler"; }
  std::vector<Value> items;
  size_t pos = 0;
};

class JoinerObject : public Object {
 public:
  const char* type_name() const override { return "Joiner"; }
  bool is_callable() const override { return true; }
  std::string sep;
  bool used = false;
};

}  // namespace ember::chat
