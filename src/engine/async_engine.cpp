#include "engine/async_engine.h"

#include "base/log.h"

namespace ember::engine {

std::optional<OutputDelta> OutputStream::next(std::optional<std::chrono::milliseconds> timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto ready = [&] { return !queue_.empty() || unfinished_ <= 0; };
  if (timeout) {
    if (!cv_.wait_for(lock, *timeout, ready)) return std::nullopt;
  } else {
    cv_.wait(lock, ready);
  }
  if (queue_.empty()) return std::nullopt;
  OutputDelta d = std::move(queue_.front());
  queue_.pop_front();
  return d;
}

bool OutputStream::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.empty() && unfinished_ <= 0;
}

bool OutputStream::all_finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return unfinished_ <= 0;
}

std::optional<Clock::time_point> OutputStream::first_token() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return first_token_;
}

std::optional<Clock::time_point> OutputStream::first_scheduled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return first_scheduled_;
}

void OutputStream::push(OutputDelta delta) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!first_token_ && !delta.tokens.empty()) first_token_ = Clock::now();
    if (!delta.error.ok() || delta.finish_reason == FinishReason::kAbort) unfinished_ = 0;  // all samples end
    else if (delta.finished) --unfinished_;
    queue_.push_back(std::move(delta));
  }
  cv_.notify_all();
}

Result<std::unique_ptr<AsyncEngine>> AsyncEngine::create(const EngineConfig& config) {
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<EngineCore> core, EngineCore::create(config));
  return std::make_unique<AsyncEngine>(std::move(core));
}

AsyncEngine::AsyncEngine(std::unique_ptr<EngineCore> core) : core_(std::move(core)) {
  stats_ = core_->stats();
  thread_ = std::thread([this] { loop(); });
}

AsyncEngine::~AsyncEngine() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Result<std::shared_ptr<OutputStream>> AsyncEngine::add_request(std::vector<int32_t> prompt,
                                                               sampling::SamplingParams params, int32_t n,
                                                               std::string cache_salt) {
  // Validate here so the caller gets the error (the engine thread re-checks).
  EMBER_RETURN_IF_ERROR(params.validate(core_->model().config().vocab));
  if (prompt.empty()) return invalid_argument("prompt: is empty");
  if (static_cast<int64_t>(prompt.size()) + params.max_tokens > core_->max_model_len())
    return out_of_range("prompt (" + std::to_string(prompt.size()) + " tokens) + max_tokens (" +
                        std::to_string(params.max_tokens) + ") exceed the context of " +
                        std::to_string(core_->max_model_len()) + " tokens");
  const RequestId id = next_id_.fetch_add(1);
  auto stream = std::make_shared<OutputStream>(id, n);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back({NewRequest{id, std::move(prompt), params, std::move(cache_salt), n}, stream});
  }
  wake_.notify_all();
  return stream;
}

void AsyncEngine::abort(RequestId id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    aborts_.push_back(id);
  }
  wake_.notify_all();
}

void AsyncEngine::stop_sample(RequestId id, int32_t index) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stops_.push_back({id, index});
  }
  wake_.notify_all();
}

EngineStats AsyncEngine::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void AsyncEngine::loop() {
  for (;;) {
    std::vector<Pending> pending;
    std::vector<RequestId> aborts;
    std::vector<std::pair<RequestId, int32_t>> stops;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] {
        return stop_ || !pending_.empty() || !aborts_.empty() || !stops_.empty() || core_->has_unfinished();
      });
      if (stop_) break;
      pending.swap(pending_);
      aborts.swap(aborts_);
      stops.swap(stops_);
    }
    for (auto& p : pending) {
      const RequestId id = p.request.id;
      p.stream->num_prompt_tokens_.store(static_cast<int64_t>(p.request.prompt.size()));
      if (Status s = core_->add_request(std::move(p.request)); !s.ok()) {
        OutputDelta d;
        d.error = s;
        d.finished = true;
        d.finish_reason = FinishReason::kAbort;
        p.stream->push(std::move(d));
        continue;
      }
      streams_[id] = p.stream;
    }
    for (RequestId id : aborts) {
      core_->abort(id);
      publish_stats();
      if (auto it = streams_.find(id); it != streams_.end()) {
        OutputDelta d;
        d.finished = true;
        d.finish_reason = FinishReason::kAbort;
        it->second->push(d);
        streams_.erase(it);
      }
    }
    for (auto [id, index] : stops) {
      if (!core_->finish_stopped(id, index).ok()) continue;
      publish_stats();
      if (auto it = streams_.find(id); it != streams_.end()) {
        OutputDelta d;
        d.index = index;
        d.finished = true;
        d.finish_reason = FinishReason::kStop;
        it->second->push(d);
        if (it->second->all_finished()) streams_.erase(it);
      }
    }
    if (core_->has_unfinished()) run_step();  // publishes its own
    else publish_stats();
  }
}

// Before any output of the change reaches a client: whoever reads the stats
// after seeing a request finish sees them with that request counted.
void AsyncEngine::publish_stats() {
  const EngineStats s = core_->stats();
  std::lock_guard<std::mutex> lock(mutex_);
  stats_ = s;
}

void AsyncEngine::run_step() {
  {
    const Clock::time_point step_start = Clock::now();
    auto outputs = core_->step();
    publish_stats();
    for (RequestId id : core_->take_first_scheduled()) {
      if (auto it = streams_.find(id); it != streams_.end()) {
        std::lock_guard<std::mutex> lock(it->second->mutex_);
        if (!it->second->first_scheduled_) it->second->first_scheduled_ = step_start;
      }
    }
    if (!outputs.ok()) {
      // A failed step fails every running request; the engine stays usable.
      LOG_ERROR("engine step failed: %s", outputs.status().to_string().c_str());
      for (auto& [id, stream] : streams_) core_->abort(id);
      publish_stats();
      for (auto& [id, stream] : streams_) {
        OutputDelta d;
        d.error = outputs.status();
        d.finished = true;
        d.finish_reason = FinishReason::kAbort;
        stream->push(d);
      }
      streams_.clear();
      return;
    }
    for (auto& o : *outputs) {
      auto it = streams_.find(o.id);
      if (it == streams_.end()) continue;
      it->second->num_cached_tokens_.store(o.num_cached_tokens);
      OutputDelta d;
      d.index = o.index;
      d.tokens = std::move(o.new_tokens);
      d.logprobs = std::move(o.logprobs);
      d.finished = o.finished;
      d.finish_reason = o.finish_reason;
      d.stopped_by_token = o.stopped_by_token;
      it->second->push(std::move(d));
      if (it->second->all_finished()) streams_.erase(it);
    }
  }
}

}  // namespace ember::engine
