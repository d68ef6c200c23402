// The exact-repeat response cache: a deterministic request (temperature 0
// or a fixed seed) asked again with the same rendered prompt ids and the
// same sampling, text and output fields gets the recorded output of the
// first one instead of running the engine again. What is recorded is the
// sequence of deltas the Generation produced, so a hit can be answered
// streamed (the deltas replayed as chunks, with a fresh id and created) or
// not, whichever way the first request was. Only generations that completed
// (every choice finished with stop or length, no error) are stored. LRU,
// bounded by the bytes it holds (keys included, approximately); a capacity
// of 0 disables it. Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "sampling/sampling_params.h"
#include "server/generation.h"

namespace ember::server {

// What a completed generation produced, as its polls returned it.
struct CachedResponse {
  std::vector<std::vector<ChoiceDelta>> batches;  // one per poll that moved, in order
  int32_t num_choices = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  std::vector<ReasoningSplit> reasoning_splits;  // per choice
  std::vector<std::string> finish_reasons;  // per choice
  // Approximate memory held.
  size_t bytes() const;
};

// Whether the sampling makes the output reproducible (greedy, or seeded).
bool is_deterministic(const sampling::SamplingParams& p);

// One engine request of a generation, as the key sees it.
struct CacheKeyPart {
  const std::vector<int32_t>* prompt = nullptr;
  const sampling::SamplingParams* params = nullptr;
  int32_t n = 1;
};

// The key of a request: the route, the served model, the text and
// reasoning options, every part's prompt ids, sampling parameters and n,
// and the output flags given (logprobs, echo, return_tokens_as_token_ids).
// Empty when some part is not deterministic (such a request is not cached).
// `stream` and `stream_options` only shape the wire format, so a streamed
// and a non-streamed request share an entry.
std::string response_cache_key(std::string_view route, const std::string& model, const GenerationOptions& options,
                               const std::vector<CacheKeyPart>& parts,
                               const std::vector<std::pair<const char*, bool>>& flags);

struct ResponseCacheStats {
  int64_t queries = 0;  // lookups of deterministic requests
  int64_t hits = 0;
  int64_t entries = 0;
  int64_t bytes = 0;
  int64_t capacity_bytes = 0;
};

class ResponseCache {
 public:
  explicit ResponseCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}
  bool enabled() const { return capacity_ > 0; }

  // A lookup (counted as a query; a hit when found, which becomes the most
  // recently used).
  std::shared_ptr<const CachedResponse> get(const std::string& key);
  // Stores (or replaces) an entry, evicting the least recently used ones
  // until it fits; an entry larger than the whole capacity is not stored.
  void put(const std::string& key, std::shared_ptr<const CachedResponse> value);

  ResponseCacheStats stats() const;
  // ember:response_cache_* in the Prometheus text format.
  void render_metrics(std::string& out, const std::string& labels) const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const CachedResponse> value;
    size_t bytes = 0;
  };
  void evict_to(size_t limit);

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // views of the entries' keys
  size_t bytes_ = 0;
  int64_t queries_ = 0, hits_ = 0;
};

// --response-cache-size: bytes as "64M", "512K", "1G", "1048576"; "0" disables.
Result<size_t> parse_response_cache_size(const std::string& text);

}  // namespace ember::server
