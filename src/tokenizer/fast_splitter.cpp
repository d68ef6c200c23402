#include "tokenizer/fast_splitter.h"

#include <array>
#include <cstdint>

#include "tokenizer/unicode_props.h"
#include "tokenizer/utf8.h"

namespace ember::tokenizer {
namespace {

constexpr uint8_t kL = kClassLetter, kN = kClassNumber, kS = kClassSpace;
constexpr uint8_t kCrLf = 8;  // \r or \n (also kS)

struct AsciiTable {
  std::array<uint8_t, 128> cls{};
  AsciiTable() {
    for (char32_t c = 0; c < 128; ++c) cls[c] = unicode_class(c);
    cls['\r'] |= kCrLf;
    cls['\n'] |= kCrLf;
  }
};

const AsciiTable& ascii_table() {
  static const AsciiTable t;
  return t;
}

struct Char {
  uint8_t cls;
  uint8_t len;
  char32_t cp;
};

class Scanner {
 public:
  explicit Scanner(std::string_view text) : p_(text.data()), n_(text.size()), ascii_(ascii_table().cls) {}

  size_t size() const { return n_; }

  Char at(size_t i) const {
    const auto b = static_cast<uint8_t>(p_[i]);
    if (b < 0x80) return {ascii_[b], 1, b};
    char32_t cp;
    const size_t len = decode_utf8(p_ + i, p_ + n_, &cp);
    return {unicode_class(cp), static_cast<uint8_t>(len), cp};
  }

  // End of the run of characters from i whose class satisfies pred.
  template <class Pred>
  size_t run(size_t i, Pred pred) const {
    while (i < n_) {
      const auto b = static_cast<uint8_t>(p_[i]);
      if (b < 0x80) {
        if (!pred(ascii_[b])) break;
        ++i;
        continue;
      }
      const Char c = at(i);
      if (!pred(c.cls)) break;
      i += c.len;
    }
    return i;
  }

 private:
  const char* p_;
  size_t n_;
  const std::array<uint8_t, 128>& ascii_;
};

inline bool is_other(uint8_t cls) { return (cls & (kL | kN | kS)) == 0; }  // [^\s\p{L}\p{N}]
inline bool is_letter(uint8_t cls) { return (cls & kL) != 0; }

// (?i:...) for the letter after the apostrophe: ASCII letters and the
// characters that case-fold to one of them (U+017F LATIN SMALL LETTER LONG S).
inline char32_t fold(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c == 0x17F) return 's';
  return c;
}

// Length of a contraction ('s 't 're 've 'm 'll 'd) at i (text[i] == '\''), or 0.
size_t contraction(const Scanner& s, size_t i) {
  if (i + 1 >= s.size()) return 0;
  const Char c1 = s.at(i + 1);
  const char32_t f1 = fold(c1.cp);
  if (f1 == 's' || f1 == 't' || f1 == 'm' || f1 == 'd') return 1 + c1.len;
  if (f1 != 'r' && f1 != 'v' && f1 != 'l') return 0;
  const size_t j = i + 1 + c1.len;
  if (j >= s.size()) return 0;
  const Char c2 = s.at(j);
  const char32_t f2 = fold(c2.cp);
  if ((f1 == 'r' || f1 == 'v') && f2 == 'e') return 1 + c1.len + c2.len;
  if (f1 == 'l' && f2 == 'l') return 1 + c1.len + c2.len;
  return 0;
}

}  // namespace

std::optional<FastSplitter> FastSplitter::for_pattern(std::string_view pattern) {
  if (pattern == kQwen2Pattern) return FastSplitter(1);
  if (pattern == kLlama3Pattern) return FastSplitter(3);
  return std::nullopt;
}

size_t FastSplitter::match_end(std::string_view text, size_t p) const {
  const Scanner s(text);
  const size_t n = s.size();
  const Char c0 = s.at(p);

  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (c0.cp == '\'') {
    if (const size_t len = contraction(s, p); len) return p + len;
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (is_letter(c0.cls)) return s.run(p, is_letter);
  const size_t p1 = p + c0.len;
  if ((c0.cls & (kCrLf | kL | kN)) == 0 && p1 < n && is_letter(s.at(p1).cls)) return s.run(p1, is_letter);
  // \p{N}{1,D}
  if (c0.cls & kN) {
    size_t e = p1;
    for (int k = 1; k < max_digits_ && e < n; ++k) {
      const Char c = s.at(e);
      if (!(c.cls & kN)) break;
      e += c.len;
    }
    return e;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  auto crlf = [](uint8_t cls) { return (cls & kCrLf) != 0; };
  if (c0.cp == ' ' && p1 < n && is_other(s.at(p1).cls)) return s.run(s.run(p1, is_other), crlf);
  if (is_other(c0.cls)) return s.run(s.run(p, is_other), crlf);

  // c0 is whitespace. \s*[\r\n]+ : the run up to its last \r or \n.
  const size_t q = s.run(p, [](uint8_t cls) { return (cls & kS) != 0; });
  for (size_t k = q; k > p; --k) {
    const char b = text[k - 1];
    if (b == '\r' || b == '\n') return k;
  }
  // \s+(?!\S) : all of it at the end of the text, else all but its last
  // character when that leaves at least one.
  if (q == n) return q;
  const size_t last = utf8_boundary_before(text, q - 1);
  if (last > p) return last;
  // \s+
  return q;
}

}  // namespace ember::tokenizer
