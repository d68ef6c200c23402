#include "tokenizer/incremental_decoder.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace ember::tokenizer {

std::string IncrementalDecoder::push(int32_t id) {
  if (!tokenizer_->append_token_bytes(id, skip_special_, &pending_)) return {};
  std::string out;
  const size_t used = append_utf8_lossy_complete(pending_, &out);
  pending_.erase(0, used);
  return out;
}

std::string IncrementalDecoder::finish() {
  std::string out;
  append_utf8_lossy(pending_, &out);
  pending_.clear();
  return out;
}

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops, bool include_stop)
    : include_stop_(include_stop) {
  for (std::string& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
  for (const std::string& s : stops_) max_stop_ = std::max(max_stop_, s.size());
}

const std::string& StopStringMatcher::matched() const {
  static const std::string kNone;
  return stopped_index_ >= 0 ? stops_[stopped_index_] : kNone;
}

std::string StopStringMatcher::push(std::string_view text) {
  if (stopped()) return {};
  if (stops_.empty()) return std::string(text);
  // Stops can only begin in the held tail or the new text; search from the
  // earliest position where one could start (the tail is shorter than the
  // longest stop string).
  held_.append(text);
  size_t best = std::string::npos;
  int best_index = -1;
  for (size_t i = 0; i < stops_.size(); ++i) {
    const size_t p = held_.find(stops_[i]);
    // The earliest stop in the text wins; at one position the longest.
    if (p != std::string::npos &&
        (p < best || (p == best && stops_[i].size() > stops_[best_index].size()))) {
      best = p;
      best_index = static_cast<int>(i);
    }
  }
  if (best_index >= 0) {
    stopped_index_ = best_index;
    std::string out = held_.substr(0, best + (include_stop_ ? stops_[best_index].size() : 0));
    held_.clear();
    return out;
  }
  // Hold back the longest tail that is a proper prefix of some stop string.
  size_t keep = 0;
  const size_t max_tail = std::min(held_.size(), max_stop_ - 1);
  for (size_t len = max_tail; len > 0 && keep == 0; --len) {
    const std::string_view tail = std::string_view(held_).substr(held_.size() - len);
    for (const std::string& s : stops_)
      if (s.size() > len && s.compare(0, len, tail) == 0) {
        keep = len;
        break;
      }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopStringMatcher::finish() {
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace ember::tokenizer
