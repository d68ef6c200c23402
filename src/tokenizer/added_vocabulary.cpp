#include "tokenizer/added_vocabulary.h"

#include <algorithm>
#include <cstring>

#include "tokenizer/unicode_props.h"
#include "tokenizer/utf8.h"

namespace ember::tokenizer {
namespace {

// The code point that ends s (valid UTF-8, non-empty) and where it starts.
char32_t last_char(std::string_view s, size_t* start) {
  size_t p = s.size() - 1;
  while (p > 0 && (static_cast<uint8_t>(s[p]) & 0xC0) == 0x80) --p;
  char32_t cp;
  decode_utf8(s.data() + p, s.data() + s.size(), &cp);
  *start = p;
  return cp;
}

bool ends_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t p;
  return is_rust_word_char(last_char(s, &p));
}

bool starts_with_word(std::string_view s) {
  if (s.empty()) return false;
  char32_t cp;
  decode_utf8(s.data(), s.data() + s.size(), &cp);
  return is_rust_word_char(cp);
}

// Start of the whitespace that ends s (s.size() if none).
size_t trailing_space_start(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t p;
    if (!is_rust_whitespace(last_char(s.substr(0, end), &p))) break;
    end = p;
  }
  return end;
}

// Length of the whitespace that starts s.
size_t leading_space_length(std::string_view s) {
  size_t p = 0;
  while (p < s.size()) {
    char32_t cp;
    const size_t len = decode_utf8(s.data() + p, s.data() + s.size(), &cp);
    if (!is_rust_whitespace(cp)) break;
    p += len;
  }
  return p;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (tokens_[i].content.empty()) continue;
    const auto b = static_cast<uint8_t>(tokens_[i].content[0]);
    by_first_byte_[b].push_back(static_cast<int>(i));
    first_byte_[b] = true;
  }
  int used = 0;
  for (int b = 0; b < 256; ++b) {
    auto& v = by_first_byte_[b];
    std::stable_sort(v.begin(), v.end(), [&](int x, int y) { return tokens_[x].content.size() > tokens_[y].content.size(); });
    if (!v.empty()) {
      ++used;
      single_first_byte_ = b;
    }
  }
  if (used != 1) single_first_byte_ = -1;
}

int AddedTokenMatcher::longest_at(std::string_view text, size_t pos) const {
  const size_t rest = text.size() - pos;
  for (int idx : by_first_byte_[static_cast<uint8_t>(text[pos])]) {
    const std::string& c = tokens_[idx].content;
    if (c.size() <= rest && std::memcmp(text.data() + pos, c.data(), c.size()) == 0) return idx;
  }
  return -1;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<Segment>* out) const {
  size_t start_offset = 0;  // end of what earlier segments cover
  size_t pos = 0;           // where the next match search starts
  while (pos < text.size()) {
    // Leftmost position where some token matches.
    if (single_first_byte_ >= 0) {
      const void* hit = std::memchr(text.data() + pos, single_first_byte_, text.size() - pos);
      if (!hit) break;
      pos = static_cast<size_t>(static_cast<const char*>(hit) - text.data());
    } else {
      while (pos < text.size() && !first_byte_[static_cast<uint8_t>(text[pos])]) ++pos;
      if (pos == text.size()) break;
    }
    const int idx = longest_at(text, pos);
    if (idx < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = tokens_[idx];
    size_t start = pos, stop = pos + tok.content.size();
    pos = stop;  // the next search starts after this match, used or not
    if (start < start_offset) continue;  // inside what an rstrip swallowed
    if (tok.single_word) {
      const bool space_before = start == 0 || !ends_with_word(text.substr(0, start));
      const bool space_after = stop == text.size() || !starts_with_word(text.substr(stop));
      if (!space_before || !space_after) continue;
    }
    if (tok.lstrip) start = std::max(trailing_space_start(text.substr(0, start)), start_offset);
    if (tok.rstrip) stop += leading_space_length(text.substr(stop));
    if (start_offset < start) out->push_back({start_offset, start, -1});
    out->push_back({start, stop, tok.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) out->push_back({start_offset, text.size(), -1});
}

}  // namespace ember::tokenizer
