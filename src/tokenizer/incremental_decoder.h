// Streaming detokenizer: ids go in one at a time, text comes out only when
// it is complete UTF-8. The concatenation of everything push() and finish()
// return equals Tokenizer::decode of all the ids (the ByteLevel decoder maps
// each token to bytes independently, so holding back an unfinished UTF-8
// sequence is all that streaming needs).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"

namespace ember::tokenizer {

class IncrementalDecoder {
 public:
  IncrementalDecoder(std::shared_ptr<const Tokenizer> tokenizer, bool skip_special_tokens)
      : tokenizer_(std::move(tokenizer)), skip_special_(skip_special_tokens) {}

  // The text that id completes (often empty while a character is unfinished).
  std::string push(int32_t id);
  // Whatever is held back, with an unfinished sequence as U+FFFD; the
  // decoder is then empty again.
  std::string finish();
  // Bytes held back, waiting for the rest of a character.
  size_t pending_bytes() const { return pending_.size(); }

 private:
  std::shared_ptr<const Tokenizer> tokenizer_;
  bool skip_special_;
  std::string pending_;  // an incomplete UTF-8 sequence (at most 3 bytes)
};

// Stop strings over streamed text: push() returns the text that is certainly
// not part of a stop string, holding back a tail that could still become one;
// once a stop string is complete, stopped() is true and the text after it is
// dropped. Text pieces must be valid UTF-8, so held-back tails start at
// character boundaries.
class StopStringMatcher {
 public:
  // include_stop: the stop string itself is part of the output, as
  // include_stop_str_in_output.
  StopStringMatcher(std::vector<std::string> stops, bool include_stop);

  std::string push(std::string_view text);
  // The held-back tail (no stop string came); call at the end of a stream.
  std::string finish();

  bool stopped() const { return stopped_index_ >= 0; }
  // Which stop string matched (index into the list), or -1.
  int stopped_index() const { return stopped_index_; }
  const std::string& matched() const;

 private:
  std::vector<std::string> stops_;
  bool include_stop_;
  size_t max_stop_ = 0;
  std::string held_;
  int stopped_index_ = -1;
};

}  // namespace ember::tokenizer
