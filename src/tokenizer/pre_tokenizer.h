// The pre-tokenizer: cuts normalized text into words that BPE encodes one at
// a time. Supports what the Qwen2 / Llama-3 / GPT-2 byte-level tokenizers
// use: Split (regex or literal, every delimiter behavior, invert) and
// ByteLevel (add_prefix_space, use_regex with GPT-2's pattern), in sequence.
// ByteLevel must come last: BPE then runs on the raw bytes of each word.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/fast_splitter.h"
#include "tokenizer/onig_regex.h"

namespace ember::tokenizer {

inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct PreTokenizerStep {
  enum class Kind { kSplit, kByteLevel };
  Kind kind = Kind::kByteLevel;
  // kSplit
  std::string pattern;
  bool pattern_is_regex = true;  // false: a literal string
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  // kByteLevel
  bool add_prefix_space = false;
  bool use_regex = true;
};

class PreTokenizer {
 public:
  using WordSink = std::function<void(std::string_view)>;

  PreTokenizer() = default;
  // Compiles the regexes; invalid_argument / unsupported naming the step.
  static Result<std::shared_ptr<const PreTokenizer>> create(std::vector<PreTokenizerStep> steps);

  // Calls on_word for each non-empty word of text (valid UTF-8), in order.
  Status split(std::string_view text, const WordSink& on_word) const;

  // When the whole pipeline is one regex split that FastSplitter does
  // (Isolated, not inverted) followed by a plain ByteLevel, the splitter;
  // the tokenizer then runs it inline.
  const FastSplitter* fast_path() const { return fast_path_ ? &*fast_path_ : nullptr; }

 private:
  struct Compiled {
    PreTokenizerStep step;
    std::unique_ptr<OnigRegex> regex;     // regex Split, or ByteLevel use_regex
    std::optional<FastSplitter> fast;     // the same regex, hand-written
  };
  Status run(size_t index, std::string_view piece, const WordSink& on_word) const;
  // (begin, end, is_match) covering piece, as Hugging Face's Pattern does.
  Status find_matches(const Compiled& c, std::string_view piece,
                      std::vector<std::tuple<size_t, size_t, bool>>* out) const;

  std::vector<Compiled> steps_;
  std::optional<FastSplitter> fast_path_;
};

}  // namespace ember::tokenizer
