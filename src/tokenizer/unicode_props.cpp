#include "tokenizer/unicode_props.h"

#include <oniguruma.h>
#include <utf8proc.h>

#include <array>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace ember::tokenizer {
namespace {

constexpr char32_t kNumCodePoints = 0x110000;
constexpr int kBlockBits = 8;
constexpr size_t kBlockSize = size_t{1} << kBlockBits;

// Two-stage table: block index per 256 code points, deduplicated blocks.
struct ClassTable {
  std::vector<uint16_t> stage1;  // [kNumCodePoints / 256]
  std::vector<uint8_t> stage2;   // [num_blocks * 256]
};

void fill_property(OnigEncoding enc, const char* name, uint8_t bit, std::vector<uint8_t>* flat) {
  std::string n(name);
  auto* p = reinterpret_cast<OnigUChar*>(n.data());
  const int ctype = ONIGENC_PROPERTY_NAME_TO_CTYPE(enc, p, p + n.size());
  OnigCodePoint sb_out = 0;
  const OnigCodePoint* ranges = nullptr;
  if (ctype < 0 || ONIGENC_GET_CTYPE_CODE_RANGE(enc, ctype, &sb_out, &ranges) != 0 || !ranges) {
    // Not expected with any Oniguruma 6.x; fall back to asking per code point.
    for (char32_t c = 0; c < kNumCodePoints; ++c)
      if (ctype >= 0 && ONIGENC_IS_CODE_CTYPE(enc, c, ctype)) (*flat)[c] |= bit;
    return;
  }
  const OnigCodePoint count = ranges[0];
  for (OnigCodePoint i = 0; i < count; ++i) {
    const OnigCodePoint lo = ranges[1 + 2 * i], hi = ranges[2 + 2 * i];
    for (OnigCodePoint c = lo; c <= hi && c < kNumCodePoints; ++c) (*flat)[c] |= bit;
  }
}

ClassTable build_table() {
  ensure_oniguruma_initialized();
  OnigEncoding enc = ONIG_ENCODING_UTF8;
  std::vector<uint8_t> flat(kNumCodePoints, 0);
  fill_property(enc, "L", kClassLetter, &flat);
  fill_property(enc, "N", kClassNumber, &flat);
  fill_property(enc, "Space", kClassSpace, &flat);
  ClassTable t;
  t.stage1.resize(kNumCodePoints >> kBlockBits);
  std::map<std::string, uint16_t> seen;
  for (size_t b = 0; b < t.stage1.size(); ++b) {
    std::string key(reinterpret_cast<const char*>(flat.data() + b * kBlockSize), kBlockSize);
    auto [it, inserted] = seen.emplace(std::move(key), static_cast<uint16_t>(seen.size()));
    if (inserted) t.stage2.insert(t.stage2.end(), flat.begin() + b * kBlockSize, flat.begin() + (b + 1) * kBlockSize);
    t.stage1[b] = it->second;
  }
  return t;
}

const ClassTable& class_table() {
  static const ClassTable table = build_table();
  return table;
}

}  // namespace

void ensure_oniguruma_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[1] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

uint8_t unicode_class(char32_t cp) {
  if (cp >= kNumCodePoints) return 0;
  const ClassTable& t = class_table();
  return t.stage2[(size_t{t.stage1[cp >> kBlockBits]} << kBlockBits) | (cp & (kBlockSize - 1))];
}

bool is_rust_whitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool is_rust_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (c == 0x200C || c == 0x200D) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

}  // namespace ember::tokenizer
