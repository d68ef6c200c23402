#include "chat/lexer.h"

#include <algorithm>
#include <cstdlib>

#include "chat/template_error.h"
#include "chat/text_ops.h"

namespace ember::chat {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

struct OpSpelling {
  std::string_view text;
  Op op;
};
// Two-character operators first so the longest match wins.
constexpr OpSpelling kOps[] = {
    {"//", Op::kFloorDiv}, {"**", Op::kPow}, {"==", Op::kEq}, {"!=", Op::kNe},
    {">=", Op::kGe},       {"<=", Op::kLe},  {"+", Op::kAdd}, {"-", Op::kSub},
    {"/", Op::kDiv},       {"*", Op::kMul},  {"%", Op::kMod}, {"~", Op::kTilde},
    {"[", Op::kLBracket},  {"]", Op::kRBracket}, {"(", Op::kLParen}, {")", Op::kRParen},
    {"{", Op::kLBrace},    {"}", Op::kRBrace},   {">", Op::kGt},     {"<", Op::kLt},
    {"=", Op::kAssign},    {".", Op::kDot},      {":", Op::kColon},  {"|", Op::kPipe},
    {",", Op::kComma},     {";", Op::kSemicolon},
};

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// Python's "unicode-escape" decoding of a string literal's body.
std::string unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\' || i + 1 >= raw.size()) {
      out.push_back(c);
      continue;
    }
    char e = raw[++i];
    switch (e) {
      case '\n': break;
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x':
      case 'u':
      case 'U': {
        int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int k = 0; k < digits; ++k) {
          if (i + 1 >= raw.size() || !is_hex(raw[i + 1])) {
            throw_error(std::string("truncated \\") + e + " escape in string literal");
          }
          cp = cp * 16 + static_cast<uint32_t>(hex_value(raw[++i]));
        }
        if (cp > 0x10FFFF) throw_error("illegal Unicode character in string literal");
        text::append_utf8(out, cp);
        break;
      }
      case 'N': throw_unsupported("\\N{...} escapes are not supported");
      default:
        if (e >= '0' && e <= '7') {
          uint32_t cp = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < raw.size() && raw[i + 1] >= '0' && raw[i + 1] <= '7'; ++k) {
            cp = cp * 8 + static_cast<uint32_t>(raw[++i] - '0');
          }
          text::append_utf8(out, cp);
        } else {
          out.push_back('\\');
          out.push_back(e);
        }
    }
  }
  return out;
}

}  // namespace

const char* op_text(Op op) {
  for (const OpSpelling& s : kOps) {
    if (s.op == op) return s.text.data();
  }
  return "?";
}

Lexer::Lexer(std::string_view source, const LexerOptions& options)
    : source_(source), options_(options) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < source_.size(); ++i) {
    if (source_[i] == '\n') line_starts_.push_back(i + 1);
  }
}

Token Lexer::make(TokenKind kind, size_t pos) const {
  Token t;
  t.kind = kind;
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
  size_t line = static_cast<size_t>(it - line_starts_.begin());
  t.line = static_cast<int>(line);
  t.column = static_cast<int>(pos - line_starts_[line - 1] + 1);
  return t;
}

void Lexer::fail(size_t pos, std::string message) const {
  Token t = make(TokenKind::kEof, pos);
  throw TemplateError(StatusCode::kInvalidArgument, std::move(message), t.line, t.column);
}

size_t Lexer::skip_space(size_t pos) const {
  while (pos < source_.size()) {
    size_t next = pos;
    if (!text::is_space(text::decode(source_, next))) break;
    pos = next;
  }
  return pos;
}

void Lexer::emit_data(std::string text, size_t pos) {
  if (text.empty()) return;
  Token t = make(TokenKind::kData, pos);
  t.text = std::move(text);
  tokens_.push_back(std::move(t));
}

