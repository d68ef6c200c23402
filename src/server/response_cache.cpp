#include "server/response_cache.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "server/metrics.h"

namespace ember::server {
namespace {

// The key is a byte string of tagged fields; every variable-length field
// carries its length, so two different requests cannot write the same bytes.
class KeyWriter {
 public:
  KeyWriter& tag(const char* name) {
    out_ += name;
    out_ += '\0';
    return *this;
  }
  KeyWriter& u64(uint64_t v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  KeyWriter& i64(int64_t v) { return u64(static_cast<uint64_t>(v)); }
  KeyWriter& f32(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    out_.append(reinterpret_cast<const char*>(&bits), sizeof bits);
    return *this;
  }
  KeyWriter& boolean(bool v) {
    out_ += v ? '\1' : '\0';
    return *this;
  }
  KeyWriter& str(std::string_view s) {
    u64(s.size());
    out_.append(s.data(), s.size());
    return *this;
  }
  KeyWriter& ids(const std::vector<int32_t>& v) {
    u64(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(int32_t));
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

void write_params(KeyWriter& w, const sampling::SamplingParams& p) {
  w.tag("temperature").f32(p.temperature);
  w.tag("top_k").i64(p.top_k);
  w.tag("top_p").f32(p.top_p);
  w.tag("min_p").f32(p.min_p);
  w.tag("repetition_penalty").f32(p.repetition_penalty);
  w.tag("presence_penalty").f32(p.presence_penalty);
  w.tag("frequency_penalty").f32(p.frequency_penalty);
  w.tag("logit_bias").u64(p.logit_bias.size());
  for (const auto& [id, bias] : p.logit_bias) {
    w.i64(id);
    w.f32(bias);
  }
  w.tag("seed").boolean(p.seed.has_value()).u64(p.seed.value_or(0));
  w.tag("stop_token_ids").ids(p.stop_token_ids);
  w.tag("max_tokens").i64(p.max_tokens);
  w.tag("min_tokens").i64(p.min_tokens);
  w.tag("ignore_eos").boolean(p.ignore_eos);
  w.tag("logprobs").i64(p.logprobs);
}

size_t delta_bytes(const ChoiceDelta& d) {
  size_t n = sizeof(ChoiceDelta) + d.content.size() + d.reasoning.size() + d.finish_reason.size() +
             d.tokens.size() * sizeof(int32_t) + (d.stop_reason.is_string() ? d.stop_reason.get_ref<const std::string&>().size() : 0);
  for (const auto& lp : d.logprobs) n += sizeof lp + lp.top.size() * (sizeof(std::pair<int32_t, float>) + 16);
  return n;
}

}  // namespace

size_t CachedResponse::bytes() const {
  size_t n = sizeof(CachedResponse) + reasoning_splits.size();
  for (const auto& batch : batches) {
    n += sizeof batch;
    for (const auto& d : batch) n += delta_bytes(d);
  }
  return n;
}

bool is_deterministic(const sampling::SamplingParams& p) { return p.temperature == 0.0f || p.seed.has_value(); }

std::string response_cache_key(std::string_view route, const std::string& model, const GenerationOptions& options,
                               const std::vector<CacheKeyPart>& parts,
                               const std::vector<std::pair<const char*, bool>>& flags) {
  if (parts.empty()) return {};
  for (const CacheKeyPart& p : parts)
    if (!p.prompt || !p.params || !is_deterministic(*p.params)) return {};
  KeyWriter w;
  w.tag("route").str(route);
  w.tag("model").str(model);
  w.tag("skip_special_tokens").boolean(options.text.skip_special_tokens);
  w.tag("stop").u64(options.text.stop.size());
  for (const std::string& s : options.text.stop) w.str(s);
  w.tag("include_stop_str_in_output").boolean(options.text.include_stop_str_in_output);
  w.tag("reasoning").boolean(options.reasoning);
  w.tag("starts_in_reasoning").boolean(options.starts_in_reasoning);
  w.tag("include_reasoning").boolean(options.include_reasoning);
  w.tag("flags").u64(flags.size());
  for (const auto& [name, value] : flags) {
    w.str(name);
    w.boolean(value);
  }
  w.tag("parts").u64(parts.size());
  for (const CacheKeyPart& p : parts) {
    w.tag("prompt").ids(*p.prompt);
    w.tag("n").i64(p.n);
    write_params(w, *p.params);
  }
  return w.take();
}

std::shared_ptr<const CachedResponse> ResponseCache::get(const std::string& key) {
  if (!enabled() || key.empty()) return nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  ++queries_;
  auto it = index_.find(std::string_view(key));
  if (it == index_.end()) return nullptr;
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->value;
}

void ResponseCache::put(const std::string& key, std::shared_ptr<const CachedResponse> value) {
  if (!enabled() || key.empty() || !value) return;
  const size_t bytes = key.size() + value->bytes() + sizeof(Entry) + 64;
  if (bytes > capacity_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = index_.find(std::string_view(key)); it != index_.end()) {
    bytes_ -= it->second->bytes;
    auto node = it->second;
    index_.erase(it);
    lru_.erase(node);
  }
  evict_to(capacity_ - bytes);
  lru_.push_front(Entry{key, std::move(value), bytes});
  index_.emplace(std::string_view(lru_.front().key), lru_.begin());
  bytes_ += bytes;
}

void ResponseCache::evict_to(size_t limit) {
  while (bytes_ > limit && !lru_.empty()) {
    Entry& last = lru_.back();
    bytes_ -= last.bytes;
    index_.erase(std::string_view(last.key));
    lru_.pop_back();
  }
}

ResponseCacheStats ResponseCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  ResponseCacheStats s;
  s.queries = queries_;
  s.hits = hits_;
  s.entries = static_cast<int64_t>(lru_.size());
  s.bytes = static_cast<int64_t>(bytes_);
  s.capacity_bytes = static_cast<int64_t>(capacity_);
  return s;
}

void ResponseCache::render_metrics(std::string& out, const std::string& labels) const {
  const ResponseCacheStats s = stats();
  render_counter(out, "ember:response_cache_queries_total",
                 "Lookups of deterministic requests (temperature 0 or a seed) in the response cache.", labels,
                 static_cast<double>(s.queries));
  render_counter(out, "ember:response_cache_hits_total", "Requests answered from the response cache.", labels,
                 static_cast<double>(s.hits));
  render_gauge(out, "ember:response_cache_entries", "Responses held by the response cache.", labels,
               static_cast<double>(s.entries));
  render_gauge(out, "ember:response_cache_bytes", "Approximate bytes held by the response cache.", labels,
               static_cast<double>(s.bytes));
  render_gauge(out, "ember:response_cache_capacity_bytes", "The response cache's capacity (0: disabled).", labels,
               static_cast<double>(s.capacity_bytes));
}

Result<size_t> parse_response_cache_size(const std::string& text) {
  const char* s = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s, &end);
  if (end == s || errno != 0 || !std::isfinite(v) || v < 0)
    return invalid_argument("--response-cache-size: '" + text + "' is not a size (e.g. 64M, 512K, 0 to disable)");
  const std::string unit(end);
  double mult = 1;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "K" || unit == "k" || unit == "KiB") mult = 1024.0;
  else if (unit == "M" || unit == "MiB") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GiB") mult = 1024.0 * 1024 * 1024;
  else return invalid_argument("--response-cache-size: '" + text + "' is not a size (e.g. 64M, 512K, 0 to disable)");
  if (v * mult > 64.0 * 1024 * 1024 * 1024)
    return invalid_argument("--response-cache-size: '" + text + "' is more than 64G");
  return static_cast<size_t>(v * mult);
}

}  // namespace ember::server
