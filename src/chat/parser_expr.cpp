// Expressions: jinja2's precedence climbing, tuples, subscripts, calls,
// filters and tests.
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

}  // namespace

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