std::string Lexer::strip_before(std::string_view text, char sign, bool lstrip_allowed) const {
  if (sign == '-') {
    std::vector<uint32_t> cps = text::code_points(text);
    size_t e = cps.size();
    while (e > 0 && text::is_space(cps[e - 1])) --e;
    return text::from_code_points(cps, 0, e);
  }
  if (sign != '+' && options_.lstrip_blocks && lstrip_allowed) {
    size_t nl = text.rfind('\n');
    size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
    if ((l_pos > 0 || line_starting_) && l_pos < text.size()) {
      std::string_view tail = text.substr(l_pos);
      bool all_space = true;
      for (size_t i = 0; i < tail.size() && all_space;) all_space = text::is_space(text::decode(tail, i));
      if (all_space) return std::string(text.substr(0, l_pos));
    }
  }
  return std::string(text);
}

std::vector<Token> Lexer::tokenize() {
  const size_t n = source_.size();
  while (pos_ < n) {
    size_t idx = pos_;
    while (true) {
      idx = source_.find('{', idx);
      if (idx == std::string_view::npos || idx + 1 >= n) {
        idx = std::string_view::npos;
        break;
      }
      char k = source_[idx + 1];
      if (k == '{' || k == '%' || k == '#') break;
      ++idx;
    }
    if (idx == std::string_view::npos) {
      emit_data(std::string(source_.substr(pos_)), pos_);
      pos_ = n;
      break;
    }
    char kind = source_[idx + 1];
    size_t after = idx + 2;
    char sign = 0;
    if (after < n && (source_[after] == '-' || source_[after] == '+')) sign = source_[after++];
    std::string_view text = source_.substr(pos_, idx - pos_);

    // {% raw %} ... {% endraw %}
    size_t raw_start = 0;
    bool raw = false;
    if (kind == '%') {
      size_t j = skip_space(after);
      if (at(j, "raw")) {
        size_t k = skip_space(j + 3);
        if (at(k, "-%}")) {
          raw = true;
          raw_start = skip_space(k + 3);
        } else if (at(k, "%}")) {
          raw = true;
          raw_start = k + 2;
        }
      }
    }
    emit_data(strip_before(text, sign, kind != '{'), pos_);

    if (raw) {
      line_starting_ = source_[raw_start - 1] == '\n';
      size_t q = raw_start;
      while (true) {
        q = source_.find("{%", q);
        if (q == std::string_view::npos) fail(idx, "missing end of raw directive");
        size_t s = q + 2;
        char rsign = 0;
        if (s < n && (source_[s] == '-' || source_[s] == '+')) rsign = source_[s++];
        s = skip_space(s);
        size_t end = 0;
        if (at(s, "endraw")) {
          size_t s2 = skip_space(s + 6);
          if (at(s2, "+%}")) {
            end = s2 + 3;
          } else if (at(s2, "-%}")) {
            end = skip_space(s2 + 3);
          } else if (at(s2, "%}")) {
            end = s2 + 2;
            if (options_.trim_blocks && end < n && source_[end] == '\n') ++end;
          }
        }
        if (end == 0) {
          ++q;
          continue;
        }
        emit_data(strip_before(source_.substr(raw_start, q - raw_start), rsign, true), raw_start);
        pos_ = end;
        line_starting_ = source_[end - 1] == '\n';
        break;
      }
      continue;
    }

    if (kind == '#') {
      size_t q = source_.find("#}", after);
      if (q == std::string_view::npos) fail(idx, "missing end of comment tag");
      size_t end = q + 2;
      char esign = (q > after) ? source_[q - 1] : 0;
      if (esign == '-') {
        end = skip_space(end);
      } else if (esign != '+' && options_.trim_blocks && end < n && source_[end] == '\n') {
        ++end;
      }
      pos_ = end;
      line_starting_ = source_[end - 1] == '\n';
      continue;
    }

    bool block = kind == '%';
    tokens_.push_back(make(block ? TokenKind::kBlockBegin : TokenKind::kVariableBegin, idx));
    pos_ = after;
    line_starting_ = false;
    lex_tag(block);
  }
  tokens_.push_back(make(TokenKind::kEof, n));
  return std::move(tokens_);
}

