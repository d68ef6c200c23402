#include "engine/engine_core.h"

#include <algorithm>
#include <fstream>
#include <string>

#include "base/log.h"
#include "engine/model_defaults.h"

namespace ember::engine {
namespace {

// MemAvailable from /proc/meminfo in bytes; 0 when unknown.
int64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

}  // namespace

Status EngineConfig::validate() const {
  if (model.empty()) return invalid_argument("no model given");
  if (threads < 0 || threads > 1024) return invalid_argument("--threads must be between 1 and 1024");
  if (block_size < 1 || block_size > 256) return invalid_argument("--block-size must be between 1 and 256");
  if (kv_cache_memory < 0) return invalid_argument("--kv-cache-memory must be positive");
  if (memory_utilization < 0.0 || memory_utilization > 0.95)
    return invalid_argument("--memory-utilization must be in (0, 0.95]");
  if (max_num_batched_tokens < 1) return invalid_argument("--max-num-batched-tokens must be positive");
  if (max_num_seqs < 1) return invalid_argument("--max-num-seqs must be positive");
  if (max_model_len < 0) return invalid_argument("--max-model-len must be positive");
  return ok_status();
}

Result<std::unique_ptr<EngineCore>> EngineCore::create(const EngineConfig& config) {
  EMBER_RETURN_IF_ERROR(config.validate());
  auto e = std::unique_ptr<EngineCore>(new EngineCore());
  e->config_ = config;
  e->pool_ = std::make_unique<ThreadPool>(config.threads > 0 ? config.threads : physical_core_count());
  EMBER_ASSIGN_OR_RETURN(e->model_, model::Model::load(config.model, config.load, *e->pool_));
  const model::ModelConfig& mc = e->model_->config();
  EMBER_ASSIGN_OR_RETURN(DType kv_dtype, kv::parse_kv_cache_dtype(config.kv_cache_dtype, e->model_->weights().lm_head.dtype));

  // KV pool size: explicit bytes, a share of available memory, or on the CPU
  // a quarter of available memory capped at 4 GiB.
  const int64_t per_token = static_cast<int64_t>(kv::KvCache::bytes_per_token(mc, kv_dtype));
  const int64_t available = available_memory_bytes();
  int64_t kv_bytes = config.kv_cache_memory;
  const char* how = "--kv-cache-memory";
  if (kv_bytes == 0 && config.memory_utilization > 0.0) {
    kv_bytes = static_cast<int64_t>(config.memory_utilization * static_cast<double>(available));
    how = "--memory-utilization";
  } else if (kv_bytes == 0) {
    kv_bytes = std::min<int64_t>(available / 4, int64_t{4} << 30);
    how = "default: a quarter of available memory, at most 4 GiB";
  }
  const int64_t num_blocks = kv_bytes / (per_token * config.block_size);
  if (num_blocks < 1)
    return resource_exhausted("the KV cache budget (" + std::to_string(kv_bytes >> 20) +
                              " MiB) holds no block of " + std::to_string(config.block_size) + " tokens");
  EMBER_ASSIGN_OR_RETURN(kv::KvCache kv, kv::KvCache::create(mc, kv_dtype, num_blocks, config.block_size));
  e->kv_ = std::make_unique<kv::KvCache>(std::move(kv));
  const int64_t pool_tokens = num_blocks * config.block_size;
  LOG_INFO("KV cache: %lld blocks of %lld tokens (%lld tokens, %.0f MiB, %s) [%s]",
           static_cast<long long>(num_blocks), static_cast<long long>(config.block_size),
           static_cast<long long>(pool_tokens), e->kv_->bytes() / 1048576.0,
           std::string(dtype_name(kv_dtype)).c_str(), how);

  int64_t max_len = config.max_model_len > 0 ? config.max_model_len : mc.max_position;
  if (config.max_model_len > mc.max_position)
    LOG_WARN("--max-model-len %lld exceeds the model's context of %lld", static_cast<long long>(config.max_model_len),
             static_cast<long long>(mc.max_position));
  if (max_len > pool_tokens) {
    if (config.max_model_len > 0)
      return resource_exhausted("--max-model-len " + std::to_string(config.max_model_len) +
                                " needs more KV cache than the pool holds (" + std::to_string(pool_tokens) +
                                " tokens); raise --kv-cache-memory");
    LOG_INFO("max model length lowered from %lld to %lld, what the KV pool holds",
             static_cast<long long>(max_len), static_cast<long long>(pool_tokens));
    max_len = pool_tokens;
  }
  e->max_model_len_ = max_len;

  SchedulerOptions so;
  so.max_num_batched_tokens = config.max_num_batched_tokens;
  so.max_num_seqs = config.max_num_seqs;
  so.max_model_len = max_len;
  so.kv.num_blocks = num_blocks;
  so.kv.block_size = config.block_size;
  so.kv.enable_prefix_caching = config.enable_prefix_caching;
  EMBER_ASSIGN_OR_RETURN(Scheduler s, Scheduler::create(so));
  e->scheduler_ = std::make_unique<Scheduler>(std::move(s));
  e->eos_ids_ = engine::eos_token_ids(*e->model_);
  return e;
}

Status EngineCore::add_request(NewRequest r) {
  const int64_t vocab = model_->config().vocab;
  if (states_.count(r.id)) return invalid_argument("request id " + std::to_string(r.id) + " is in use");
  if (r.prompt.empty()) return invalid_argument("prompt: is empty");
  for (int32_t t : r.prompt)
    if (t < 0 || t >= vocab)
      return invalid_argument("prompt: token id " + std::to_string(t) + " is outside the vocabulary [0, " +
                              std::to_string(vocab) + ")");
  EMBER_RETURN_IF_ERROR(r.params.validate(vocab));
  if (r.id < 0 || r.id >= (RequestId{1} << 62)) return invalid_argument("request id out of range");
  if (r.n < 1 || r.n > 128) return invalid_argument("n: must be between 1 and 128");
  RequestSpec spec;
  spec.id = r.id;
  spec.prompt = r.prompt;
  spec.max_tokens = r.params.max_tokens;
  spec.cache_salt = r.cache_salt;
  EMBER_RETURN_IF_ERROR(scheduler_->add_request(std::move(spec)));
  RequestState state;
  state.params = r.params;
  state.sampler = std::make_unique<sampling::Sampler>(r.params, eos_ids_, r.prompt);
  state.parent = r.id;
  state.pending_forks = r.n - 1;
  if (r.n > 1) state.prompt = r.prompt;
  states_.emplace(r.id, std::move(state));
  return ok_status();
}

bool EngineCore::abort(RequestId id) {
  bool found = false;
  for (auto it = states_.begin(); it != states_.end();) {
    if (it->second.parent == id) {
      found |= scheduler_->abort(it->first);
      it = states_.erase(it);
    } else {
      ++it;
    }
  }
  return found;
}

Status EngineCore::finish_stopped(RequestId id, int32_t index) {
  for (auto it = states_.begin(); it != states_.end(); ++it) {
    if (it->second.parent == id && it->second.index == index) {
      const RequestId internal = it->first;
      states_.erase(it);
      sample_parent_.erase(internal);
      return scheduler_->finish(internal, FinishReason::kStop);
    }
  }
  return not_found("request " + std::to_string(id) + " sample " + std::to_string(index) + " is not running");
}

Status EngineCore::build_batch(const SchedulerOutput& out) {
  model::ForwardBatch& b = batch_;
  b.tokens = out.tokens;
  b.positions = out.positions;
  b.slots = out.slots;
  b.seqs.clear();
  b.logit_rows.clear();
  for (const ScheduledSeq& s : out.seqs) {
    b.seqs.push_back(model::BatchSequence{s.q_begin, s.num_tokens, s.context_len, s.block_table.data()});
    if (s.wants_logits) b.logit_rows.push_back(s.q_begin + s.num_tokens - 1);
  }
  return ok_status();
}

Result<std::vector<StepOutput>> EngineCore::step() {
  std::vector<StepOutput> outputs;
  EMBER_ASSIGN_OR_RETURN(SchedulerOutput out, scheduler_->schedule());
  if (out.empty()) return outputs;
  for (const kv::BlockCopy& c : out.block_copies) kv_->copy_block(c.src, c.dst);
  EMBER_RETURN_IF_ERROR(build_batch(out));
  for (const ScheduledSeq& s : out.seqs) {
    auto it = states_.find(s.id);
    if (it != states_.end() && !it->second.scheduled && s.id < (RequestId{1} << 62)) {
      it->second.scheduled = true;
      first_scheduled_.push_back(s.id);
    }
  }
  const int64_t vocab = model_->config().vocab;
  logits_.resize(batch_.logit_rows.size() * vocab);
  EMBER_RETURN_IF_ERROR(model_->forward(batch_, kv_->view(), logits_.data(), *pool_));

  std::vector<SampledToken> sampled;
  std::vector<RequestId> stopped;
  size_t row = 0;
  for (const ScheduledSeq& s : out.seqs) {
    if (!s.wants_logits) continue;
    float* logits = logits_.data() + (row++) * vocab;
    auto it = states_.find(s.id);
    if (it == states_.end()) continue;  // aborted meanwhile: the scheduler ignores it
    RequestState& st = it->second;
    if (st.pending_forks > 0) {
      // The prompt's logits are in: split off the other samples first (each
      // samples from an untouched copy of the logits).
      scratch_logits_.assign(logits, logits + vocab);
      EMBER_RETURN_IF_ERROR(fork_samples(s.id, st, scratch_logits_.data(), sampled, outputs, stopped));
    }
    outputs.push_back(sample_one(s.id, st, logits, sampled, stopped));
  }
  EMBER_ASSIGN_OR_RETURN(std::vector<RequestId> length_finished, scheduler_->update(out, sampled));
  for (RequestId id : stopped) {
    if (scheduler_->get(id)) EMBER_RETURN_IF_ERROR(scheduler_->finish(id, FinishReason::kStop));
    states_.erase(id);
  }
  for (RequestId id : length_finished) {
    states_.erase(id);
    for (auto& o : outputs)
      if (o.id == id && !o.finished) {
        o.finished = true;
        o.finish_reason = FinishReason::kLength;
      }
  }
  // Report samples by the id the caller knows.
  for (auto& o : outputs) {
    if (o.id >= (RequestId{1} << 62)) o.id = sample_parent_.count(o.id) ? sample_parent_[o.id] : o.id;
  }
  for (RequestId id : length_finished) sample_parent_.erase(id);
  for (RequestId id : stopped) sample_parent_.erase(id);
  return outputs;
}

StepOutput EngineCore::sample_one(RequestId id, RequestState& st, float* logits, std::vector<SampledToken>& sampled,
                                  std::vector<RequestId>& stopped) {
  const int64_t vocab = model_->config().vocab;
  StepOutput o;
  o.id = id;
  o.index = st.index;
  std::vector<float> raw;
  if (st.params.logprobs >= 0) raw.assign(logits, logits + vocab);  // logprobs of the unprocessed distribution
  const int32_t token = st.sampler->sample(logits, vocab);
  st.sampler->accept(token);
  if (st.params.logprobs >= 0)
    o.logprobs.push_back(sampling::Sampler::logprobs(raw.data(), vocab, token, st.params.logprobs));
  o.new_tokens.push_back(token);
  const auto reason = st.sampler->stop_reason(token);
  if (reason == sampling::Sampler::Stop::kEos || reason == sampling::Sampler::Stop::kStopToken) {
    o.finished = true;
    o.finish_reason = FinishReason::kStop;
    o.stopped_by_token = true;
    stopped.push_back(id);
  }
  if (const Request* req = scheduler_->get(id)) {
    o.num_prompt_tokens = req->num_prompt_tokens;
    o.num_cached_tokens = std::max<int64_t>(0, req->num_cached_tokens);
  }
  sampled.push_back({id, token});
  return o;
}

Status EngineCore::fork_samples(RequestId id, RequestState& st, const float* logits,
                                std::vector<SampledToken>& sampled, std::vector<StepOutput>& outputs,
                                std::vector<RequestId>& stopped) {
  const int64_t vocab = model_->config().vocab;
  std::vector<float> copy(vocab);
  for (int32_t i = 1; i <= st.pending_forks; ++i) {
    const RequestId child = next_sample_id_++;
    EMBER_RETURN_IF_ERROR(scheduler_->fork(id, child));
    RequestState cs;
    cs.params = st.params;
    if (cs.params.seed) cs.params.seed = *cs.params.seed + static_cast<uint64_t>(i);  // distinct, reproducible
    cs.sampler = std::make_unique<sampling::Sampler>(cs.params, eos_ids_, st.prompt);
    cs.parent = st.parent;
    cs.index = i;
    sample_parent_[child] = st.parent;
    auto [it, inserted] = states_.emplace(child, std::move(cs));
    copy.assign(logits, logits + vocab);
    outputs.push_back(sample_one(child, it->second, copy.data(), sampled, stopped));
  }
  st.pending_forks = 0;
  st.prompt.clear();
  return ok_status();
}

EngineStats EngineCore::stats() const {
  EngineStats s;
  s.scheduler = scheduler_->stats();
  s.kv_cache_bytes = static_cast<int64_t>(kv_->bytes());
  s.max_model_len = max_model_len_;
  return s;
}

}  // namespace ember::engine
