// Lexer: template source -> tokens, following jinja2's lexer rule for rule:
// text between tags, {{ }} / {% %} / {# #} with the -/+ whitespace markers,
// trim_blocks (drop one newline after a block or comment tag), lstrip_blocks
// (drop spaces before a block or comment tag that starts a line), {% raw %},
// brace balancing inside tags, Python string escapes and number literals.
// The source is expected newline-normalized (see Template::compile).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::chat {

enum class TokenKind : uint8_t {
  kData,
  kVariableBegin,
  kVariableEnd,
  kBlockBegin,
  kBlockEnd,
  kName,
  kString,
  kInteger,
  kFloat,
  kOperator,
  kEof,
};

enum class Op : uint8_t {
  kNone,
  kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow, kTilde,
  kLBracket, kRBracket, kLParen, kRParen, kLBrace, kRBrace,
  kEq, kNe, kGt, kGe, kLt, kLe, kAssign,
  kDot, kColon, kPipe, kComma, kSemicolon,
};

const char* op_text(Op op);

struct Token {
  TokenKind kind = TokenKind::kEof;
  Op op = Op::kNone;
  int line = 1;
  int column = 1;
  std::string text;  // data, name, or the unescaped string literal
  int64_t int_value = 0;
  double float_value = 0;
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

class Lexer {
 public:
  Lexer(std::string_view source, const LexerOptions& options);
  // Throws TemplateError on malformed input (unterminated comment, bad char).
  std::vector<Token> tokenize();

 private:
  void lex_tag(bool block);
  bool at(size_t pos, std::string_view s) const { return source_.substr(pos, s.size()) == s; }
  size_t skip_space(size_t pos) const;
  void emit_data(std::string text, size_t pos);
  Token make(TokenKind kind, size_t pos) const;
  void lex_number(size_t pos);
  void lex_string(size_t pos);
  // Applies `-` (strip all trailing whitespace) or lstrip_blocks to the text
  // before a tag.
  std::string strip_before(std::string_view text, char sign, bool lstrip_allowed) const;
  [[noreturn]] void fail(size_t pos, std::string message) const;

  std::string_view source_;
  LexerOptions options_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  bool line_starting_ = true;  // the previous match ended with '\n'
};

}  // namespace ember::chat
