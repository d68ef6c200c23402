// The syntax tree the parser builds and the evaluator walks. Immutable after
// parsing, so one compiled template can be rendered from many threads.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/value.h"

namespace ember::chat {

struct Node {
  int line = 0;
  int column = 0;
};

enum class ExprKind : uint8_t {
  kLiteral,    // none / bool / int / float / str
  kName,
  kList,
  kTuple,
  kDict,
  kGetAttr,    // a.b
  kGetItem,    // a[b]
  kSlice,      // a[b:c:d] (only as GetItem's index)
  kCall,
  kFilter,     // a | f(...)
  kTest,       // a is t(...)
  kNeg,
  kPos,
  kNot,
  kBinary,     // + - * / // % **
  kConcat,     // a ~ b ~ c
  kCompare,    // a < b == c, in, not in (chained)
  kAnd,
  kOr,
  kCondExpr,   // a if c else b
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr : Node {
  explicit Expr(ExprKind k) : kind(k) {}
  virtual ~Expr() = default;
  ExprKind kind;
};

struct LiteralExpr : Expr {
  LiteralExpr() : Expr(ExprKind::kLiteral) {}
  Value value;  // never a list/dict/object (those live in a render's arena)
};

struct NameExpr : Expr {
  NameExpr() : Expr(ExprKind::kName) {}
  std::string name;
};

struct ListExpr : Expr {  // also tuples (kind kTuple)
  explicit ListExpr(ExprKind k) : Expr(k) {}
  std::vector<ExprPtr> items;
};

struct DictExpr : Expr {
  DictExpr() : Expr(ExprKind::kDict) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

struct GetAttrExpr : Expr {
  GetAttrExpr() : Expr(ExprKind::kGetAttr) {}
  ExprPtr object;
  std::string name;
};

struct GetItemExpr : Expr {
  GetItemExpr() : Expr(ExprKind::kGetItem) {}
  ExprPtr object;
  ExprPtr index;  // may be a SliceExpr
};

struct SliceExpr : Expr {
  SliceExpr() : Expr(ExprKind::kSlice) {}
  ExprPtr start, stop, step;  // each may be null
};

struct CallArgsExpr {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
  ExprPtr star_args;    // *args
  ExprPtr star_kwargs;  // **kwargs
};

struct CallExpr : Expr {
  CallExpr() : Expr(ExprKind::kCall) {}
  ExprPtr callee;
  CallArgsExpr args;
};

struct FilterExpr : Expr {
  FilterExpr() : Expr(ExprKind::kFilter) {}
  ExprPtr input;  // null in a {% filter %} block or {% set x | f %}: the body
  std::string name;
  CallArgsExpr args;
};

struct TestExpr : Expr {
  TestExpr() : Expr(ExprKind::kTest) {}
  ExprPtr input;
  std::string name;
  CallArgsExpr args;
};

struct UnaryExpr : Expr {  // kNeg, kPos, kNot
  explicit UnaryExpr(ExprKind k) : Expr(k) {}
  ExprPtr operand;
};

enum class BinaryOp : uint8_t { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow };

struct BinaryExpr : Expr {
  BinaryExpr() : Expr(ExprKind::kBinary) {}
  BinaryOp op = BinaryOp::kAdd;
  ExprPtr left, right;
};

struct ConcatExpr : Expr {
  ConcatExpr() : Expr(ExprKind::kConcat) {}
  std::vector<ExprPtr> parts;
};

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct CompareExpr : Expr {
  CompareExpr() : Expr(ExprKind::kCompare) {}
  ExprPtr first;
  std::vector<std::pair<CompareOp, ExprPtr>> rest;
};

struct LogicalExpr : Expr {  // kAnd, kOr
  explicit LogicalExpr(ExprKind k) : Expr(k) {}
  ExprPtr left, right;
};

struct CondExpr : Expr {
  CondExpr() : Expr(ExprKind::kCondExpr) {}
  ExprPtr test, then_expr, else_expr;  // else_expr may be null (-> undefined)
};

// Assignment targets: a name, a namespace attribute (ns.x), or a tuple of targets.
struct Target : Node {
  enum class Kind : uint8_t { kName, kNamespaceAttr, kTuple };
  Kind kind = Kind::kName;
  std::string name;
  std::string attr;
  std::vector<Target> items;
};

enum class StmtKind : uint8_t {
  kText,
  kPrint,
  kIf,
  kFor,
  kSet,
  kSetBlock,
  kMacro,
  kCallBlock,
  kFilterBlock,
  kWith,
  kBreak,
  kContinue,
  kScope,  // {% block %} / {% generation %}: renders its body in place
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt : Node {
  explicit Stmt(StmtKind k) : kind(k) {}
  virtual ~Stmt() = default;
  StmtKind kind;
};

struct TextStmt : Stmt {
  TextStmt() : Stmt(StmtKind::kText) {}
  std::string text;
};

struct PrintStmt : Stmt {
  PrintStmt() : Stmt(StmtKind::kPrint) {}
  ExprPtr expr;
};

struct IfStmt : Stmt {
  IfStmt() : Stmt(StmtKind::kIf) {}
  std::vector<std::pair<ExprPtr, Body>> branches;  // if + elifs
  Body else_body;
};

// Frames (loop bodies, macros, with/set/filter bodies, the template itself)
// list the names that start out undefined there, as jinja2 decides at
// compile time: a name whose first use at that level is an unconditional
// {% set %} and that no enclosing frame uses (see ScopeAnalysis).
using FrameLocals = std::vector<std::string>;

struct ForStmt : Stmt {
  ForStmt() : Stmt(StmtKind::kFor) {}
  FrameLocals locals;       // of each iteration's frame
  FrameLocals else_locals;  // of the else body's frame
  Target target;
  ExprPtr iter;
  ExprPtr filter;  // for x in xs if cond
  bool recursive = false;
  Body body;
  Body else_body;
};

struct SetStmt : Stmt {
  SetStmt() : Stmt(StmtKind::kSet) {}
  Target target;
  ExprPtr value;
};

struct SetBlockStmt : Stmt {
  SetBlockStmt() : Stmt(StmtKind::kSetBlock) {}
  FrameLocals locals;
  Target target;
  ExprPtr filter;  // FilterExpr chain with a null innermost input, or null
  Body body;
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct MacroStmt : Stmt {
  MacroStmt() : Stmt(StmtKind::kMacro) {}
  FrameLocals locals;
  // Whether the body reads varargs / kwargs / caller: like jinja2, extra
  // positional or keyword arguments are errors unless it does.
  bool catch_varargs = false;
  bool catch_kwargs = false;
  bool uses_caller = false;
  std::string name;
  std::vector<MacroParam> params;
  Body body;
};

struct CallBlockStmt : Stmt {
  CallBlockStmt() : Stmt(StmtKind::kCallBlock) {}
  MacroStmt caller;  // the body as a macro named "caller"
  ExprPtr call;      // a CallExpr
};

struct FilterBlockStmt : Stmt {
  FilterBlockStmt() : Stmt(StmtKind::kFilterBlock) {}
  FrameLocals locals;
  ExprPtr filter;
  Body body;
};

struct WithStmt : Stmt {
  WithStmt() : Stmt(StmtKind::kWith) {}
  FrameLocals locals;
  std::vector<std::pair<Target, ExprPtr>> assignments;
  Body body;
};

struct ScopeStmt : Stmt {
  ScopeStmt() : Stmt(StmtKind::kScope) {}
  Body body;
  ExprPtr autoescape;      // {% autoescape expr %}: HTML-escape printed values inside
  bool new_frame = false;  // {% autoescape %} / {% generation %}: sets inside stay inside
  FrameLocals locals;
};

struct SimpleStmt : Stmt {  // break / continue
  explicit SimpleStmt(StmtKind k) : Stmt(k) {}
};

}  // namespace ember::chat
