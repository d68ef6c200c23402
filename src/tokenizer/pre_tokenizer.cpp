#include "tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <tuple>

namespace ember::tokenizer {
namespace {

using Spans = std::vector<std::tuple<size_t, size_t, bool>>;

// Turns (begin, end, is_match) into the pieces to keep, per behavior.
std::vector<std::pair<size_t, size_t>> apply_behavior(const Spans& spans, SplitBehavior behavior) {
  std::vector<std::pair<size_t, size_t>> out;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (auto [b, e, m] : spans) out.emplace_back(b, e);
      break;
    case SplitBehavior::kRemoved:
      for (auto [b, e, m] : spans)
        if (!m) out.emplace_back(b, e);
      break;
    case SplitBehavior::kContiguous: {
      bool prev = false;
      for (auto [b, e, m] : spans) {
        if (m == prev && !out.empty()) {
          out.back().second = e;
        } else {
          out.emplace_back(b, e);
        }
        prev = m;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool prev = false;
      for (auto [b, e, m] : spans) {
        if (m && !prev && !out.empty()) {
          out.back().second = e;
        } else {
          out.emplace_back(b, e);
        }
        prev = m;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool prev = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        auto [b, e, m] = *it;
        if (m && !prev && !out.empty()) {
          out.back().first = b;
        } else {
          out.emplace_back(b, e);
        }
        prev = m;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
  }
  return out;
}

void spans_from_matches(const std::vector<std::pair<size_t, size_t>>& matches, size_t size, Spans* out) {
  size_t prev = 0;
  for (auto [s, e] : matches) {
    if (prev != s) out->emplace_back(prev, s, false);
    out->emplace_back(s, e, true);
    prev = e;
  }
  if (prev != size) out->emplace_back(prev, size, false);
}

}  // namespace

Result<std::shared_ptr<const PreTokenizer>> PreTokenizer::create(std::vector<PreTokenizerStep> steps) {
  auto pt = std::make_shared<PreTokenizer>();
  if (steps.empty() || steps.back().kind != PreTokenizerStep::Kind::kByteLevel)
    return unsupported("pre_tokenizer: only byte-level pipelines are supported (ByteLevel must be the last step)");
  for (size_t i = 0; i < steps.size(); ++i) {
    Compiled c;
    c.step = std::move(steps[i]);
    if (c.step.kind == PreTokenizerStep::Kind::kByteLevel && i + 1 != steps.size())
      return unsupported("pre_tokenizer: ByteLevel before another step is not supported");
    std::string regex;
    if (c.step.kind == PreTokenizerStep::Kind::kSplit) {
      if (c.step.pattern.empty()) return invalid_argument("pre_tokenizer: Split with an empty pattern");
      if (c.step.pattern_is_regex) regex = c.step.pattern;
    } else if (c.step.use_regex) {
      regex = std::string(kGpt2Pattern);
    }
    if (!regex.empty()) {
      auto compiled = OnigRegex::compile(regex);
      if (!compiled.ok()) return compiled.status().with_context("pre_tokenizer step " + std::to_string(i));
      c.regex = std::move(*compiled);
      c.fast = FastSplitter::for_pattern(regex);
    }
    pt->steps_.push_back(std::move(c));
  }
  if (pt->steps_.size() == 2) {
    const Compiled& s = pt->steps_[0];
    const PreTokenizerStep& bl = pt->steps_[1].step;
    if (s.fast && s.step.behavior == SplitBehavior::kIsolated && !s.step.invert && !bl.add_prefix_space &&
        !bl.use_regex)
      pt->fast_path_ = s.fast;
  }
  return std::shared_ptr<const PreTokenizer>(std::move(pt));
}

Status PreTokenizer::find_matches(const Compiled& c, std::string_view piece, Spans* out) const {
  std::vector<std::pair<size_t, size_t>> matches;
  if (c.fast) {
    c.fast->split(piece, [&](size_t b, size_t e) { matches.emplace_back(b, e); });
  } else if (c.regex) {
    EMBER_RETURN_IF_ERROR(c.regex->find_all(piece, &matches));
  } else {  // literal
    const std::string& lit = c.step.pattern;
    for (size_t p = piece.find(lit); p != std::string_view::npos; p = piece.find(lit, p + lit.size()))
      matches.emplace_back(p, p + lit.size());
  }
  spans_from_matches(matches, piece.size(), out);
  return ok_status();
}

Status PreTokenizer::run(size_t index, std::string_view piece, const WordSink& on_word) const {
  if (piece.empty()) return ok_status();
  if (index == steps_.size()) {
    on_word(piece);
    return ok_status();
  }
  const Compiled& c = steps_[index];
  if (c.step.kind == PreTokenizerStep::Kind::kByteLevel) {
    std::string prefixed;
    if (c.step.add_prefix_space && piece[0] != ' ') {
      prefixed.reserve(piece.size() + 1);
      prefixed.push_back(' ');
      prefixed.append(piece);
      piece = prefixed;
    }
    if (!c.step.use_regex) return run(index + 1, piece, on_word);
    Spans spans;
    EMBER_RETURN_IF_ERROR(find_matches(c, piece, &spans));
    for (auto [b, e, m] : spans) EMBER_RETURN_IF_ERROR(run(index + 1, piece.substr(b, e - b), on_word));
    return ok_status();
  }
  Spans spans;
  EMBER_RETURN_IF_ERROR(find_matches(c, piece, &spans));
  if (c.step.invert)
    for (auto& s : spans) std::get<2>(s) = !std::get<2>(s);
  for (auto [b, e] : apply_behavior(spans, c.step.behavior))
    EMBER_RETURN_IF_ERROR(run(index + 1, piece.substr(b, e - b), on_word));
  return ok_status();
}

Status PreTokenizer::split(std::string_view text, const WordSink& on_word) const {
  return run(0, text, on_word);
}

}  // namespace ember::tokenizer
