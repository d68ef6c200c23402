#include "engine/scheduler.h"

#include <algorithm>
#include <string>
#include <unordered_set>

namespace ember::engine {

namespace {
std::string req_name(RequestId id) { return "request " + std::to_string(id); }
}  // namespace

Status SchedulerOptions::validate() const {
  if (max_num_batched_tokens < 1) {
    return invalid_argument("scheduler: max_num_batched_tokens must be at least 1, got " +
                            std::to_string(max_num_batched_tokens));
  }
  if (max_num_seqs < 1) {
    return invalid_argument("scheduler: max_num_seqs must be at least 1, got " +
                            std::to_string(max_num_seqs));
  }
  if (max_model_len < 1) {
    return invalid_argument("scheduler: max_model_len must be at least 1, got " +
                            std::to_string(max_model_len));
  }
  if (!enable_chunked_prefill && max_num_batched_tokens < max_model_len) {
    return invalid_argument(
        "scheduler: without chunked prefill max_num_batched_tokens (" +
        std::to_string(max_num_batched_tokens) + ") must be at least max_model_len (" +
        std::to_string(max_model_len) + ") so that every prompt fits one step");
  }
  return kv.validate();
}

Result<Scheduler> Scheduler::create(const SchedulerOptions& options) {
  EMBER_RETURN_IF_ERROR(options.validate());
  EMBER_ASSIGN_OR_RETURN(kv::BlockManager blocks, kv::BlockManager::create(options.kv));
  return Scheduler(options, std::move(blocks));
}

int64_t Scheduler::max_kv_blocks(int64_t prompt_len, int64_t max_tokens) const {
  // The last sampled token is never fed back, so it needs no slot.
  return blocks_.blocks_for_tokens(prompt_len + max_tokens - 1);
}

Status Scheduler::validate_request(const RequestSpec& spec) const {
  const std::string name = req_name(spec.id);
  if (requests_.count(spec.id) != 0) return invalid_argument(name + ": the id is already in use");
  if (spec.prompt.empty()) return invalid_argument(name + ": the prompt has no tokens");
  for (size_t i = 0; i < spec.prompt.size(); ++i) {
    if (spec.prompt[i] < 0) {
      return invalid_argument(name + ": prompt token " + std::to_string(i) + " has negative id " +
                              std::to_string(spec.prompt[i]));
    }
  }
  if (spec.max_tokens < 0) {
    return invalid_argument(name + ": max_tokens must not be negative, got " +
                            std::to_string(spec.max_tokens));
  }
  const int64_t prompt_len = static_cast<int64_t>(spec.prompt.size());
  const int64_t limit = options_.max_model_len;
  if (prompt_len >= limit) {
    return out_of_range(name + ": the prompt has " + std::to_string(prompt_len) +
                        " tokens, which leaves no room for output within max_model_len " +
                        std::to_string(limit));
  }
  const int64_t max_tokens = spec.max_tokens == 0 ? limit - prompt_len : spec.max_tokens;
  if (max_tokens > limit - prompt_len) {
    return out_of_range(name + ": prompt of " + std::to_string(prompt_len) +
                        " tokens + max_tokens " + std::to_string(max_tokens) + " = " +
                        std::to_string(prompt_len + max_tokens) + " exceeds max_model_len " +
                        std::to_string(limit));
  }
  const int64_t need = max_kv_blocks(prompt_len, max_tokens);
  if (need > blocks_.num_blocks()) {
    return resource_exhausted(
        name + ": needs up to " + std::to_string(need) + " KV blocks of " +
        std::to_string(blocks_.block_size()) + " tokens (" + std::to_string(prompt_len) +
        " prompt + " + std::to_string(max_tokens) + " output tokens), but the whole cache has " +
        std::to_string(blocks_.num_blocks()) + " blocks");
  }
  return ok_status();
}

Status Scheduler::add_request(RequestSpec spec) {
  EMBER_RETURN_IF_ERROR(validate_request(spec));
  auto req = std::make_unique<Request>();
  req->id = spec.id;
  req->num_prompt_tokens = static_cast<int64_t>(spec.prompt.size());
  req->tokens = std::move(spec.prompt);
  req->max_tokens =
      spec.max_tokens == 0 ? options_.max_model_len - req->num_prompt_tokens : spec.max_tokens;
  req->cache_salt = std::move(spec.cache_salt);
  req->user_data = std::move(spec.user_data);
  req->arrival = next_arrival_++;
  req->sequence = next_sequence_++;
  Request* r = req.get();
  requests_.emplace(r->id, std::move(req));
  insert_waiting(r);
  return ok_status();
}

void Scheduler::insert_running(Request* req) {
  const auto at = std::upper_bound(running_.begin(), running_.end(), req,
                                   [](const Request* a, const Request* b) { return a->before(*b); });
  running_.insert(at, req);
}

void Scheduler::insert_waiting(Request* req) {
  // Preempted requests are older than every waiting one, so this is the front
  // for them and the back for new arrivals.
  const auto at = std::upper_bound(waiting_.begin(), waiting_.end(), req,
                                   [](const Request* a, const Request* b) { return a->before(*b); });
  waiting_.insert(at, req);
}

Result<SchedulerOutput> Scheduler::schedule() {
  if (in_flight_) {
    return internal_error("scheduler: schedule() called before update() of step " +
                          std::to_string(step_));
  }
  SchedulerOutput out;
  out.step = ++step_;
  out.aborted = std::move(aborted_);
  out.finished = std::move(finished_);
  aborted_.clear();
  finished_.clear();

  int64_t budget = options_.max_num_batched_tokens;
  std::vector<Planned> plan;
  schedule_running(/*decodes=*/true, budget, plan, out);
  schedule_running(/*decodes=*/false, budget, plan, out);
  if (out.preempted.empty()) schedule_waiting(budget, plan);
  build_output(plan, out);
  return out;
}

void Scheduler::schedule_running(bool decodes, int64_t& budget, std::vector<Planned>& plan,
                                 SchedulerOutput& out) {
  const std::vector<Request*> snapshot = running_;  // preempt() edits running_
  for (Request* r : snapshot) {
    if (r->status != RequestStatus::kRunning) continue;  // preempted meanwhile
    if (std::any_of(plan.begin(), plan.end(), [r](const Planned& p) { return p.req == r; })) {
      continue;
    }
    const int64_t remaining = r->num_tokens() - r->num_computed_tokens;
    if (remaining <= 0 || (remaining == 1) != decodes) continue;
    if (budget <= 0 || static_cast<int64_t>(plan.size()) >= options_.max_num_seqs) return;
    if (!options_.enable_chunked_prefill && budget < remaining) continue;
    for (;;) {
      const int64_t n = std::min(remaining, budget);  // preempting may refund budget
      std::vector<kv::BlockCopy> copies;
      if (blocks_.append_slots(r->id, n, &copies).ok()) {
        plan.push_back({r, n, std::move(copies)});
        budget -= n;
        break;
      }
      // Out of blocks: the most recently arrived running request yields,
      // even if it was already planned for this step.
      Request* victim = running_.back();
      preempt(victim, plan, budget, out);
      if (victim == r) break;
    }
  }
}

void Scheduler::preempt(Request* req, std::vector<Planned>& plan, int64_t& budget,
                        SchedulerOutput& out) {
  const auto planned =
      std::find_if(plan.begin(), plan.end(), [req](const Planned& p) { return p.req == req; });
  if (planned != plan.end()) {
    budget += planned->n;  // its copies target blocks freed below: drop them too
    plan.erase(planned);
  }
  blocks_.free(req->id);
  running_.erase(std::find(running_.begin(), running_.end(), req));
  req->num_computed_tokens = 0;
  req->status = RequestStatus::kPreempted;
  ++req->num_preemptions;
  ++num_preemptions_;
  insert_waiting(req);
  out.preempted.push_back(req->id);
}

void Scheduler::schedule_waiting(int64_t& budget, std::vector<Planned>& plan) {
  while (!waiting_.empty() && budget > 0 &&
         static_cast<int64_t>(plan.size()) < options_.max_num_seqs) {
    Request* r = waiting_.front();
    const kv::PrefixMatch match = blocks_.match_prefix(r->tokens, r->cache_salt);
    const int64_t remaining = r->num_tokens() - match.num_tokens;
    const int64_t n = std::min(remaining, budget);
    if (!options_.enable_chunked_prefill && n < remaining) break;
    if (!blocks_.can_allocate(match, n)) break;  // first come, first served: no overtaking
    const Result<int64_t> computed = blocks_.allocate(r->id, r->tokens, r->cache_salt, n);
    if (!computed.ok()) break;
    r->num_computed_tokens = *computed;
    if (r->num_cached_tokens < 0) r->num_cached_tokens = *computed;
    r->status = RequestStatus::kRunning;
    waiting_.pop_front();
    insert_running(r);
    plan.push_back({r, n, {}});
    budget -= n;
  }
}

void Scheduler::build_output(std::vector<Planned>& plan, SchedulerOutput& out) {
  pending_.clear();
  for (Planned& p : plan) {
    Request* r = p.req;
    ScheduledSeq s;
    s.id = r->id;
    s.q_begin = out.num_batched_tokens();
    s.num_tokens = p.n;
    s.num_computed = r->num_computed_tokens;
    s.context_len = s.num_computed + p.n;
    s.wants_logits = s.context_len == r->num_tokens();
    s.is_decode = p.n == 1 && s.num_computed >= r->num_prompt_tokens;
    const auto table = blocks_.block_table(r->id);
    s.block_table.assign(table.begin(), table.end());
    const int64_t bs = blocks_.block_size();
    for (int64_t pos = s.num_computed; pos < s.context_len; ++pos) {
      out.tokens.push_back(r->tokens[pos]);
      out.positions.push_back(static_cast<int32_t>(pos));
      out.slots.push_back(static_cast<int64_t>(s.block_table[pos / bs]) * bs + pos % bs);
    }
    (s.is_decode ? out.num_decode_tokens : out.num_prefill_tokens) += p.n;
    out.block_copies.insert(out.block_copies.end(), p.copies.begin(), p.copies.end());
    pending_.push_back({r->id, r->sequence, p.n});
    out.seqs.push_back(std::move(s));
  }
  in_flight_ = !pending_.empty();
  last_step_tokens_ = out.num_batched_tokens();
  if (in_flight_) ++num_steps_;
  total_prefill_tokens_ += out.num_prefill_tokens;
  total_decode_tokens_ += out.num_decode_tokens;
}

Result<std::vector<RequestId>> Scheduler::update(const SchedulerOutput& out,
                                                 std::span<const SampledToken> sampled) {
  if (!in_flight_ || out.step != step_) {
    if (out.seqs.empty() && sampled.empty()) return std::vector<RequestId>{};
    return invalid_argument("scheduler: update() for step " + std::to_string(out.step) +
                            (in_flight_ ? ", but step " + std::to_string(step_) + " is in flight"
                                        : ", but no step is in flight"));
  }
  // The live request a pending entry refers to (not aborted / replaced since).
  auto live = [this](const Pending& p) -> Request* {
    const auto it = requests_.find(p.id);
    if (it == requests_.end() || it->second->sequence != p.sequence) return nullptr;
    return it->second->status == RequestStatus::kRunning ? it->second.get() : nullptr;
  };
  // Validate everything before changing anything.
  std::unordered_map<RequestId, int32_t> token_of;
  for (const SampledToken& t : sampled) {
    if (t.token < 0) {
      return invalid_argument("scheduler: negative token id " + std::to_string(t.token) +
                              " sampled for " + req_name(t.id));
    }
    if (!token_of.emplace(t.id, t.token).second) {
      return invalid_argument("scheduler: two sampled tokens for " + req_name(t.id));
    }
  }
  std::unordered_set<RequestId> scheduled;
  for (const Pending& p : pending_) {
    scheduled.insert(p.id);
    Request* r = live(p);
    if (r == nullptr) continue;
    const bool wants = r->num_computed_tokens + p.n == r->num_tokens();
    const bool has = token_of.count(p.id) != 0;
    if (wants && !has) {
      return invalid_argument("scheduler: no sampled token for " + req_name(p.id) +
                              ", whose logits were computed in step " + std::to_string(step_));
    }
    if (!wants && has) {
      return invalid_argument("scheduler: a token was sampled for " + req_name(p.id) +
                              ", which is mid-prompt in step " + std::to_string(step_));
    }
  }
  for (const SampledToken& t : sampled) {
    if (scheduled.count(t.id) == 0 && requests_.count(t.id) != 0) {
      return invalid_argument("scheduler: a token was sampled for " + req_name(t.id) +
                              ", which was not scheduled in step " + std::to_string(step_));
    }
  }

  std::vector<RequestId> finished;
  const std::vector<Pending> pending = std::move(pending_);
  pending_.clear();
  in_flight_ = false;
  for (const Pending& p : pending) {
    Request* r = live(p);
    if (r == nullptr) continue;  // aborted during the step
    r->num_computed_tokens += p.n;
    (void)blocks_.mark_computed(r->id, r->tokens, r->num_computed_tokens);
    const auto tok = token_of.find(p.id);
    if (tok == token_of.end()) continue;
    r->tokens.push_back(tok->second);
    if (r->num_output_tokens() >= r->max_tokens || r->num_tokens() >= options_.max_model_len) {
      finished.push_back(r->id);
      remove(r, FinishReason::kLength);
    }
  }
  return finished;
}

Status Scheduler::finish(RequestId id, FinishReason reason) {
  if (reason == FinishReason::kNone) {
    return invalid_argument("scheduler: finish(" + req_name(id) + ") needs a reason");
  }
  const auto it = requests_.find(id);
  if (it == requests_.end()) return not_found("scheduler: no live " + req_name(id));
  remove(it->second.get(), reason);
  return ok_status();
}

bool Scheduler::abort(RequestId id) { return finish(id, FinishReason::kAbort).ok(); }

void Scheduler::remove(Request* req, FinishReason reason) {
  if (req->status == RequestStatus::kRunning) {
    blocks_.free(req->id);
    running_.erase(std::find(running_.begin(), running_.end(), req));
  } else {
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), req));
  }
  req->status = RequestStatus::kFinished;
  req->finish_reason = reason;
  (reason == FinishReason::kAbort ? aborted_ : finished_).push_back(req->id);
  requests_.erase(req->id);  // destroys *req
}

