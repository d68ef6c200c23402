#include "tokenizer/bpe_cache.h"

#include <cstring>

namespace ember::tokenizer {

void BpeCache::Shard::reset() {
  slots.assign(kSlots, 0);
  entries.clear();
  keys.clear();
  ids.clear();
}

bool BpeCache::lookup(std::string_view word, uint64_t hash, std::vector<int32_t>* out) const {
  Shard& s = shards_[hash % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.slots.empty()) return false;
  for (size_t i = (hash >> 8) & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
    const uint32_t slot = s.slots[i];
    if (!slot) return false;
    const Entry& e = s.entries[slot - 1];
    if (e.hash == hash && e.key_length == word.size() &&
        std::memcmp(s.keys.data() + e.key_offset, word.data(), word.size()) == 0) {
      out->insert(out->end(), s.ids.begin() + e.ids_offset, s.ids.begin() + e.ids_offset + e.num_ids);
      return true;
    }
  }
}

void BpeCache::insert(std::string_view word, uint64_t hash, const int32_t* ids, size_t n) const {
  if (word.size() > kMaxWordBytes || n > kMaxWordBytes) return;
  Shard& s = shards_[hash % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.slots.empty() || s.entries.size() >= kMaxEntries || s.keys.size() + word.size() > kArenaBytes ||
      (s.ids.size() + n) * sizeof(int32_t) > kArenaBytes)
    s.reset();
  size_t i = (hash >> 8) & (kSlots - 1);
  for (;; i = (i + 1) & (kSlots - 1)) {
    const uint32_t slot = s.slots[i];
    if (!slot) break;
    const Entry& e = s.entries[slot - 1];
    if (e.hash == hash && e.key_length == word.size() &&
        std::memcmp(s.keys.data() + e.key_offset, word.data(), word.size()) == 0)
      return;  // another thread got here first
  }
  s.entries.push_back({hash, static_cast<uint32_t>(s.keys.size()), static_cast<uint16_t>(word.size()),
                       static_cast<uint16_t>(n), static_cast<uint32_t>(s.ids.size())});
  s.keys.insert(s.keys.end(), word.begin(), word.end());
  s.ids.insert(s.ids.end(), ids, ids + n);
  s.slots[i] = static_cast<uint32_t>(s.entries.size());
}

void BpeCache::clear() const {
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    s.slots.clear();
    s.entries.clear();
    s.keys.clear();
    s.ids.clear();
  }
}

}  // namespace ember::tokenizer
