#include "chat/scope_analysis.h"

namespace ember::chat {

FrameLocals ScopeAnalysis::analyze(Body& root) {
  FrameLocals locals;
  analyze_frame(Child{{&root}, {}, {}, &locals}, nullptr);
  return locals;
}

void ScopeAnalysis::analyze_frame(const Child& c, const Frame* parent) {
  Frame f;
  f.parent = parent;
  f.locals = c.locals;
  for (const std::string& p : c.params) f.refs.insert(p);
  for (const Expr* e : c.exprs) load_names(e, f);
  std::vector<Child> children;
  for (Body* b : c.bodies) walk(*b, f, false, children);
  for (const Child& child : children) analyze_frame(child, &f);
}

void ScopeAnalysis::target_names(const Target& t, std::vector<std::string>& out) {
  if (t.kind == Target::Kind::kName) out.push_back(t.name);
  for (const Target& item : t.items) target_names(item, out);
}

void ScopeAnalysis::store(const std::string& name, Frame& f, bool conditional) {
  if (!f.refs.insert(name).second) return;
  if (conditional) return;  // jinja2 resolves names first set inside an if from outside
  for (const Frame* p = f.parent; p != nullptr; p = p->parent) {
    if (p->refs.count(name) != 0) return;  // aliases the enclosing frame's variable
  }
  f.locals->push_back(name);
}

void ScopeAnalysis::store_target(const Target& t, Frame& f, bool conditional) {
  switch (t.kind) {
    case Target::Kind::kName: store(t.name, f, conditional); return;
    case Target::Kind::kNamespaceAttr: f.refs.insert(t.name); return;  // a load of the namespace
    case Target::Kind::kTuple:
      for (const Target& item : t.items) store_target(item, f, conditional);
      return;
  }
}

void ScopeAnalysis::load_names(const Expr* e, Frame& f) {
  if (e == nullptr) return;
  auto args = [&](const CallArgsExpr& a) {
    for (const ExprPtr& p : a.positional) load_names(p.get(), f);
    for (const auto& kw : a.keyword) load_names(kw.second.get(), f);
    load_names(a.star_args.get(), f);
    load_names(a.star_kwargs.get(), f);
  };
  switch (e->kind) {
    case ExprKind::kLiteral: return;
    case ExprKind::kName: f.refs.insert(static_cast<const NameExpr*>(e)->name); return;
    case ExprKind::kList:
    case ExprKind::kTuple:
      for (const ExprPtr& item : static_cast<const ListExpr*>(e)->items) load_names(item.get(), f);
      return;
    case ExprKind::kDict:
      for (const auto& [k, v] : static_cast<const DictExpr*>(e)->items) {
        load_names(k.get(), f);
        load_names(v.get(), f);
      }
      return;
    case ExprKind::kGetAttr: load_names(static_cast<const GetAttrExpr*>(e)->object.get(), f); return;
    case ExprKind::kGetItem: {
      const auto* g = static_cast<const GetItemExpr*>(e);
      load_names(g->object.get(), f);
      load_names(g->index.get(), f);
      return;
    }
    case ExprKind::kSlice: {
      const auto* s = static_cast<const SliceExpr*>(e);
      load_names(s->start.get(), f);
      load_names(s->stop.get(), f);
      load_names(s->step.get(), f);
      return;
    }
    case ExprKind::kCall: {
      const auto* c = static_cast<const CallExpr*>(e);
      load_names(c->callee.get(), f);
      args(c->args);
      return;
    }
    case ExprKind::kFilter: {
      const auto* c = static_cast<const FilterExpr*>(e);
      load_names(c->input.get(), f);
      args(c->args);
      return;
    }
    case ExprKind::kTest: {
      const auto* c = static_cast<const TestExpr*>(e);
      load_names(c->input.get(), f);
      args(c->args);
      return;
    }
    case ExprKind::kNeg:
    case ExprKind::kPos:
    case ExprKind::kNot: load_names(static_cast<const UnaryExpr*>(e)->operand.get(), f); return;
    case ExprKind::kBinary: {
      const auto* b = static_cast<const BinaryExpr*>(e);
      load_names(b->left.get(), f);
      load_names(b->right.get(), f);
      return;
    }
    case ExprKind::kConcat:
      for (const ExprPtr& p : static_cast<const ConcatExpr*>(e)->parts) load_names(p.get(), f);
      return;
    case ExprKind::kCompare: {
      const auto* c = static_cast<const CompareExpr*>(e);
      load_names(c->first.get(), f);
      for (const auto& r : c->rest) load_names(r.second.get(), f);
      return;
    }
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      const auto* l = static_cast<const LogicalExpr*>(e);
      load_names(l->left.get(), f);
      load_names(l->right.get(), f);
      return;
    }
    case ExprKind::kCondExpr: {
      const auto* c = static_cast<const CondExpr*>(e);
      load_names(c->test.get(), f);
      load_names(c->then_expr.get(), f);
      load_names(c->else_expr.get(), f);
      return;
    }
  }
}

