// ScopeAnalysis: jinja2 decides at compile time which names are local to
// each frame (template, loop body, macro, with / set / filter body) and how
// each starts out (jinja2's idtracking): a name first used at a level by an
// unconditional {% set %} (or macro definition) that no enclosing frame uses
// starts undefined, hiding same-named render variables and globals even
// from loops and macros that run before the set. Everything else is looked
// up outward, which the evaluator's scope chain already does. This pass
// fills in each frame's FrameLocals.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "chat/ast.h"

namespace ember::chat {

class ScopeAnalysis {
 public:
  // Annotates every frame under `root`; returns the template frame's locals.
  static FrameLocals analyze(Body& root);

 private:
  struct Frame {
    const Frame* parent = nullptr;
    std::set<std::string> refs;
    FrameLocals* locals = nullptr;
  };
  // A child frame, analyzed once its parent's references are all known.
  struct Child {
    std::vector<Body*> bodies;
    std::vector<const Expr*> exprs;  // evaluated inside the child frame
    std::vector<std::string> params;
    FrameLocals* locals;
  };

  static void analyze_frame(const Child& c, const Frame* parent);
  static void walk(Body& body, Frame& f, bool conditional, std::vector<Child>& children);
  static void load_names(const Expr* e, Frame& f);
  static void store_target(const Target& t, Frame& f, bool conditional);
  static void store(const std::string& name, Frame& f, bool conditional);
  static void target_names(const Target& t, std::vector<std::string>& out);
  // Every name read anywhere under `body`, nested frames included.
  static void all_loads(Body& body, Frame& f);
  static void mark_special_names(MacroStmt& m);
};

}  // namespace ember::chat
