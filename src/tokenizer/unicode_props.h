// Character classes of the pre-tokenizer regexes, taken from Oniguruma's own
// Unicode tables (the regex engine Hugging Face tokenizers uses), so the
// hand-written splitter and the regex agree on every code point.
#pragma once

#include <cstdint>

namespace ember::tokenizer {

enum UnicodeClass : uint8_t {
  kClassLetter = 1,  // \p{L}
  kClassNumber = 2,  // \p{N}
  kClassSpace = 4,   // \s (Oniguruma, Unicode: White_Space plus U+0085)
};

// Bits of UnicodeClass for cp (0 for cp > 0x10FFFF). The table is built once
// per process (a few milliseconds) on first use; thread-safe.
uint8_t unicode_class(char32_t cp);

// Calls onig_initialize once per process (UTF-8 only). Every use of
// Oniguruma in the tokenizer goes through this first.
void ensure_oniguruma_initialized();

// Rust regex classes used by Hugging Face's added-token matching
// (single_word, lstrip, rstrip): \w (alphabetic, marks, decimal digits,
// connector punctuation, join controls) and \s (Unicode White_Space).
bool is_rust_word_char(char32_t cp);
bool is_rust_whitespace(char32_t cp);

}  // namespace ember::tokenizer