void ScopeAnalysis::all_loads(Body& body, Frame& f) {
  std::vector<Child> children;
  walk(body, f, true, children);
  for (const Child& c : children) {
    for (const Expr* e : c.exprs) load_names(e, f);
    for (Body* b : c.bodies) all_loads(*b, f);
  }
}

void ScopeAnalysis::mark_special_names(MacroStmt& m) {
  Frame f;
  FrameLocals unused;
  f.locals = &unused;
  all_loads(m.body, f);
  m.catch_varargs = f.refs.count("varargs") != 0;
  m.catch_kwargs = f.refs.count("kwargs") != 0;
  m.uses_caller = f.refs.count("caller") != 0;
}

void ScopeAnalysis::walk(Body& body, Frame& f, bool conditional, std::vector<Child>& children) {
  for (StmtPtr& sp : body) {
    Stmt& s = *sp;
    switch (s.kind) {
      case StmtKind::kText:
      case StmtKind::kBreak:
      case StmtKind::kContinue: break;
      case StmtKind::kPrint: load_names(static_cast<PrintStmt&>(s).expr.get(), f); break;
      case StmtKind::kIf: {
        auto& n = static_cast<IfStmt&>(s);
        for (auto& [test, branch] : n.branches) {
          load_names(test.get(), f);
          walk(branch, f, true, children);
        }
        walk(n.else_body, f, true, children);
        break;
      }
      case StmtKind::kSet: {
        auto& n = static_cast<SetStmt&>(s);
        load_names(n.value.get(), f);
        store_target(n.target, f, conditional);
        break;
      }
      case StmtKind::kSetBlock: {
        auto& n = static_cast<SetBlockStmt&>(s);
        store_target(n.target, f, conditional);
        children.push_back(Child{{&n.body}, {n.filter.get()}, {}, &n.locals});
        break;
      }
      case StmtKind::kFor: {
        auto& n = static_cast<ForStmt&>(s);
        load_names(n.iter.get(), f);
        Child body{{&n.body}, {n.filter.get()}, {"loop"}, &n.locals};
        target_names(n.target, body.params);
        children.push_back(std::move(body));
        children.push_back(Child{{&n.else_body}, {}, {}, &n.else_locals});
        break;
      }
      case StmtKind::kMacro: {
        auto& n = static_cast<MacroStmt&>(s);
        mark_special_names(n);
        store(n.name, f, conditional);
        Child body{{&n.body}, {}, {"varargs", "kwargs", "caller"}, &n.locals};
        for (const MacroParam& p : n.params) {
          body.params.push_back(p.name);
          body.exprs.push_back(p.default_value.get());
        }
        children.push_back(std::move(body));
        break;
      }
      case StmtKind::kCallBlock: {
        auto& n = static_cast<CallBlockStmt&>(s);
        mark_special_names(n.caller);
        load_names(n.call.get(), f);
        Child body{{&n.caller.body}, {}, {"varargs", "kwargs"}, &n.caller.locals};
        for (const MacroParam& p : n.caller.params) {
          body.params.push_back(p.name);
          body.exprs.push_back(p.default_value.get());
        }
        children.push_back(std::move(body));
        break;
      }
      case StmtKind::kFilterBlock: {
        auto& n = static_cast<FilterBlockStmt&>(s);
        load_names(n.filter.get(), f);
        children.push_back(Child{{&n.body}, {}, {}, &n.locals});
        break;
      }
      case StmtKind::kWith: {
        auto& n = static_cast<WithStmt&>(s);
        Child body{{&n.body}, {}, {}, &n.locals};
        for (auto& [target, value] : n.assignments) {
          load_names(value.get(), f);
          target_names(target, body.params);
        }
        children.push_back(std::move(body));
        break;
      }
      case StmtKind::kScope: {
        auto& n = static_cast<ScopeStmt&>(s);
        load_names(n.autoescape.get(), f);
        if (n.new_frame) {
          children.push_back(Child{{&n.body}, {}, {}, &n.locals});
        } else {
          walk(n.body, f, conditional, children);
        }
        break;
      }
    }
  }
}

}  // namespace ember::chat
