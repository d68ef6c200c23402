// Splits a DeepSeek-R1-style output into reasoning and content as it streams
// (vLLM's `deepseek_r1` reasoning parser): the chat template opens <think>,
// so the output starts inside the reasoning and only </think> appears; an
// output that repeats the opening <think> has it dropped. Deltas split
// exactly at </think>, a tag never comes out as text, and text that could
// still be the start of a tag is held back until it cannot.
#pragma once

#include <string>
#include <string_view>

namespace ember::chat {

// Whether a rendered prompt ends inside the reasoning: its last non-space
// text is the opening tag (DeepSeek-R1 templates end the generation prompt
// with "<think>\n"), so the output starts as reasoning.
bool prompt_opens_reasoning(std::string_view prompt, std::string_view open_tag = "<think>");

class ReasoningParser {
 public:
  struct Delta {
    std::string reasoning, content;
    bool empty() const { return reasoning.empty() && content.empty(); }
  };

  // starts_in_reasoning: the prompt ended inside <think> (the DeepSeek-R1
  // templates); false: reasoning starts only if the output opens <think>.
  explicit ReasoningParser(bool starts_in_reasoning = true, std::string open_tag = "<think>",
                           std::string close_tag = "</think>");

  Delta push(std::string_view text);
  // Whatever is held back, at the end of the output.
  Delta finish();

  bool in_reasoning() const { return state_ == State::kReasoning || state_ == State::kStart; }
  // Whether </think> was seen (a non-streamed reply without it is all reasoning).
  bool reasoning_ended() const { return state_ == State::kContent && saw_close_; }
  // Whether the output is or was reasoning: it started inside <think> or
  // opened it (false for an output that turned out to be content only).
  bool reasoned() const { return state_ == State::kReasoning || saw_close_; }

 private:
  enum class State { kStart, kReasoning, kContent };
  // Length of the longest tail of held_ that is a proper prefix of tag.
  size_t partial_tail(const std::string& tag) const;

  std::string open_, close_;
  State state_;
  bool saw_close_ = false;
  bool may_open_;      // at the very start: an opening tag is still possible
  std::string held_;
};

}  // namespace ember::chat
