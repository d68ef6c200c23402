#include "chat/text_ops.h"

#include <algorithm>

namespace ember::chat::text {
namespace {

constexpr uint32_t kEscapeBase = 0xDC00;  // invalid byte b decodes to kEscapeBase + b

bool cont(unsigned char c) { return (c & 0xC0) == 0x80; }

// Case pairs in blocks where upper and lower alternate (even upper, odd lower
// unless odd_upper).
struct AltRange {
  uint32_t first, last;
  bool odd_upper;
};
constexpr AltRange kAltRanges[] = {
    {0x0100, 0x012F, false}, {0x0132, 0x0137, false}, {0x0139, 0x0148, true},
    {0x014A, 0x0177, false}, {0x0179, 0x017E, true},  {0x0182, 0x0185, false},
    {0x01A0, 0x01A5, false}, {0x01CD, 0x01DC, true},  {0x01DE, 0x01EF, false},
    {0x01F8, 0x021F, false}, {0x0222, 0x0233, false}, {0x0246, 0x024F, false},
    {0x0370, 0x0373, false}, {0x03D8, 0x03EF, false}, {0x0460, 0x0481, false},
    {0x048A, 0x04BF, false}, {0x04C1, 0x04CE, true},  {0x04D0, 0x052F, false},
    {0x1E00, 0x1E95, false}, {0x1EA0, 0x1EFF, false}, {0x2C80, 0x2CE3, false},
    {0xA640, 0xA66D, false}, {0xA680, 0xA69B, false}, {0xA722, 0xA72F, false},
    {0xA732, 0xA76F, false}, {0xA779, 0xA77C, true},  {0xA77E, 0xA787, false},
};

// Blocks where lower = upper + delta.
struct OffsetRange {
  uint32_t upper_first, upper_last;
  int32_t delta;
};
constexpr OffsetRange kOffsetRanges[] = {
    {0x0041, 0x005A, 32},   {0x00C0, 0x00D6, 32},  {0x00D8, 0x00DE, 32},
    {0x0391, 0x03A1, 32},   {0x03A3, 0x03AB, 32},  {0x0388, 0x038A, 37},
    {0x038E, 0x038F, 63},   {0x0410, 0x042F, 32},  {0x0400, 0x040F, 80},
    {0x0531, 0x0556, 48},   {0x10A0, 0x10C5, 7264}, {0x1F08, 0x1F0F, -8},
    {0x1F18, 0x1F1D, -8},   {0x1F28, 0x1F2F, -8},  {0x1F38, 0x1F3F, -8},
    {0x1F48, 0x1F4D, -8},   {0x1F68, 0x1F6F, -8},  {0x24B6, 0x24CF, 26},
    {0x2C00, 0x2C2F, 48},   {0xFF21, 0xFF3A, 32},  {0x10400, 0x10427, 40},
};

struct Pair {
  uint32_t upper, lower;
};
constexpr Pair kPairs[] = {
    {0x0178, 0x00FF}, {0x0386, 0x03AC}, {0x038C, 0x03CC}, {0x0187, 0x0188},
    {0x018B, 0x018C}, {0x0191, 0x0192}, {0x0198, 0x0199}, {0x01A7, 0x01A8},
    {0x01AC, 0x01AD}, {0x01AF, 0x01B0}, {0x01B3, 0x01B4}, {0x01B5, 0x01B6},
    {0x01B8, 0x01B9}, {0x01BC, 0x01BD}, {0x01C4, 0x01C6}, {0x01C7, 0x01C9},
    {0x01CA, 0x01CC}, {0x01F1, 0x01F3}, {0x01F4, 0x01F5}, {0x0130, 0x0069},
};

bool in_alt(uint32_t cp, bool* upper) {
  for (const AltRange& r : kAltRanges) {
    if (cp >= r.first && cp <= r.last) {
      bool odd = (cp & 1) != 0;
      *upper = (odd == r.odd_upper);
      return true;
    }
  }
  return false;
}

}  // namespace

uint32_t decode(std::string_view s, size_t& i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  unsigned char c = p[i];
  if (c < 0x80) {
    ++i;
    return c;
  }
  int len = 0;
  uint32_t cp = 0;
  uint32_t min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, cp = c & 0x07, min = 0x10000;
  }
  if (len == 0 || i + len > n) {
    ++i;
    return kEscapeBase + c;
  }
  for (int k = 1; k < len; ++k) {
    if (!cont(p[i + k])) {
      ++i;
      return kEscapeBase + c;
    }
    cp = (cp << 6) | (p[i + k] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kEscapeBase + c;
  }
  i += len;
  return cp;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp >= kEscapeBase + 0x80 && cp <= kEscapeBase + 0xFF) {
    out.push_back(static_cast<char>(cp - kEscapeBase));
  } else if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    if (cp > 0x10FFFF) cp = 0xFFFD;
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::vector<uint32_t> code_points(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) out.push_back(decode(s, i));
  return out;
}

std::string from_code_points(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t k = begin; k < end; ++k) append_utf8(out, cps[k]);
  return out;
}