void Lexer::lex_tag(bool block) {
  const size_t n = source_.size();
  std::vector<char> balance;
  while (pos_ < n) {
    if (balance.empty()) {
      size_t end = 0;
      if (block) {
        if (at(pos_, "+%}")) {
          end = pos_ + 3;
        } else if (at(pos_, "-%}")) {
          end = skip_space(pos_ + 3);
        } else if (at(pos_, "%}")) {
          end = pos_ + 2;
          if (options_.trim_blocks && end < n && source_[end] == '\n') ++end;
        }
      } else if (at(pos_, "-}}")) {
        end = skip_space(pos_ + 3);
      } else if (at(pos_, "}}")) {
        end = pos_ + 2;
      }
      if (end != 0) {
        tokens_.push_back(make(block ? TokenKind::kBlockEnd : TokenKind::kVariableEnd, pos_));
        line_starting_ = source_[end - 1] == '\n';
        pos_ = end;
        return;
      }
    }
    char c = source_[pos_];
    size_t next = skip_space(pos_);
    if (next != pos_) {
      pos_ = next;
      continue;
    }
    if (is_digit(c)) {
      lex_number(pos_);
      continue;
    }
    if (is_name_start(c) || static_cast<unsigned char>(c) >= 0x80) {
      size_t i = pos_;
      while (i < n) {
        if (is_name_char(source_[i])) {
          ++i;
          continue;
        }
        size_t j = i;
        uint32_t cp = text::decode(source_, j);
        if (cp < 0x80 || !text::is_word(cp)) break;
        i = j;
      }
      if (i == pos_) fail(pos_, "unexpected char in template tag");
      Token t = make(TokenKind::kName, pos_);
      t.text = std::string(source_.substr(pos_, i - pos_));
      tokens_.push_back(std::move(t));
      pos_ = i;
      continue;
    }
    if (c == '\'' || c == '"') {
      lex_string(pos_);
      continue;
    }
    const OpSpelling* match = nullptr;
    for (const OpSpelling& s : kOps) {
      if (at(pos_, s.text)) {
        match = &s;
        break;
      }
    }
    if (match == nullptr) fail(pos_, std::string("unexpected char '") + c + "'");
    Op op = match->op;
    if (op == Op::kLBrace || op == Op::kLParen || op == Op::kLBracket) {
      balance.push_back(op == Op::kLBrace ? '}' : op == Op::kLParen ? ')' : ']');
    } else if (op == Op::kRBrace || op == Op::kRParen || op == Op::kRBracket) {
      char closing = match->text[0];
      if (balance.empty()) fail(pos_, std::string("unexpected '") + closing + "'");
      if (balance.back() != closing) {
        fail(pos_, std::string("unexpected '") + closing + "', expected '" + balance.back() + "'");
      }
      balance.pop_back();
    }
    Token t = make(TokenKind::kOperator, pos_);
    t.op = op;
    tokens_.push_back(std::move(t));
    pos_ += match->text.size();
  }
}

