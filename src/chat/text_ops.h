// Python str semantics on UTF-8 bytes: code points (not bytes) for lengths,
// indices and slices, Python's notion of whitespace (str.isspace) for
// strip/split, and case mapping for the common alphabets. Bytes that are not
// valid UTF-8 decode to U+DC80..U+DCFF (like Python's surrogateescape) and
// encode back to the same byte, so nothing is ever lost.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::chat::text {

// Decodes the code point at s[i] and advances i past it.
uint32_t decode(std::string_view s, size_t& i);
void append_utf8(std::string& out, uint32_t cp);
std::vector<uint32_t> code_points(std::string_view s);
std::string from_code_points(const std::vector<uint32_t>& cps, size_t begin, size_t end);
size_t length(std::string_view s);  // in code points
bool is_ascii(std::string_view s);
// Byte offset of code point number `index` (s.size() when index == length).
size_t byte_offset(std::string_view s, size_t index);

bool is_space(uint32_t cp);      // str.isspace
bool is_printable(uint32_t cp);  // str.isprintable, approximately (for repr)
bool is_alpha(uint32_t cp);      // letters of the alphabets case mapping knows, plus CJK etc.
bool is_digit(uint32_t cp);
bool is_word(uint32_t cp);       // regex \w
bool is_line_break(uint32_t cp); // str.splitlines boundaries
uint32_t to_upper(uint32_t cp);
uint32_t to_lower(uint32_t cp);
bool is_upper(uint32_t cp);
bool is_lower(uint32_t cp);

std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string capitalize(std::string_view s);   // str.capitalize
std::string title(std::string_view s);        // str.title
std::string swapcase(std::string_view s);

// str.strip / lstrip / rstrip; chars == nullptr means whitespace.
std::string strip(std::string_view s, const std::string* chars, bool left, bool right);
// str.split(sep, maxsplit) / str.rsplit; sep == nullptr splits on runs of whitespace.
// An empty separator is a ValueError in Python; callers check before.
std::vector<std::string> split(std::string_view s, const std::string* sep, int64_t maxsplit);
std::vector<std::string> rsplit(std::string_view s, const std::string* sep, int64_t maxsplit);
std::vector<std::string> splitlines(std::string_view s, bool keepends);
// str.replace(old, new, count); count < 0 replaces all.
std::string replace(std::string_view s, std::string_view from, std::string_view to, int64_t count);
// str.count(sub) and str.find(sub) / rfind in code points (-1 when absent).
int64_t count(std::string_view s, std::string_view sub);
int64_t find(std::string_view s, std::string_view sub, bool reverse);

}  // namespace ember::chat::text
