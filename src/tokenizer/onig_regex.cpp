#include "tokenizer/onig_regex.h"

#include <oniguruma.h>

#include "tokenizer/unicode_props.h"
#include "tokenizer/utf8.h"

namespace ember::tokenizer {
namespace {

std::string onig_message(int code, OnigErrorInfo* info) {
  OnigUChar buf[ONIG_MAX_ERROR_MESSAGE_LEN + 1] = {};
  if (info)
    onig_error_code_to_str(buf, code, info);
  else
    onig_error_code_to_str(buf, code);
  return reinterpret_cast<const char*>(buf);
}

struct RegionDeleter {
  void operator()(OnigRegion* r) const { onig_region_free(r, 1); }
};

}  // namespace

Result<std::unique_ptr<OnigRegex>> OnigRegex::compile(std::string_view pattern) {
  ensure_oniguruma_initialized();
  if (!is_valid_utf8(pattern)) return invalid_argument("regex pattern is not valid UTF-8");
  std::unique_ptr<OnigRegex> re(new OnigRegex());
  re->pattern_ = std::string(pattern);
  const auto* p = reinterpret_cast<const OnigUChar*>(re->pattern_.data());
  OnigErrorInfo info{};
  regex_t* compiled = nullptr;
  const int rc = onig_new(&compiled, p, p + re->pattern_.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8,
                          ONIG_SYNTAX_DEFAULT, &info);
  if (rc != ONIG_NORMAL)
    return invalid_argument("regex '" + re->pattern_ + "' does not compile: " + onig_message(rc, &info));
  re->regex_ = compiled;
  return re;
}

OnigRegex::~OnigRegex() {
  if (regex_) onig_free(static_cast<regex_t*>(regex_));
}

Status OnigRegex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>* matches) const {
  std::unique_ptr<OnigRegion, RegionDeleter> region(onig_region_new());
  if (!region) return resource_exhausted("oniguruma: out of memory");
  const auto* str = reinterpret_cast<const OnigUChar*>(text.data());
  const OnigUChar* end = str + text.size();
  size_t pos = 0;
  bool have_last = false;
  size_t last_end = 0;
  while (pos <= text.size()) {
    onig_region_clear(region.get());
    const int r = onig_search(static_cast<regex_t*>(regex_), str, end, str + pos, end, region.get(),
                              ONIG_OPTION_NONE);
    if (r == ONIG_MISMATCH) break;
    if (r < 0) return invalid_argument("pre-tokenizer regex failed: " + onig_message(r, nullptr));
    const auto s = static_cast<size_t>(region->beg[0]);
    const auto e = static_cast<size_t>(region->end[0]);
    if (s == e && have_last && last_end == e) {
      // Empty match where the previous one ended: step one character on.
      if (pos >= text.size()) break;
      char32_t cp;
      pos += decode_utf8(text.data() + pos, text.data() + text.size(), &cp);
      continue;
    }
    matches->emplace_back(s, e);
    have_last = true;
    last_end = e;
    pos = e;
  }
  return ok_status();
}

}  // namespace ember::tokenizer
