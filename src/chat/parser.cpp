#include "chat/parser.h"

#include "chat/template_error.h"

namespace ember::chat {
namespace {

template <class T, class... Args>
std::unique_ptr<T> at_token(const Token& t, Args&&... args) {
  auto n = std::make_unique<T>(std::forward<Args>(args)...);
  n->line = t.line;
  n->column = t.column;
  return n;
}

template <class T, class... Args>
std::unique_ptr<T> at_node(const Node& at, Args&&... args) {
  auto n = std::make_unique<T>(std::forward<Args>(args)...);
  n->line = at.line;
  n->column = at.column;
  return n;
}

ExprPtr literal(const Token& t, Value v) {
  auto e = at_token<LiteralExpr>(t);
  e->value = std::move(v);
  return e;
}

std::string join_tags(const std::vector<std::string_view>& tags) {
  std::string out;
  for (size_t k = 0; k < tags.size(); ++k) {
    if (k > 0) out += k + 1 == tags.size() ? " or " : ", ";
    out += "'" + std::string(tags[k]) + "'";
  }
  return out;
}

}  // namespace

Parser::DepthGuard::DepthGuard(Parser& p) : p_(p) {
  if (++p_.depth_ > kMaxNesting) {
    --p_.depth_;
    p_.fail("template nested more than " + std::to_string(kMaxNesting) + " levels deep");
  }
}

bool Parser::skip_name(std::string_view n) {
  if (!is_name(n)) return false;
  advance();
  return true;
}

bool Parser::skip_op(Op op) {
  if (!is_op(op)) return false;
  advance();
  return true;
}

std::string Parser::describe(const Token& t) const {
  switch (t.kind) {
    case TokenKind::kData: return "template data";
    case TokenKind::kVariableBegin: return "begin of print statement";
    case TokenKind::kVariableEnd: return "end of print statement";
    case TokenKind::kBlockBegin: return "begin of statement block";
    case TokenKind::kBlockEnd: return "end of statement block";
    case TokenKind::kName: return t.text;
    case TokenKind::kString: return "string";
    case TokenKind::kInteger: return "integer";
    case TokenKind::kFloat: return "float";
    case TokenKind::kOperator: return op_text(t.op);
    case TokenKind::kEof: return "end of template";
  }
  return "token";
}

void Parser::fail(const std::string& message) const {
  throw TemplateError(StatusCode::kInvalidArgument, message, cur().line, cur().column);
}

void Parser::fail_at(const Node& at, const std::string& message) const {
  throw TemplateError(StatusCode::kInvalidArgument, message, at.line, at.column);
}

void Parser::fail_eof(const EndTags& end_tags) const {
  std::string msg = "unexpected end of template, expected " + join_tags(end_tags);
  if (!open_tags_.empty()) {
    msg += " to close the '" + open_tags_.back().name + "' on line " + std::to_string(open_tags_.back().line);
  }
  fail(msg);
}

void Parser::expect_op(Op op) {
  if (!is_op(op)) fail(std::string("expected '") + op_text(op) + "', got '" + describe(cur()) + "'");
  advance();
}

void Parser::expect(TokenKind kind) {
  if (cur().kind != kind) {
    Token want;
    want.kind = kind;
    if (cur().kind == TokenKind::kEof) {
      fail("unexpected end of template, expected " + describe(want));
    }
    fail("expected " + describe(want) + ", got '" + describe(cur()) + "'");
  }
  advance();
}

std::string Parser::expect_name() {
  if (cur().kind != TokenKind::kName) fail("expected a name, got '" + describe(cur()) + "'");
  std::string n = cur().text;
  advance();
  return n;
}

Body Parser::parse() {
  Body body = subparse(nullptr);
  if (cur().kind != TokenKind::kEof) fail("unexpected '" + describe(cur()) + "'");
  return body;
}

Body Parser::subparse(const EndTags* end_tags) {
  Body body;
  while (cur().kind != TokenKind::kEof) {
    const Token& t = cur();
    if (t.kind == TokenKind::kData) {
      auto s = at_token<TextStmt>(t);
      s->text = t.text;
      body.push_back(std::move(s));
      advance();
    } else if (t.kind == TokenKind::kVariableBegin) {
      auto s = at_token<PrintStmt>(t);
      advance();
      s->expr = parse_tuple(true, nullptr, false);
      expect(TokenKind::kVariableEnd);
      body.push_back(std::move(s));
    } else if (t.kind == TokenKind::kBlockBegin) {
      advance();
      if (end_tags != nullptr && cur().kind == TokenKind::kName) {
        for (std::string_view tag : *end_tags) {
          if (cur().text == tag) return body;
        }
      }
      body.push_back(parse_statement());
      expect(TokenKind::kBlockEnd);
    } else {
      fail("unexpected '" + describe(t) + "'");
    }
  }
  return body;
}

Body Parser::parse_statements(const EndTags& end_tags, bool drop_needle) {
  skip_op(Op::kColon);
  expect(TokenKind::kBlockEnd);
  Body body = subparse(&end_tags);
  if (cur().kind == TokenKind::kEof) fail_eof(end_tags);
  if (drop_needle) advance();
  return body;
}

StmtPtr Parser::parse_statement() {
  DepthGuard guard(*this);
  const Token& t = cur();
  if (t.kind != TokenKind::kName) fail("tag name expected");
  const std::string& tag = t.text;
  open_tags_.push_back({tag, t.line});
  StmtPtr s;
  if (tag == "for") {
    s = parse_for();
  } else if (tag == "if") {
    s = parse_if();
  } else if (tag == "set") {
    s = parse_set();
  } else if (tag == "macro") {
    s = parse_macro();
  } else if (tag == "call") {
    s = parse_call_block();
  } else if (tag == "filter") {
    s = parse_filter_block();
  } else if (tag == "with") {
    s = parse_with();
  } else if (tag == "block") {
    s = parse_scope("endblock", true);
  } else if (tag == "generation") {
    s = parse_scope("endgeneration", false);
  } else if (tag == "autoescape") {
    Token at = t;
    advance();
    auto scope = at_token<ScopeStmt>(at);
    scope->autoescape = parse_expression();
    static const EndTags kEnd = {"endautoescape"};
    scope->body = parse_statements(kEnd, true);
    s = std::move(scope);
  } else if (tag == "print") {
    s = parse_print();
  } else if (tag == "break" || tag == "continue") {
    if (loop_depth_ == 0) fail("'" + tag + "' outside loop");
    s = at_token<SimpleStmt>(t, tag == "break" ? StmtKind::kBreak : StmtKind::kContinue);
    advance();
  } else if (tag == "extends" || tag == "include" || tag == "import" || tag == "from") {
    throw TemplateError(StatusCode::kUnsupported,
                        "'" + tag + "' is not supported (chat templates are a single file)", t.line,
                        t.column);
  } else {
    open_tags_.pop_back();
    std::string msg = "unknown tag '" + tag + "'";
    if (!open_tags_.empty()) msg += " inside '" + open_tags_.back().name + "' (line " + std::to_string(open_tags_.back().line) + ")";
    fail(msg);
  }
  open_tags_.pop_back();
  return s;
}

StmtPtr Parser::parse_for() {
  auto s = at_token<ForStmt>(cur());
  advance();
  static const EndTags kIn = {"in"};
  static const EndTags kRecursive = {"recursive"};
  s->target = parse_assign_target(true, false, &kIn, false);
  if (!skip_name("in")) fail("expected 'in', got '" + describe(cur()) + "'");
  s->iter = parse_tuple(false, &kRecursive, false);
  if (skip_name("if")) s->filter = parse_expression();
  s->recursive = skip_name("recursive");
  static const EndTags kBodyEnd = {"endfor", "else"};
  ++loop_depth_;
  s->body = parse_statements(kBodyEnd, false);
  --loop_depth_;
  bool has_else = cur().text == "else";
  advance();
  if (has_else) {
    static const EndTags kElseEnd = {"endfor"};
    s->else_body = parse_statements(kElseEnd, true);
  }
  return s;
}

StmtPtr Parser::parse_if() {
  auto s = at_token<IfStmt>(cur());
  advance();
  static const EndTags kEnd = {"elif", "else", "endif"};
  while (true) {
    ExprPtr test = parse_tuple(false, nullptr, false);
    Body body = parse_statements(kEnd, false);
    s->branches.emplace_back(std::move(test), std::move(body));
    std::string which = cur().text;
    advance();
    if (which == "elif") continue;
    if (which == "else") {
      static const EndTags kElseEnd = {"endif"};
      s->else_body = parse_statements(kElseEnd, true);
    }
    break;
  }
  return s;
}

StmtPtr Parser::parse_set() {
  Token at = cur();
  advance();
  Target target = parse_assign_target(true, false, nullptr, true);
  if (skip_op(Op::kAssign)) {
    auto s = at_token<SetStmt>(at);
    s->target = std::move(target);
    s->value = parse_tuple(true, nullptr, false);
    return s;
  }
  auto s = at_token<SetBlockStmt>(at);
  s->target = std::move(target);
  if (is_op(Op::kPipe)) s->filter = parse_filter(nullptr, false);
  static const EndTags kEnd = {"endset"};
  s->body = parse_statements(kEnd, true);
  return s;
}

void Parser::parse_signature(MacroStmt& macro) {
  expect_op(Op::kLParen);
  bool has_default = false;
  while (!is_op(Op::kRParen)) {
    if (!macro.params.empty()) expect_op(Op::kComma);
    MacroParam p;
    p.name = expect_name();
    if (skip_op(Op::kAssign)) {
      p.default_value = parse_expression();
      has_default = true;
    } else if (has_default) {
      fail("non-default argument follows default argument");
    }
    macro.params.push_back(std::move(p));
  }
  expect_op(Op::kRParen);
}

StmtPtr Parser::parse_macro() {
  auto s = at_token<MacroStmt>(cur());
  advance();
  s->name = expect_name();
  parse_signature(*s);
  int saved = loop_depth_;
  loop_depth_ = 0;
  static const EndTags kEnd = {"endmacro"};
  s->body = parse_statements(kEnd, true);
  loop_depth_ = saved;
  return s;
}

StmtPtr Parser::parse_call_block() {
  auto s = at_token<CallBlockStmt>(cur());
  advance();
  s->caller.name = "caller";
  s->caller.line = s->line;
  s->caller.column = s->column;
  if (is_op(Op::kLParen)) parse_signature(s->caller);
  Token at = cur();
  s->call = parse_expression();
  if (s->call->kind != ExprKind::kCall) {
    throw TemplateError(StatusCode::kInvalidArgument, "expected call", at.line, at.column);
  }
  int saved = loop_depth_;
  loop_depth_ = 0;
  static const EndTags kEnd = {"endcall"};
  s->caller.body = parse_statements(kEnd, true);
  loop_depth_ = saved;
  return s;
}

StmtPtr Parser::parse_filter_block() {
  auto s = at_token<FilterBlockStmt>(cur());
  advance();
  s->filter = parse_filter(nullptr, true);
  static const EndTags kEnd = {"endfilter"};
  s->body = parse_statements(kEnd, true);
  return s;
}

StmtPtr Parser::parse_with() {
  auto s = at_token<WithStmt>(cur());
  advance();
  while (cur().kind != TokenKind::kBlockEnd) {
    if (!s->assignments.empty()) expect_op(Op::kComma);
    Target t = parse_assign_target(true, false, nullptr, false);
    expect_op(Op::kAssign);
    s->assignments.emplace_back(std::move(t), parse_expression());
  }
  static const EndTags kEnd = {"endwith"};
  s->body = parse_statements(kEnd, true);
  return s;
}

StmtPtr Parser::parse_scope(std::string_view end_tag, bool named) {
  auto s = at_token<ScopeStmt>(cur());
  advance();
  if (named) {
    expect_name();
    skip_name("scoped");
    skip_name("required");
  }
  EndTags end = {end_tag};
  s->body = parse_statements(end, true);
  if (named && cur().kind == TokenKind::kName) advance();  // {% endblock name %}
  return s;
}

StmtPtr Parser::parse_print() {
  auto s = at_token<ScopeStmt>(cur());
  advance();
  while (cur().kind != TokenKind::kBlockEnd) {
    if (!s->body.empty()) expect_op(Op::kComma);
    auto p = at_token<PrintStmt>(cur());
    p->expr = parse_expression();
    s->body.push_back(std::move(p));
  }
  return s;
}

Target Parser::parse_target_primary(bool with_namespace) {
  Target t;
  t.line = cur().line;
  t.column = cur().column;
  if (cur().kind == TokenKind::kName) {
    const std::string& n = cur().text;
    if (n == "true" || n == "false" || n == "True" || n == "False" || n == "none" || n == "None") {
      fail("can't assign to '" + n + "'");
    }
    t.name = n;
    advance();
    if (with_namespace && is_op(Op::kDot)) {
      advance();
      t.kind = Target::Kind::kNamespaceAttr;
      t.attr = expect_name();
    }
    return t;
  }
  if (is_op(Op::kLParen)) {
    DepthGuard guard(*this);
    advance();
    t.kind = Target::Kind::kTuple;
    while (!is_op(Op::kRParen)) {
      if (!t.items.empty()) {
        expect_op(Op::kComma);
        if (is_op(Op::kRParen)) break;
      }
      t.items.push_back(parse_target_primary(with_namespace));
    }
    advance();
    if (t.items.size() == 1) return std::move(t.items[0]);
    return t;
  }
  fail("can't assign to '" + describe(cur()) + "'");
}

Target Parser::parse_assign_target(bool with_tuple, bool name_only, const EndTags* extra_end,
                                   bool with_namespace) {
  if (name_only || !with_tuple) return parse_target_primary(with_namespace && !name_only);
  Target tuple;
  tuple.kind = Target::Kind::kTuple;
  tuple.line = cur().line;
  tuple.column = cur().column;
  bool is_tuple = false;
  while (true) {
    if (!tuple.items.empty()) expect_op(Op::kComma);
    if (is_tuple_end(extra_end)) break;
    tuple.items.push_back(parse_target_primary(with_namespace));
    if (is_op(Op::kComma)) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (tuple.items.empty()) fail("expected an assignment target, got '" + describe(cur()) + "'");
    return std::move(tuple.items[0]);
  }
  return tuple;
}

bool Parser::is_tuple_end(const EndTags* extra_end) const {
  if (cur().kind == TokenKind::kVariableEnd || cur().kind == TokenKind::kBlockEnd || is_op(Op::kRParen)) {
    return true;
  }
  if (extra_end != nullptr && cur().kind == TokenKind::kName) {
    for (std::string_view tag : *extra_end) {
      if (cur().text == tag) return true;
    }
  }
  return false;
}

ExprPtr Parser::parse_tuple(bool with_condexpr, const EndTags* extra_end, bool explicit_parens) {
  Token at = cur();
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) expect_op(Op::kComma);
    if (is_tuple_end(extra_end)) break;
    items.push_back(parse_expression(with_condexpr));
    if (is_op(Op::kComma)) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parens) fail("expected an expression, got '" + describe(cur()) + "'");
  }
  auto t = at_token<ListExpr>(at, ExprKind::kTuple);
  t->items = std::move(items);
  return t;
}