size_t length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    decode(s, i);
    ++n;
  }
  return n;
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

size_t byte_offset(std::string_view s, size_t index) {
  size_t i = 0;
  for (size_t k = 0; k < index && i < s.size(); ++k) decode(s, i);
  return i;
}

bool is_space(uint32_t cp) {
  if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool is_line_break(uint32_t cp) {
  return cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || (cp >= 0x1C && cp <= 0x1E) ||
         cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

bool is_printable(uint32_t cp) {
  if (cp < 0x20 || cp == 0x7F) return false;
  if (cp < 0x7F) return true;
  if (cp >= kEscapeBase + 0x80 && cp <= kEscapeBase + 0xFF) return false;
  if (cp <= 0xA0 || cp == 0xAD) return false;  // C1 controls, no-break space, soft hyphen
  if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
      (cp >= 0x205F && cp <= 0x206F) || cp == 0x3000 || cp == 0xFEFF || cp == 0x061C ||
      cp == 0x180E)
    return false;
  if (cp >= 0xD800 && cp <= 0xF8FF) return false;  // surrogates, private use
  if (cp == 0xFFFE || cp == 0xFFFF || (cp >= 0xFFF9 && cp <= 0xFFFB)) return false;
  if (cp >= 0xF0000) return false;
  return true;
}

bool is_upper(uint32_t cp) {
  if (cp < 0x80) return cp >= 'A' && cp <= 'Z';
  return to_lower(cp) != cp;
}

bool is_lower(uint32_t cp) {
  if (cp < 0x80) return cp >= 'a' && cp <= 'z';
  return to_upper(cp) != cp || cp == 0xDF;
}

bool is_digit(uint32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  static constexpr uint32_t kZeros[] = {0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66,
                                        0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
                                        0x0E50, 0x0ED0, 0x0F20, 0x1040, 0xFF10};
  for (uint32_t z : kZeros) {
    if (cp >= z && cp <= z + 9) return true;
  }
  return false;
}

bool is_alpha(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  if (cp == 0xAA || cp == 0xB5 || cp == 0xBA || cp == 0xDF) return true;
  if (is_upper(cp) || is_lower(cp)) return true;
  struct R {
    uint32_t a, b;
  };
  static constexpr R kLetters[] = {
      {0x00C0, 0x024F}, {0x0370, 0x03FF}, {0x0400, 0x052F}, {0x0531, 0x0587},
      {0x05D0, 0x05EA}, {0x0620, 0x064A}, {0x066E, 0x06D3}, {0x0904, 0x0939},
      {0x0E01, 0x0E30}, {0x10A0, 0x10FF}, {0x1100, 0x11FF}, {0x1E00, 0x1FFF},
      {0x3041, 0x3096}, {0x30A1, 0x30FA}, {0x3105, 0x312F}, {0x3400, 0x4DBF},
      {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0xF900, 0xFAFF}, {0xFF21, 0xFF3A},
      {0xFF41, 0xFF5A}, {0xFF66, 0xFF9F}, {0x20000, 0x2FA1F}};
  for (const R& r : kLetters) {
    if (cp >= r.a && cp <= r.b) return cp != 0xD7 && cp != 0xF7;
  }
  return false;
}

bool is_word(uint32_t cp) { return cp == '_' || is_alpha(cp) || is_digit(cp); }

uint32_t to_upper(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  if (cp == 0xB5) return 0x39C;
  if (cp == 0x3C2) return 0x3A3;  // final sigma
  if (cp == 0x17F) return 'S';
  if (cp == 0x131) return 'I';
  for (const OffsetRange& r : kOffsetRanges) {
    uint32_t lo = r.upper_first + r.delta, hi = r.upper_last + r.delta;
    if (cp >= lo && cp <= hi) return cp - r.delta;
  }
  for (const Pair& p : kPairs) {
    if (cp == p.lower && p.lower >= 0x80) return p.upper;
  }
  bool upper = false;
  if (in_alt(cp, &upper) && !upper) return cp - 1;
  return cp;
}

uint32_t to_lower(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  for (const OffsetRange& r : kOffsetRanges) {
    if (cp >= r.upper_first && cp <= r.upper_last) return cp + r.delta;
  }
  for (const Pair& p : kPairs) {
    if (cp == p.upper) return p.lower;
  }
  bool upper = false;
  if (in_alt(cp, &upper) && upper) return cp + 1;
  return cp;
}

namespace {

template <class F>
std::string map_cps(std::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) f(out, decode(s, i));
  return out;
}

void append_upper(std::string& out, uint32_t cp) {
  if (cp == 0xDF) {
    out += "SS";
  } else {
    append_utf8(out, to_upper(cp));
  }
}

bool is_cased(uint32_t cp) { return is_upper(cp) || is_lower(cp) || cp == 0xDF; }

}  // namespace

std::string upper(std::string_view s) {
  return map_cps(s, [](std::string& out, uint32_t cp) { append_upper(out, cp); });
}

std::string lower(std::string_view s) {
  return map_cps(s, [](std::string& out, uint32_t cp) { append_utf8(out, to_lower(cp)); });
}

