#include "server/generation.h"

#include <algorithm>

#include "base/log.h"
#include "server/response_cache.h"

namespace ember::server {

const char* finish_reason_name(engine::FinishReason r) {
  switch (r) {
    case engine::FinishReason::kLength: return "length";
    case engine::FinishReason::kAbort: return "abort";
    case engine::FinishReason::kStop:
    case engine::FinishReason::kNone: return "stop";
  }
  return "stop";
}

Generation::Generation(engine::AsyncEngine& engine, std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                       GenerationOptions options, Metrics* metrics)
    : engine_(engine), tokenizer_(std::move(tokenizer)), options_(std::move(options)), metrics_(metrics) {}

Generation::~Generation() { abort(); }

Status Generation::add(std::vector<int32_t> prompt, const sampling::SamplingParams& params, int32_t n) {
  Part part;
  part.prompt_tokens = static_cast<int64_t>(prompt.size());
  part.params = params;
  part.n = n;
  part.first_choice = num_choices();
  EMBER_ASSIGN_OR_RETURN(part.stream, engine_.add_request(std::move(prompt), params, n));
  for (int32_t i = 0; i < n; ++i) {
    Choice c;
    c.part = parts_.size();
    c.sample = i;
    c.text = std::make_unique<engine::TextOutput>(tokenizer_, options_.text);
    if (options_.reasoning) c.reasoning = std::make_unique<chat::ReasoningParser>(options_.starts_in_reasoning);
    choices_.push_back(std::move(c));
  }
  parts_.push_back(std::move(part));
  return ok_status();
}

void Generation::replay(std::shared_ptr<const CachedResponse> cached) {
  replay_ = std::move(cached);
  replay_next_ = 0;
}

void Generation::record() { recording_ = std::make_shared<CachedResponse>(); }

std::shared_ptr<const CachedResponse> Generation::recording() const {
  if (!recording_ || replay_ || !done() || !error_.ok() || choices_.empty()) return nullptr;
  for (const Choice& c : choices_)
    if (c.finish_reason != "stop" && c.finish_reason != "length") return nullptr;
  auto r = std::make_shared<CachedResponse>(*recording_);
  r->num_choices = num_choices();
  r->prompt_tokens = prompt_tokens();
  r->completion_tokens = completion_tokens();
  for (int32_t i = 0; i < num_choices(); ++i) {
    r->reasoning_splits.push_back(reasoning_split(i));
    r->finish_reasons.push_back(choices_[i].finish_reason);
  }
  return r;
}

Generation::Timings Generation::timings() const {
  Timings t;
  if (parts_.empty()) return t;
  const auto& s = *parts_[0].stream;
  if (auto at = s.first_scheduled()) t.queue_seconds = std::chrono::duration<double>(*at - s.arrival()).count();
  if (auto at = s.first_token()) t.ttft_seconds = std::chrono::duration<double>(*at - s.arrival()).count();
  for (const Part& p : parts_) t.cached_tokens += p.stream->num_cached_tokens();
  return t;
}

int32_t Generation::num_choices() const {
  return replay_ ? replay_->num_choices : static_cast<int32_t>(choices_.size());
}

const std::string& Generation::finish_reason(int32_t choice) const {
  return replay_ ? replay_->finish_reasons[choice] : choices_[choice].finish_reason;
}

bool Generation::done() const {
  if (replay_) return replay_next_ >= replay_->batches.size();
  return std::all_of(choices_.begin(), choices_.end(), [](const Choice& c) { return c.finished; });
}

ChoiceDelta& Generation::delta_for(int32_t index, std::vector<ChoiceDelta>& out) {
  for (auto& d : out)
    if (d.index == index) return d;
  out.emplace_back();
  out.back().index = index;
  return out.back();
}

void Generation::split(Choice& c, const std::string& text, ChoiceDelta& d, bool final) {
  if (!c.reasoning) {
    d.content += text;
    return;
  }
  chat::ReasoningParser::Delta r = c.reasoning->push(text);
  if (final) {
    chat::ReasoningParser::Delta rest = c.reasoning->finish();
    r.reasoning += rest.reasoning;
    r.content += rest.content;
  }
  if (options_.include_reasoning) d.reasoning += r.reasoning;
  d.content += r.content;
}

void Generation::handle(size_t part_index, engine::OutputDelta delta, std::vector<ChoiceDelta>& out) {
  Part& part = parts_[part_index];
  if (!delta.error.ok() || delta.finish_reason == engine::FinishReason::kAbort) {
    if (!delta.error.ok() && error_.ok()) error_ = delta.error;
    // Every sample of the request ends.
    for (int32_t i = 0; i < part.n; ++i) {
      Choice& c = choices_[part.first_choice + i];
      if (c.finished) continue;
      ChoiceDelta& d = delta_for(part.first_choice + i, out);
      if (i == delta.index && !delta.tokens.empty()) {
        c.tokens += static_cast<int64_t>(delta.tokens.size());
        split(c, c.text->push(delta.tokens), d, false);
      }
      split(c, c.text->finish(), d, true);
      finish(c, d, "abort");
    }
    end_part(part);
    return;
  }
  if (delta.index < 0 || delta.index >= part.n) return;
  Choice& c = choices_[part.first_choice + delta.index];
  if (c.finished) return;  // e.g. the engine's end after our stop string
  const auto now = engine::Clock::now();
  if (delta.index == 0 && !delta.tokens.empty()) {
    if (part.last_token) part.itl.push_back(std::chrono::duration<double>(now - *part.last_token).count());
    part.last_token = now;
  }
  ChoiceDelta& d = delta_for(part.first_choice + delta.index, out);
  c.tokens += static_cast<int64_t>(delta.tokens.size());
  d.tokens.insert(d.tokens.end(), delta.tokens.begin(), delta.tokens.end());
  d.logprobs.insert(d.logprobs.end(), delta.logprobs.begin(), delta.logprobs.end());
  std::string text = c.text->push(delta.tokens);
  if (c.text->stopped()) {
    split(c, text, d, true);
    finish(c, d, "stop");
    d.stop_reason = c.text->stop_string();
    if (!delta.finished) engine_.stop_sample(part.stream->id(), delta.index);
  } else if (delta.finished) {
    text += c.text->finish();
    split(c, text, d, true);
    finish(c, d, finish_reason_name(delta.finish_reason));
    if (delta.stopped_by_token && !delta.tokens.empty()) {
      const int32_t last = delta.tokens.back();
      const auto& stops = part.params.stop_token_ids;
      const auto& eos = engine_.eos_token_ids();
      if (std::find(stops.begin(), stops.end(), last) != stops.end() &&
          std::find(eos.begin(), eos.end(), last) == eos.end())
        d.stop_reason = last;
    }
  } else {
    split(c, text, d, false);
  }
  bool all = true;
  for (int32_t i = 0; i < part.n; ++i) all = all && choices_[part.first_choice + i].finished;
  if (all) end_part(part);
}

void Generation::finish(Choice& c, ChoiceDelta& d, const std::string& reason) {
  c.finished = true;
  c.finish_reason = reason;
  d.finish_reason = reason;
}

void Generation::end_part(Part& p) {
  if (p.ended) return;
  p.ended = true;
  if (!metrics_) return;
  RequestRecord r;
  for (int32_t i = 0; i < p.n; ++i) r.generation_tokens += choices_[p.first_choice + i].tokens;
  r.prompt_tokens = p.prompt_tokens;
  const auto now = engine::Clock::now();
  r.e2e_seconds = std::chrono::duration<double>(now - p.stream->arrival()).count();
  if (auto ft = p.stream->first_token()) r.ttft_seconds = std::chrono::duration<double>(*ft - p.stream->arrival()).count();
  r.inter_token_seconds = std::move(p.itl);
  if (auto at = p.stream->first_scheduled())
    r.queue_seconds = std::chrono::duration<double>(*at - p.stream->arrival()).count();
  r.finish_reason = choices_[p.first_choice].finish_reason;
  LOG_DEBUG("request %lld: %lld prompt tokens (%lld cached), %lld generated, ttft %.3f s, e2e %.3f s, %s",
           static_cast<long long>(p.stream->id()), static_cast<long long>(r.prompt_tokens),
           static_cast<long long>(p.stream->num_cached_tokens()), static_cast<long long>(r.generation_tokens),
           r.ttft_seconds, r.e2e_seconds, r.finish_reason.c_str());
  metrics_->record_request(r);
}

std::vector<ChoiceDelta> Generation::poll(std::chrono::milliseconds timeout) {
  if (replay_) return replay_next_ < replay_->batches.size() ? replay_->batches[replay_next_++] : std::vector<ChoiceDelta>{};
  std::vector<ChoiceDelta> out;
  auto drain = [&](size_t i) {
    Part& p = parts_[i];
    while (!p.ended) {
      auto d = p.stream->next(std::chrono::milliseconds(0));
      if (!d) break;
      handle(i, std::move(*d), out);
    }
  };
  for (size_t i = 0; i < parts_.size(); ++i) drain(i);
  if (out.empty() && !done() && !parts_.empty()) {
    // Wait on one unfinished request (round robin), then take what else came.
    for (size_t k = 0; k < parts_.size(); ++k) {
      const size_t i = (next_poll_ + k) % parts_.size();
      if (parts_[i].ended) continue;
      next_poll_ = i + 1;
      if (auto d = parts_[i].stream->next(timeout)) handle(i, std::move(*d), out);
      break;
    }
    for (size_t i = 0; i < parts_.size(); ++i) drain(i);
  }
  // A stream that ended without telling every sample (should not happen).
  for (size_t i = 0; i < parts_.size(); ++i) {
    Part& p = parts_[i];
    if (p.ended || !p.stream->done()) continue;
    for (int32_t k = 0; k < p.n; ++k) {
      Choice& c = choices_[p.first_choice + k];
      if (c.finished) continue;
      finish(c, delta_for(p.first_choice + k, out), "abort");
    }
    end_part(p);
  }
  std::sort(out.begin(), out.end(), [](const ChoiceDelta& a, const ChoiceDelta& b) { return a.index < b.index; });
  if (recording_ && !out.empty()) recording_->batches.push_back(out);
  return out;
}

void Generation::abort() {
  for (Part& p : parts_) {
    if (p.ended) continue;
    engine_.abort(p.stream->id());
    for (int32_t k = 0; k < p.n; ++k) {
      Choice& c = choices_[p.first_choice + k];
      if (!c.finished) c.finish_reason = "abort";
      c.finished = true;
    }
    end_part(p);
  }
}

int64_t Generation::prompt_tokens() const {
  if (replay_) return replay_->prompt_tokens;
  int64_t n = 0;
  for (const Part& p : parts_) n += p.prompt_tokens;
  return n;
}

int64_t Generation::completion_tokens() const {
  if (replay_) return replay_->completion_tokens;
  int64_t n = 0;
  for (const Choice& c : choices_) n += c.tokens;
  return n;
}

ReasoningSplit Generation::reasoning_split(int32_t choice) const {
  if (replay_) return replay_->reasoning_splits[choice];
  const Choice& c = choices_[choice];
  if (!c.reasoning || !c.reasoning->reasoned()) return ReasoningSplit::kNone;
  return c.reasoning->reasoning_ended() ? ReasoningSplit::kEnded : ReasoningSplit::kOpen;
}

std::vector<engine::RequestId> Generation::request_ids() const {
  std::vector<engine::RequestId> ids;
  for (const Part& p : parts_) ids.push_back(p.stream->id());
  return ids;
}

}  // namespace ember::server
