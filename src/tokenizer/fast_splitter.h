// A hand-written matcher for the two pre-tokenizer regexes of the Qwen2 and
// Llama-3 families, equivalent to Oniguruma running them (leftmost-first
// alternation with backtracking), but without a regex engine in the loop:
//
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}|
//   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// with D = 1 (Qwen2) or 3 (Llama-3; written \p{N}{1,3}). Every position of a
// text starts a match, so the matches tile the text. Character classes come
// from Oniguruma's tables (unicode_props.h). Tests and the fuzz target check
// it against OnigRegex on the same inputs.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace ember::tokenizer {

inline constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

class FastSplitter {
 public:
  // The splitter equivalent to `pattern`, if it is one of the patterns above.
  static std::optional<FastSplitter> for_pattern(std::string_view pattern);
  explicit FastSplitter(int max_digits) : max_digits_(max_digits) {}

  // End of the match that starts at pos (pos < text.size(); text valid UTF-8).
  size_t match_end(std::string_view text, size_t pos) const;

  // Calls on_piece(begin, end) for each match in order.
  template <class F>
  void split(std::string_view text, F&& on_piece) const {
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t end = match_end(text, pos);
      on_piece(pos, end);
      pos = end;
    }
  }

 private:
  int max_digits_;
};

}  // namespace ember::tokenizer