void Lexer::lex_number(size_t pos) {
  const size_t n = source_.size();
  // (\d+_)*\d+ starting at p; returns the end or p when nothing matched.
  auto digits = [&](size_t p) {
    size_t i = p;
    if (i >= n || !is_digit(source_[i])) return p;
    while (true) {
      while (i < n && is_digit(source_[i])) ++i;
      if (i + 1 < n && source_[i] == '_' && is_digit(source_[i + 1])) {
        ++i;
        continue;
      }
      return i;
    }
  };
  auto clean = [](std::string_view s) {
    std::string out;
    for (char ch : s) {
      if (ch != '_') out.push_back(ch);
    }
    return out;
  };
  // Float: not right after a '.', digits then a fraction and/or an exponent.
  if (pos == 0 || source_[pos - 1] != '.') {
    size_t i = digits(pos);
    size_t end = 0;
    size_t frac = (i < n && source_[i] == '.') ? digits(i + 1) : i + 1;
    size_t mant_end = (frac > i + 1) ? frac : i;
    if (mant_end < n && (source_[mant_end] == 'e' || source_[mant_end] == 'E')) {
      size_t e = mant_end + 1;
      if (e < n && (source_[e] == '+' || source_[e] == '-')) ++e;
      size_t exp_end = digits(e);
      if (exp_end > e) end = exp_end;
    }
    if (end == 0 && frac > i + 1) end = frac;
    if (end != 0) {
      Token t = make(TokenKind::kFloat, pos);
      t.float_value = std::strtod(clean(source_.substr(pos, end - pos)).c_str(), nullptr);
      tokens_.push_back(std::move(t));
      pos_ = end;
      return;
    }
  }
  // Integer: 0b / 0o / 0x prefixes, decimal without leading zeros, or zeros.
  size_t i = pos;
  int base = 10;
  size_t body = pos;
  char p1 = pos + 1 < n ? static_cast<char>(source_[pos + 1] | 0x20) : 0;
  auto prefixed = [&](auto ok) {
    size_t j = pos + 2;
    while (true) {
      size_t k = j;
      if (k < n && source_[k] == '_') ++k;
      if (k < n && ok(source_[k])) {
        j = k + 1;
      } else {
        return j;
      }
    }
  };
  if (source_[pos] == '0' && (p1 == 'b' || p1 == 'o' || p1 == 'x')) {
    base = p1 == 'b' ? 2 : p1 == 'o' ? 8 : 16;
    size_t j = base == 2    ? prefixed([](char ch) { return ch == '0' || ch == '1'; })
               : base == 8 ? prefixed([](char ch) { return ch >= '0' && ch <= '7'; })
                           : prefixed(is_hex);
    if (j > pos + 2) {
      i = j;
      body = pos + 2;
    } else {
      base = 10;
    }
  }
  if (base == 10) {
    if (source_[pos] == '0') {
      i = pos + 1;
      while (true) {
        size_t k = i;
        if (k < n && source_[k] == '_') ++k;
        if (k < n && source_[k] == '0') {
          i = k + 1;
        } else {
          break;
        }
      }
    } else {
      i = pos + 1;
      while (true) {
        size_t k = i;
        if (k < n && source_[k] == '_') ++k;
        if (k < n && is_digit(source_[k])) {
          i = k + 1;
        } else {
          break;
        }
      }
    }
  }
  std::string digits_text = clean(source_.substr(body, i - body));
  errno = 0;
  char* endp = nullptr;
  unsigned long long v = std::strtoull(digits_text.c_str(), &endp, base);
  if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX)) {
    fail(pos, "integer literal too large");
  }
  Token t = make(TokenKind::kInteger, pos);
  t.int_value = static_cast<int64_t>(v);
  tokens_.push_back(std::move(t));
  pos_ = i;
}

void Lexer::lex_string(size_t pos) {
  const size_t n = source_.size();
  char quote = source_[pos];
  size_t i = pos + 1;
  while (true) {
    if (i >= n) fail(pos, std::string("unexpected char '") + quote + "' (unterminated string)");
    char c = source_[i];
    if (c == '\\') {
      i += 2;
      continue;
    }
    if (c == quote) break;
    ++i;
  }
  Token t = make(TokenKind::kString, pos);
  try {
    t.text = unescape(source_.substr(pos + 1, i - pos - 1));
  } catch (TemplateError& e) {
    e.locate(t.line, t.column);
    throw;
  }
  tokens_.push_back(std::move(t));
  pos_ = i + 1;
}

}  // namespace ember::chat
