// UTF-8 helpers of the tokenizer: validation, code point decoding, and the
// lossy conversion Hugging Face applies when ids decode to bytes that are not
// valid UTF-8 (each maximal invalid subpart becomes one U+FFFD, the rule of
// Unicode 3.9 "Substitution of Maximal Subparts", which Rust's
// String::from_utf8_lossy and the WHATWG TextDecoder both follow).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ember::tokenizer {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Offset of the first byte that starts an ill-formed sequence, or npos when
// `s` is valid UTF-8 (surrogates and overlongs are ill-formed).
size_t find_invalid_utf8(std::string_view s);
inline bool is_valid_utf8(std::string_view s) { return find_invalid_utf8(s) == std::string_view::npos; }

// Decodes the code point at p (p < end) of VALID UTF-8 and returns its byte
// length (1..4). Behaviour on invalid input is bounded (never reads past end)
// but the value is unspecified.
inline size_t decode_utf8(const char* p, const char* end, char32_t* cp) {
  const auto b0 = static_cast<uint8_t>(p[0]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  const size_t avail = static_cast<size_t>(end - p);
  auto cont = [&](size_t i) -> char32_t { return i < avail ? static_cast<uint8_t>(p[i]) & 0x3Fu : 0u; };
  if (b0 < 0xE0) {
    *cp = (static_cast<char32_t>(b0 & 0x1F) << 6) | cont(1);
    return avail < 2 ? avail : 2;
  }
  if (b0 < 0xF0) {
    *cp = (static_cast<char32_t>(b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2);
    return avail < 3 ? avail : 3;
  }
  *cp = (static_cast<char32_t>(b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
  return avail < 4 ? avail : 4;
}

// Appends the UTF-8 encoding of cp (cp <= 0x10FFFF).
void append_utf8(char32_t cp, std::string* out);

// Appends `bytes` to out, replacing every maximal invalid subpart with U+FFFD.
// A sequence cut short at the end of `bytes` also becomes one U+FFFD.
void append_utf8_lossy(std::string_view bytes, std::string* out);

// Streaming form of append_utf8_lossy: appends the part of `bytes` whose
// decoding cannot change whatever bytes follow, and returns how many bytes of
// `bytes` it consumed. What is left is a proper prefix of one well-formed
// sequence (at most 3 bytes), to be retried with more bytes or flushed with
// append_utf8_lossy at the end.
size_t append_utf8_lossy_complete(std::string_view bytes, std::string* out);

// Length of the longest prefix of `s` that does not end inside a UTF-8
// sequence (for valid UTF-8: the last character boundary at or before
// `s.size()`).
size_t utf8_boundary_before(std::string_view s, size_t pos);

}  // namespace ember::tokenizer
