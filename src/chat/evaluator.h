// Evaluator: runs a parsed template for one render. Owns the render's state
// (scopes, output buffers, step/depth/size counters) and exposes the helpers
// filters, tests, methods and global functions need. Throws TemplateError;
// Template::render catches it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/ast.h"
#include "chat/objects.h"
#include "chat/render_options.h"
#include "chat/value.h"

namespace ember::chat {

class Evaluator {
 public:
  Evaluator(const RenderOptions& options, Arena& arena);
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  void set_global(std::string name, Value v) { globals_->set(name, std::move(v)); }
  // Runs the template; `locals` are its frame's locals (ScopeAnalysis).
  std::string render(const Body& body, const FrameLocals& locals);

  // For builtins.
  Arena& arena() { return arena_; }
  const RenderOptions& options() const { return options_; }
  Value make_string(std::string s);      // charges the string budget
  void charge_string(size_t bytes);      // before building a string of this size
  Value make_list(std::vector<Value> items, bool is_tuple = false);
  DictObject* make_dict() { return arena_.make_dict(); }
  void dict_set(DictObject* d, const Value& key, Value value);
  void tick(uint64_t steps = 1);

  Value get_attr(const Value& obj, std::string_view name);
  Value get_item(const Value& obj, const Value& key);
  std::vector<Value> iterate(const Value& v);
  Value call(const Value& callee, CallArgs& args);
  Value apply_filter(std::string_view name, const Value& input, CallArgs& args);
  bool apply_test(std::string_view name, const Value& input, CallArgs& args);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  struct DepthGuard {
    explicit DepthGuard(Evaluator& ev);
    ~DepthGuard() { --ev_.depth_; }
    Evaluator& ev_;
  };
  struct ScopeGuard {
    ScopeGuard(Evaluator& ev, Scope* s) : ev_(ev), saved_(ev.scope_) { ev.scope_ = s; }
    ~ScopeGuard() { ev_.scope_ = saved_; }
    Evaluator& ev_;
    Scope* saved_;
  };

  // Statements.
  Flow exec_body(const Body& body);
  Flow exec(const Stmt& s);
  Flow exec_inner(const Stmt& s);
  void exec_for(const ForStmt& f);
  std::string run_loop(const ForStmt& f, std::vector<Value> items, int depth, bool capture);
  std::string capture(const Body& body);
  void write(std::string_view text);
  void assign(const Target& t, const Value& v, Scope* scope);
  Scope* new_scope(Scope* parent);
  // A new frame's locals start undefined (shadowing outer names).
  void declare_locals(Scope* s, const FrameLocals& names);
  std::string capture_in_frame(const Body& body, const FrameLocals& locals);

  // Expressions.
  Value eval(const Expr& e);
  Value eval_inner(const Expr& e);
  Value lookup(const std::string& name);
  Value eval_call(const CallExpr& c);
  CallArgs eval_args(const CallArgsExpr& a);
  Value eval_filter(const FilterExpr& f);
  Value eval_slice(const Value& obj, const SliceExpr& s);
  Value call_macro(MacroObject& m, CallArgs& args);
  Value call_object(Object* o, CallArgs& args);
  Value loop_attr(LoopObject& loop, std::string_view name);

  const RenderOptions& options_;
  Arena& arena_;
  Scope* globals_;
  Scope* scope_;
  std::string* out_;
  size_t output_bytes_ = 0;
  size_t string_bytes_ = 0;
  uint64_t steps_ = 0;
  int depth_ = 0;
  int macro_depth_ = 0;
  const Value* block_input_ = nullptr;
  bool autoescape_ = false;  // inside {% autoescape true %}  // body text for {% filter %} / {% set x | f %}
};

// [[noreturn]] helper shared by evaluator and builtins: using an undefined
// value where a real one is needed ("'foo' is undefined").
[[noreturn]] void fail_undefined(const Value& v);

}  // namespace ember::chat