Status Scheduler::fork(RequestId parent, RequestId child, std::shared_ptr<void> child_user_data) {
  const auto it = requests_.find(parent);
  if (it == requests_.end()) return not_found("scheduler: fork of unknown " + req_name(parent));
  if (requests_.count(child) != 0) {
    return invalid_argument("scheduler: fork into " + req_name(child) + ", an id already in use");
  }
  const Request& p = *it->second;
  auto c = std::make_unique<Request>(p);
  c->id = child;
  c->user_data = std::move(child_user_data);
  c->sequence = next_sequence_++;
  c->num_preemptions = 0;
  Request* r = c.get();
  if (p.status == RequestStatus::kRunning) {
    EMBER_RETURN_IF_ERROR(blocks_.fork(parent, child));
    insert_running(r);
    // A parent in the step in flight takes its child along.
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (pending_[i].id == parent && pending_[i].sequence == p.sequence) {
        pending_.push_back({child, r->sequence, pending_[i].n});
        break;
      }
    }
  } else {
    insert_waiting(r);
  }
  requests_.emplace(child, std::move(c));
  return ok_status();
}

const Request* Scheduler::get(RequestId id) const {
  const auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : it->second.get();
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats s;
  const kv::BlockManagerStats kv = blocks_.stats();
  s.num_running = num_running();
  s.num_waiting = num_waiting();
  s.kv_blocks_total = kv.pool.num_blocks;
  s.kv_blocks_used = kv.pool.num_used;
  s.kv_usage = kv.pool.usage;
  s.prefix_query_tokens = kv.prefix_query_tokens;
  s.prefix_hit_tokens = kv.prefix_hit_tokens;
  s.num_evictions = kv.pool.num_evictions;
  s.num_preemptions = num_preemptions_;
  s.num_steps = num_steps_;
  s.last_step_tokens = last_step_tokens_;
  s.total_prefill_tokens = total_prefill_tokens_;
  s.total_decode_tokens = total_decode_tokens_;
  return s;
}

