// Token ids -> text deltas for one output stream: the streaming detokenizer
// followed by stop strings, as the server and the CLI need them. Text comes
// out only when it is complete UTF-8 and cannot still turn into a stop
// string; once a stop string completes, stopped() is true and nothing more
// comes out.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/incremental_decoder.h"

namespace ember::engine {

struct TextOutputOptions {
  bool skip_special_tokens = true;
  std::vector<std::string> stop;  // stop strings
  bool include_stop_str_in_output = false;
};

class TextOutput {
 public:
  TextOutput(std::shared_ptr<const tokenizer::Tokenizer> tokenizer, TextOutputOptions options)
      : decoder_(std::move(tokenizer), options.skip_special_tokens),
        stops_(std::move(options.stop), options.include_stop_str_in_output) {}

  // The text the tokens add (possibly empty).
  std::string push(const std::vector<int32_t>& tokens);
  // What is held back, at the end of the stream (empty once stopped).
  std::string finish();

  bool stopped() const { return stops_.stopped(); }
  const std::string& stop_string() const { return stops_.matched(); }

 private:
  tokenizer::IncrementalDecoder decoder_;
  tokenizer::StopStringMatcher stops_;
};

}  // namespace ember::engine
