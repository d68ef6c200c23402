// Memo of word -> BPE ids shared by every thread that encodes with one
// tokenizer. Sharded by hash, one mutex per shard; each shard owns flat
// arrays (no allocation per entry) and is simply emptied when full, which
// keeps memory bounded (about 16 x 512 KiB) without LRU bookkeeping.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

namespace ember::tokenizer {

class BpeCache {
 public:
  static constexpr size_t kMaxWordBytes = 64;  // longer words are not cached

  BpeCache() = default;
  BpeCache(const BpeCache&) = delete;
  BpeCache& operator=(const BpeCache&) = delete;

  // Appends the cached ids of word to out and returns true, or returns false.
  bool lookup(std::string_view word, uint64_t hash, std::vector<int32_t>* out) const;
  void insert(std::string_view word, uint64_t hash, const int32_t* ids, size_t n) const;
  void clear() const;

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kSlots = 8192;           // per shard, power of two
  static constexpr size_t kMaxEntries = kSlots / 2;
  static constexpr size_t kArenaBytes = 256 * 1024;

  struct Entry {
    uint64_t hash;
    uint32_t key_offset;  // into keys
    uint16_t key_length;
    uint16_t num_ids;
    uint32_t ids_offset;  // into ids
  };
  struct Shard {
    std::mutex mu;
    std::vector<uint32_t> slots;  // entry index + 1; 0 = empty
    std::vector<Entry> entries;
    std::vector<char> keys;
    std::vector<int32_t> ids;
    void reset();
  };

  mutable std::array<Shard, kShards> shards_;
};

}  // namespace ember::tokenizer
