#include "chat/reasoning_parser.h"

#include <algorithm>

namespace ember::chat {

bool prompt_opens_reasoning(std::string_view prompt, std::string_view open_tag) {
  const size_t end = prompt.find_last_not_of(" \t\r\n");
  if (end == std::string_view::npos) return false;
  const std::string_view body = prompt.substr(0, end + 1);
  return body.size() >= open_tag.size() && body.substr(body.size() - open_tag.size()) == open_tag;
}

ReasoningParser::ReasoningParser(bool starts_in_reasoning, std::string open_tag, std::string close_tag)
    : open_(std::move(open_tag)),
      close_(std::move(close_tag)),
      state_(starts_in_reasoning ? State::kReasoning : State::kStart),
      may_open_(true) {}

size_t ReasoningParser::partial_tail(const std::string& tag) const {
  for (size_t len = std::min(held_.size(), tag.size() - 1); len > 0; --len)
    if (held_.compare(held_.size() - len, len, tag, 0, len) == 0) return len;
  return 0;
}

ReasoningParser::Delta ReasoningParser::push(std::string_view text) {
  Delta d;
  held_.append(text);
  if (may_open_) {
    // Skip whitespace before a possible opening tag only while undecided.
    const size_t start = held_.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) return d;  // only whitespace so far: wait
    const std::string_view rest = std::string_view(held_).substr(start);
    if (rest.size() < open_.size() && open_.compare(0, rest.size(), rest) == 0) return d;  // maybe <think>
    may_open_ = false;
    if (rest.substr(0, open_.size()) == open_) {
      held_.erase(0, start + open_.size());
      state_ = State::kReasoning;
    } else if (state_ == State::kStart) {
      state_ = State::kContent;  // no reasoning in this output
    }
  }
  if (state_ == State::kContent) {
    d.content.swap(held_);
    return d;
  }
  if (state_ == State::kStart) state_ = State::kReasoning;
  const size_t close = held_.find(close_);
  if (close != std::string::npos) {
    d.reasoning = held_.substr(0, close);
    d.content = held_.substr(close + close_.size());
    held_.clear();
    state_ = State::kContent;
    saw_close_ = true;
    return d;
  }
  const size_t keep = partial_tail(close_);
  d.reasoning = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return d;
}

ReasoningParser::Delta ReasoningParser::finish() {
  Delta d;
  if (state_ == State::kContent || (state_ == State::kStart && may_open_)) {
    d.content.swap(held_);
  } else {
    d.reasoning.swap(held_);
  }
  return d;
}

}  // namespace ember::chat
