// Tokens added on top of the BPE vocabulary (tokenizer.json "added_tokens",
// GGUF control / user-defined tokens) and how they are cut out of a text
// before normalization and BPE, as Hugging Face's AddedVocabulary does:
// leftmost-longest matching, then the single_word / lstrip / rstrip rules.
// Tokens with normalized=false are matched in the raw text; the others in
// the normalized text of the pieces between.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::tokenizer {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;     // skipped by decode(skip_special_tokens)
  bool normalized = true;   // matched against normalized text
  bool lstrip = false;      // swallows the whitespace on its left
  bool rstrip = false;      // swallows the whitespace on its right
  bool single_word = false; // only matches between non-word characters
};

// One piece of a split: text (token < 0, [begin, end) of the input) or an
// added token (token = its id, begin/end = what it covers incl. stripped spaces).
struct Segment {
  size_t begin = 0, end = 0;
  int32_t token = -1;
};

// Finds a set of added tokens in text.
class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

  bool empty() const { return tokens_.empty(); }

  // Appends the segments of text (valid UTF-8), in order, covering it all.
  // Text segments are never empty.
  void split(std::string_view text, std::vector<Segment>* out) const;

 private:
  // The longest token that matches at text[pos], or -1.
  int longest_at(std::string_view text, size_t pos) const;

  std::vector<AddedToken> tokens_;
  std::array<std::vector<int>, 256> by_first_byte_;  // token indices, longest first
  std::array<bool, 256> first_byte_{};
  int single_first_byte_ = -1;  // the only first byte in use, for memchr
};

}  // namespace ember::tokenizer