std::string swapcase(std::string_view s) {
  return map_cps(s, [](std::string& out, uint32_t cp) {
    if (is_upper(cp)) {
      append_utf8(out, to_lower(cp));
    } else if (is_lower(cp)) {
      append_upper(out, cp);
    } else {
      append_utf8(out, cp);
    }
  });
}

std::string capitalize(std::string_view s) {
  bool first = true;
  return map_cps(s, [&](std::string& out, uint32_t cp) {
    if (first) {
      append_upper(out, cp);
      first = false;
    } else {
      append_utf8(out, to_lower(cp));
    }
  });
}

std::string title(std::string_view s) {
  bool prev_cased = false;
  return map_cps(s, [&](std::string& out, uint32_t cp) {
    if (is_cased(cp)) {
      if (prev_cased) {
        append_utf8(out, to_lower(cp));
      } else {
        append_upper(out, cp);
      }
      prev_cased = true;
    } else {
      append_utf8(out, cp);
      prev_cased = false;
    }
  });
}

std::string strip(std::string_view s, const std::string* chars, bool left, bool right) {
  std::vector<uint32_t> set;
  if (chars != nullptr) set = code_points(*chars);
  auto strippable = [&](uint32_t cp) {
    if (chars == nullptr) return is_space(cp);
    return std::find(set.begin(), set.end(), cp) != set.end();
  };
  std::vector<uint32_t> cps = code_points(s);
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && strippable(cps[b])) ++b;
  }
  if (right) {
    while (e > b && strippable(cps[e - 1])) --e;
  }
  if (b == 0 && e == cps.size()) return std::string(s);
  return from_code_points(cps, b, e);
}

std::vector<std::string> split(std::string_view s, const std::string* sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep != nullptr) {
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      size_t hit = s.find(*sep, pos);
      if (hit == std::string_view::npos) break;
      out.emplace_back(s.substr(pos, hit - pos));
      pos = hit + sep->size();
    }
    out.emplace_back(s.substr(pos));
    return out;
  }
  std::vector<uint32_t> cps = code_points(s);
  size_t i = 0, n = cps.size();
  while (true) {
    while (i < n && is_space(cps[i])) ++i;
    if (i >= n) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
      out.push_back(from_code_points(cps, i, n));
      break;
    }
    size_t j = i;
    while (j < n && !is_space(cps[j])) ++j;
    out.push_back(from_code_points(cps, i, j));
    i = j;
  }
  return out;
}

std::vector<std::string> rsplit(std::string_view s, const std::string* sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep != nullptr) {
    size_t end = s.size();
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      if (end < sep->size()) break;
      size_t hit = s.rfind(*sep, end - sep->size());
      if (hit == std::string_view::npos) break;
      out.emplace_back(s.substr(hit + sep->size(), end - hit - sep->size()));
      end = hit;
    }
    out.emplace_back(s.substr(0, end));
    std::reverse(out.begin(), out.end());
    return out;
  }
  std::vector<uint32_t> cps = code_points(s);
  size_t j = cps.size();
  while (true) {
    while (j > 0 && is_space(cps[j - 1])) --j;
    if (j == 0) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
      out.push_back(from_code_points(cps, 0, j));
      break;
    }
    size_t i = j;
    while (i > 0 && !is_space(cps[i - 1])) --i;
    out.push_back(from_code_points(cps, i, j));
    j = i;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> splitlines(std::string_view s, bool keepends) {
  std::vector<std::string> out;
  std::string line;
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    uint32_t cp = decode(s, i);
    if (!is_line_break(cp)) {
      line.append(s.substr(start, i - start));
      continue;
    }
    size_t end = i;
    if (cp == '\r' && i < s.size() && s[i] == '\n') end = ++i;
    if (keepends) line.append(s.substr(start, end - start));
    out.push_back(std::move(line));
    line.clear();
  }
  if (!line.empty()) out.push_back(std::move(line));
  return out;
}

std::string replace(std::string_view s, std::string_view from, std::string_view to, int64_t count) {
  std::string out;
  if (from.empty()) {
    int64_t done = 0;
    size_t i = 0;
    while (true) {
      if (count < 0 || done < count) {
        out.append(to);
        ++done;
      }
      if (i >= s.size()) break;
      size_t start = i;
      decode(s, i);
      out.append(s.substr(start, i - start));
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
    ++done;
  }
  out.append(s.substr(pos));
  return out;
}

int64_t count(std::string_view s, std::string_view sub) {
  if (sub.empty()) return static_cast<int64_t>(length(s)) + 1;
  int64_t n = 0;
  for (size_t pos = s.find(sub); pos != std::string_view::npos; pos = s.find(sub, pos + sub.size())) ++n;
  return n;
}

int64_t find(std::string_view s, std::string_view sub, bool reverse) {
  size_t pos = reverse ? s.rfind(sub) : s.find(sub);
  if (pos == std::string_view::npos) return -1;
  return static_cast<int64_t>(length(s.substr(0, pos)));
}

}  // namespace ember::chat::text
