// A compiled Oniguruma regex (UTF-8, the library's default syntax, as the
// Rust `onig` crate that Hugging Face tokenizers uses compiles it) and its
// match iteration.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ember::tokenizer {

class OnigRegex {
 public:
  // invalid_argument naming the pattern and Oniguruma's message on a bad one.
  static Result<std::unique_ptr<OnigRegex>> compile(std::string_view pattern);
  ~OnigRegex();
  OnigRegex(const OnigRegex&) = delete;
  OnigRegex& operator=(const OnigRegex&) = delete;

  const std::string& pattern() const { return pattern_; }

  // Appends the [start, end) byte ranges of the successive non-overlapping
  // matches in `text` (valid UTF-8), the way the Rust crate's find_iter does:
  // each search starts where the previous match ended, and an empty match
  // right at the previous match's end is skipped by one character. Fails
  // (never crashes) if Oniguruma reports an error such as its backtracking
  // limit. Safe to call from several threads at once.
  Status find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>* matches) const;

 private:
  OnigRegex() = default;
  void* regex_ = nullptr;  // OnigRegex (regex_t*)
  std::string pattern_;
};

}  // namespace ember::tokenizer