ExprPtr Parser::parse_expression(bool with_condexpr) {
  DepthGuard guard(*this);
  return with_condexpr ? parse_condexpr() : parse_or();
}

ExprPtr Parser::parse_condexpr() {
  Token at = cur();
  ExprPtr expr1 = parse_or();
  while (skip_name("if")) {
    auto c = at_token<CondExpr>(at);
    c->test = parse_or();
    if (skip_name("else")) c->else_expr = parse_condexpr();
    c->then_expr = std::move(expr1);
    expr1 = std::move(c);
    at = cur();
  }
  return expr1;
}

ExprPtr Parser::parse_or() {
  Token at = cur();
  ExprPtr left = parse_and();
  while (skip_name("or")) {
    auto e = at_token<LogicalExpr>(at, ExprKind::kOr);
    e->left = std::move(left);
    e->right = parse_and();
    left = std::move(e);
    at = cur();
  }
  return left;
}

ExprPtr Parser::parse_and() {
  Token at = cur();
  ExprPtr left = parse_not();
  while (skip_name("and")) {
    auto e = at_token<LogicalExpr>(at, ExprKind::kAnd);
    e->left = std::move(left);
    e->right = parse_not();
    left = std::move(e);
    at = cur();
  }
  return left;
}

ExprPtr Parser::parse_not() {
  if (is_name("not")) {
    DepthGuard guard(*this);
    auto e = at_token<UnaryExpr>(cur(), ExprKind::kNot);
    advance();
    e->operand = parse_not();
    return e;
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
  Token at = cur();
  ExprPtr expr = parse_math1();
  std::unique_ptr<CompareExpr> cmp;
  while (true) {
    CompareOp op;
    if (cur().kind == TokenKind::kOperator && (cur().op == Op::kEq || cur().op == Op::kNe ||
                                               cur().op == Op::kLt || cur().op == Op::kLe ||
                                               cur().op == Op::kGt || cur().op == Op::kGe)) {
      switch (cur().op) {
        case Op::kEq: op = CompareOp::kEq; break;
        case Op::kNe: op = CompareOp::kNe; break;
        case Op::kLt: op = CompareOp::kLt; break;
        case Op::kLe: op = CompareOp::kLe; break;
        case Op::kGt: op = CompareOp::kGt; break;
        default: op = CompareOp::kGe; break;
      }
      advance();
    } else if (skip_name("in")) {
      op = CompareOp::kIn;
    } else if (is_name("not") && peek().kind == TokenKind::kName && peek().text == "in") {
      advance();
      advance();
      op = CompareOp::kNotIn;
    } else {
      break;
    }
    if (!cmp) {
      cmp = at_token<CompareExpr>(at);
      cmp->first = std::move(expr);
    }
    cmp->rest.emplace_back(op, parse_math1());
  }
  if (!cmp) return expr;
  return cmp;
}

ExprPtr Parser::parse_math1() {
  Token at = cur();
  ExprPtr left = parse_concat();
  while (is_op(Op::kAdd) || is_op(Op::kSub)) {
    auto e = at_token<BinaryExpr>(at);
    e->op = cur().op == Op::kAdd ? BinaryOp::kAdd : BinaryOp::kSub;
    advance();
    e->left = std::move(left);
    e->right = parse_concat();
    left = std::move(e);
    at = cur();
  }
  return left;
}

ExprPtr Parser::parse_concat() {
  Token at = cur();
  ExprPtr first = parse_math2();
  if (!is_op(Op::kTilde)) return first;
  auto c = at_token<ConcatExpr>(at);
  c->parts.push_back(std::move(first));
  while (skip_op(Op::kTilde)) c->parts.push_back(parse_math2());
  return c;
}

ExprPtr Parser::parse_math2() {
  Token at = cur();
  ExprPtr left = parse_pow();
  while (is_op(Op::kMul) || is_op(Op::kDiv) || is_op(Op::kFloorDiv) || is_op(Op::kMod)) {
    auto e = at_token<BinaryExpr>(at);
    switch (cur().op) {
      case Op::kMul: e->op = BinaryOp::kMul; break;
      case Op::kDiv: e->op = BinaryOp::kDiv; break;
      case Op::kFloorDiv: e->op = BinaryOp::kFloorDiv; break;
      default: e->op = BinaryOp::kMod; break;
    }
    advance();
    e->left = std::move(left);
    e->right = parse_pow();
    left = std::move(e);
    at = cur();
  }
  return left;
}

ExprPtr Parser::parse_pow() {
  Token at = cur();
  ExprPtr left = parse_unary(true);
  while (skip_op(Op::kPow)) {
    auto e = at_token<BinaryExpr>(at);
    e->op = BinaryOp::kPow;
    e->left = std::move(left);
    e->right = parse_unary(true);
    left = std::move(e);
    at = cur();
  }
  return left;
}

ExprPtr Parser::parse_unary(bool with_filter) {
  DepthGuard guard(*this);
  Token at = cur();
  ExprPtr node;
  if (is_op(Op::kSub) || is_op(Op::kAdd)) {
    auto e = at_token<UnaryExpr>(at, is_op(Op::kSub) ? ExprKind::kNeg : ExprKind::kPos);
    advance();
    e->operand = parse_unary(false);
    node = std::move(e);
  } else {
    node = parse_primary();
  }
  node = parse_postfix(std::move(node));
  if (with_filter) node = parse_filter_expr(std::move(node));
  return node;
}

ExprPtr Parser::parse_primary() {
  const Token& t = cur();
  switch (t.kind) {
    case TokenKind::kName: {
      Token at = t;
      advance();
      if (at.text == "true" || at.text == "True") return literal(at, Value::boolean(true));
      if (at.text == "false" || at.text == "False") return literal(at, Value::boolean(false));
      if (at.text == "none" || at.text == "None") return literal(at, Value::none());
      auto n = at_token<NameExpr>(at);
      n->name = at.text;
      return n;
    }
    case TokenKind::kString: {
      Token at = t;
      std::string s;
      while (cur().kind == TokenKind::kString) {
        s += cur().text;
        advance();
      }
      return literal(at, Value::string(std::move(s)));
    }
    case TokenKind::kInteger: {
      Token at = t;
      advance();
      return literal(at, Value::integer(at.int_value));
    }
    case TokenKind::kFloat: {
      Token at = t;
      advance();
      return literal(at, Value::number(at.float_value));
    }
    case TokenKind::kOperator:
      if (t.op == Op::kLParen) {
        advance();
        ExprPtr e = parse_tuple(true, nullptr, true);
        expect_op(Op::kRParen);
        return e;
      }
      if (t.op == Op::kLBracket) return parse_list();
      if (t.op == Op::kLBrace) return parse_dict();
      break;
    default: break;
  }
  fail("unexpected '" + describe(t) + "'");
}

ExprPtr Parser::parse_list() {
  auto l = at_token<ListExpr>(cur(), ExprKind::kList);
  advance();
  while (!is_op(Op::kRBracket)) {
    if (!l->items.empty()) expect_op(Op::kComma);
    if (is_op(Op::kRBracket)) break;
    l->items.push_back(parse_expression());
  }
  expect_op(Op::kRBracket);
  return l;
}

ExprPtr Parser::parse_dict() {
  auto d = at_token<DictExpr>(cur());
  advance();
  while (!is_op(Op::kRBrace)) {
    if (!d->items.empty()) expect_op(Op::kComma);
    if (is_op(Op::kRBrace)) break;
    ExprPtr key = parse_expression();
    expect_op(Op::kColon);
    d->items.emplace_back(std::move(key), parse_expression());
  }
  expect_op(Op::kRBrace);
  return d;
}

ExprPtr Parser::parse_postfix(ExprPtr node) {
  while (true) {
    if (is_op(Op::kDot) || is_op(Op::kLBracket)) {
      node = parse_subscript(std::move(node));
    } else if (is_op(Op::kLParen)) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr Parser::parse_filter_expr(ExprPtr node) {
  while (true) {
    if (is_op(Op::kPipe)) {
      node = parse_filter(std::move(node), false);
    } else if (is_name("is")) {
      node = parse_test(std::move(node));
    } else if (is_op(Op::kLParen)) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr Parser::parse_subscript(ExprPtr node) {
  DepthGuard guard(*this);
  Token at = cur();
  if (skip_op(Op::kDot)) {
    const Token& attr = cur();
    if (attr.kind == TokenKind::kName) {
      auto g = at_token<GetAttrExpr>(at);
      g->object = std::move(node);
      g->name = attr.text;
      advance();
      return g;
    }
    if (attr.kind != TokenKind::kInteger) fail("expected name or number");
    auto g = at_token<GetItemExpr>(at);
    g->object = std::move(node);
    g->index = literal(attr, Value::integer(attr.int_value));
    advance();
    return g;
  }
  expect_op(Op::kLBracket);
  std::vector<ExprPtr> args;
  while (!is_op(Op::kRBracket)) {
    if (!args.empty()) expect_op(Op::kComma);
    args.push_back(parse_subscribed());
  }
  expect_op(Op::kRBracket);
  auto g = at_token<GetItemExpr>(at);
  g->object = std::move(node);
  if (args.size() == 1) {
    g->index = std::move(args[0]);
  } else {
    auto t = at_token<ListExpr>(at, ExprKind::kTuple);
    t->items = std::move(args);
    g->index = std::move(t);
  }
  return g;
}

ExprPtr Parser::parse_subscribed() {
  Token at = cur();
  ExprPtr start;
  if (!skip_op(Op::kColon)) {
    ExprPtr node = parse_expression();
    if (!skip_op(Op::kColon)) return node;
    start = std::move(node);
  }
  auto s = at_token<SliceExpr>(at);
  s->start = std::move(start);
  if (!is_op(Op::kColon) && !is_op(Op::kRBracket) && !is_op(Op::kComma)) s->stop = parse_expression();
  if (skip_op(Op::kColon)) {
    if (!is_op(Op::kRBracket) && !is_op(Op::kComma)) s->step = parse_expression();
  }
  return s;
}

CallArgsExpr Parser::parse_call_args() {
  Token at = cur();
  expect_op(Op::kLParen);
  CallArgsExpr args;
  bool require_comma = false;
  auto ensure = [&](bool ok) {
    if (!ok) {
      throw TemplateError(StatusCode::kInvalidArgument, "invalid syntax for function call expression",
                          at.line, at.column);
    }
  };
  while (!is_op(Op::kRParen)) {
    if (require_comma) {
      expect_op(Op::kComma);
      if (is_op(Op::kRParen)) break;
    }
    if (skip_op(Op::kMul)) {
      ensure(!args.star_args && !args.star_kwargs);
      args.star_args = parse_expression();
    } else if (skip_op(Op::kPow)) {
      ensure(!args.star_kwargs);
      args.star_kwargs = parse_expression();
    } else if (cur().kind == TokenKind::kName && peek().kind == TokenKind::kOperator &&
               peek().op == Op::kAssign) {
      ensure(!args.star_kwargs);
      std::string key = cur().text;
      advance();
      advance();
      args.keyword.emplace_back(std::move(key), parse_expression());
    } else {
      ensure(!args.star_args && !args.star_kwargs && args.keyword.empty());
      args.positional.push_back(parse_expression());
    }
    require_comma = true;
  }
  expect_op(Op::kRParen);
  return args;
}

ExprPtr Parser::parse_call(ExprPtr node) {
  auto c = at_node<CallExpr>(*node);
  c->callee = std::move(node);
  c->args = parse_call_args();
  return c;
}

ExprPtr Parser::parse_filter(ExprPtr node, bool start_inline) {
  while (is_op(Op::kPipe) || start_inline) {
    DepthGuard guard(*this);
    if (!start_inline) advance();
    start_inline = false;
    auto f = at_token<FilterExpr>(cur());
    f->name = expect_name();
    while (skip_op(Op::kDot)) f->name += "." + expect_name();
    if (is_op(Op::kLParen)) f->args = parse_call_args();
    f->input = std::move(node);
    node = std::move(f);
  }
  return node;
}

ExprPtr Parser::parse_test(ExprPtr node) {
  DepthGuard guard(*this);
  Token at = cur();
  advance();  // 'is'
  bool negated = skip_name("not");
  auto t = at_token<TestExpr>(at);
  t->name = expect_name();
  while (skip_op(Op::kDot)) t->name += "." + expect_name();
  t->input = std::move(node);
  const Token& c = cur();
  if (is_op(Op::kLParen)) {
    t->args = parse_call_args();
  } else if ((c.kind == TokenKind::kName || c.kind == TokenKind::kString ||
              c.kind == TokenKind::kInteger || c.kind == TokenKind::kFloat ||
              (c.kind == TokenKind::kOperator && (c.op == Op::kLBracket || c.op == Op::kLBrace))) &&
             !(c.kind == TokenKind::kName && (c.text == "else" || c.text == "or" || c.text == "and"))) {
    if (is_name("is")) fail("you cannot chain multiple tests with is");
    ExprPtr arg = parse_postfix(parse_primary());
    t->args.positional.push_back(std::move(arg));
  }
  if (!negated) return t;
  auto n = at_token<UnaryExpr>(at, ExprKind::kNot);
  n->operand = std::move(t);
  return n;
}

}  // namespace ember::chat
