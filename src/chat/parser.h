// Parser: tokens -> statement list, mirroring jinja2's recursive-descent
// parser (same precedence, same tuple/condexpr rules, same test-argument
// shorthand). Nesting is capped so hostile input cannot exhaust the stack.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/ast.h"
#include "chat/lexer.h"

namespace ember::chat {

class Parser {
 public:
  static constexpr int kMaxNesting = 100;

  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}
  // Throws TemplateError with the offending line.
  Body parse();

 private:
  using EndTags = std::vector<std::string_view>;

  // Token stream.
  const Token& cur() const { return tokens_[pos_]; }
  const Token& peek() const { return tokens_[pos_ + 1 < tokens_.size() ? pos_ + 1 : pos_]; }
  void advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  bool is_name(std::string_view n) const { return cur().kind == TokenKind::kName && cur().text == n; }
  bool is_op(Op op) const { return cur().kind == TokenKind::kOperator && cur().op == op; }
  bool skip_name(std::string_view n);
  bool skip_op(Op op);
  void expect_op(Op op);
  void expect(TokenKind kind);
  std::string expect_name();
  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void fail_at(const Node& at, const std::string& message) const;
  [[noreturn]] void fail_eof(const EndTags& end_tags) const;
  std::string describe(const Token& t) const;
  template <class T>
  std::unique_ptr<T> node(T* raw) const;

  // Statements.
  Body subparse(const EndTags* end_tags);
  Body parse_statements(const EndTags& end_tags, bool drop_needle);
  StmtPtr parse_statement();
  StmtPtr parse_for();
  StmtPtr parse_if();
  StmtPtr parse_set();
  StmtPtr parse_macro();
  StmtPtr parse_call_block();
  StmtPtr parse_filter_block();
  StmtPtr parse_with();
  StmtPtr parse_scope(std::string_view end_tag, bool named);
  StmtPtr parse_print();
  void parse_signature(MacroStmt& macro);
  Target parse_assign_target(bool with_tuple, bool name_only, const EndTags* extra_end,
                             bool with_namespace);
  Target parse_target_primary(bool with_namespace);

  // Expressions.
  bool is_tuple_end(const EndTags* extra_end) const;
  ExprPtr parse_tuple(bool with_condexpr, const EndTags* extra_end, bool explicit_parens);
  ExprPtr parse_expression(bool with_condexpr = true);
  ExprPtr parse_condexpr();
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary();
  ExprPtr parse_list();
  ExprPtr parse_dict();
  ExprPtr parse_postfix(ExprPtr node);
  ExprPtr parse_filter_expr(ExprPtr node);
  ExprPtr parse_subscript(ExprPtr node);
  ExprPtr parse_subscribed();
  CallArgsExpr parse_call_args();
  ExprPtr parse_call(ExprPtr node);
  ExprPtr parse_filter(ExprPtr node, bool start_inline);
  ExprPtr parse_test(ExprPtr node);

  struct DepthGuard {
    explicit DepthGuard(Parser& p);
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  struct OpenTag {
    std::string name;
    int line;
  };
  std::vector<OpenTag> open_tags_;
};

}  // namespace ember::chat
