// Statements: the template body, tags and their bodies, assignment targets.
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
    scope->new_frame = true;
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
  s->new_frame = !named;  // {% generation %} is a call block in transformers
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

}  // namespace ember::chat