Status Scheduler::check_invariants() const {
  EMBER_RETURN_IF_ERROR(blocks_.check_invariants());
  auto sorted = [](const auto& q) {
    return std::is_sorted(q.begin(), q.end(),
                          [](const Request* a, const Request* b) { return a->before(*b); });
  };
  if (!sorted(running_)) return internal_error("scheduler: running queue out of arrival order");
  if (!sorted(waiting_)) return internal_error("scheduler: waiting queue out of arrival order");
  if (running_.size() + waiting_.size() != requests_.size()) {
    return internal_error("scheduler: queues and live requests disagree");
  }
  if (blocks_.stats().num_seqs != num_running()) {
    return internal_error("scheduler: KV blocks held by requests that are not running");
  }
  auto in_flight = [this](const Request* r) -> int64_t {
    for (const Pending& p : pending_) {
      if (p.id == r->id && p.sequence == r->sequence) return p.n;
    }
    return 0;
  };
  for (const Request* r : running_) {
    const std::string name = req_name(r->id);
    if (get(r->id) != r || r->status != RequestStatus::kRunning) {
      return internal_error("scheduler: " + name + " is in the running queue but not running");
    }
    if (blocks_.num_tokens(r->id) != r->num_computed_tokens + in_flight(r)) {
      return internal_error("scheduler: " + name + " holds " +
                            std::to_string(blocks_.num_tokens(r->id)) + " KV slots for " +
                            std::to_string(r->num_computed_tokens) + " computed tokens");
    }
  }
  for (const Request* r : waiting_) {
    const std::string name = req_name(r->id);
    if (get(r->id) != r ||
        (r->status != RequestStatus::kWaiting && r->status != RequestStatus::kPreempted)) {
      return internal_error("scheduler: " + name + " is in the waiting queue but not waiting");
    }
    if (r->num_computed_tokens != 0) {
      return internal_error("scheduler: waiting " + name + " has computed tokens");
    }
  }
  for (const auto& [id, r] : requests_) {
    // A live request has not reached its limits yet (reaching them finishes it).
    if (r->num_computed_tokens > r->num_tokens() || r->num_tokens() >= options_.max_model_len ||
        r->num_output_tokens() >= r->max_tokens) {
      return internal_error("scheduler: " + req_name(id) + " has inconsistent token counts");
    }
  }
  return ok_status();
}

}  // namespace ember::engine
