#include "tokenizer/utf8.h"

#include <cstring>

namespace ember::tokenizer {
namespace {

// Unicode Table 3-7: the length of the sequence a lead byte starts and the
// allowed range of its second byte; length 0 for bytes that cannot lead.
struct LeadInfo {
  uint8_t length, lo, hi;
};

inline LeadInfo lead_info(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b < 0xC2) return {0, 0, 0};
  if (b < 0xE0) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b < 0xF0) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b < 0xF4) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// Classifies the sequence at bytes[i]: returns its length when complete and
// well-formed (> 0), or -(maximal subpart length) when ill-formed, or 0 when
// it is a well-formed prefix cut by the end of `bytes`.
inline int classify(std::string_view bytes, size_t i) {
  const auto b0 = static_cast<uint8_t>(bytes[i]);
  const LeadInfo info = lead_info(b0);
  if (info.length == 0) return -1;
  if (info.length == 1) return 1;
  const size_t avail = bytes.size() - i;
  for (size_t k = 1; k < info.length; ++k) {
    if (k >= avail) return 0;
    const auto b = static_cast<uint8_t>(bytes[i + k]);
    const uint8_t lo = k == 1 ? info.lo : 0x80;
    const uint8_t hi = k == 1 ? info.hi : 0xBF;
    if (b < lo || b > hi) return -static_cast<int>(k);
  }
  return info.length;
}

inline bool word_is_ascii(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return (w & 0x8080808080808080ull) == 0;
}

}  // namespace

size_t find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    if (i + 8 <= n && word_is_ascii(s.data() + i)) {
      i += 8;
      continue;
    }
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const int c = classify(s, i);
    if (c <= 0) return i;
    i += static_cast<size_t>(c);
  }
  return std::string_view::npos;
}

void append_utf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t append_utf8_lossy_complete(std::string_view bytes, std::string* out) {
  size_t i = 0;
  size_t run = 0;  // start of the pending run of valid bytes
  const size_t n = bytes.size();
  while (i < n) {
    if (static_cast<uint8_t>(bytes[i]) < 0x80) {
      ++i;
      continue;
    }
    const int c = classify(bytes, i);
    if (c > 0) {
      i += static_cast<size_t>(c);
      continue;
    }
    out->append(bytes.data() + run, i - run);
    if (c == 0) return i;  // a prefix that more bytes may complete
    out->append(kReplacementChar);
    i += static_cast<size_t>(-c);
    run = i;
  }
  out->append(bytes.data() + run, n - run);
  return n;
}

void append_utf8_lossy(std::string_view bytes, std::string* out) {
  const size_t used = append_utf8_lossy_complete(bytes, out);
  if (used < bytes.size()) out->append(kReplacementChar);  // one truncated sequence
}

size_t utf8_boundary_before(std::string_view s, size_t pos) {
  if (pos >= s.size()) return s.size();
  // Step back over at most 3 continuation bytes.
  size_t p = pos;
  for (int k = 0; k < 3 && p > 0 && (static_cast<uint8_t>(s[p]) & 0xC0) == 0x80; ++k) --p;
  return (static_cast<uint8_t>(s[p]) & 0xC0) == 0x80 ? pos : p;
}

}  // namespace ember::tokenizer
