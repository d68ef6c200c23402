// The pool of fixed-size KV blocks: reference counts, the free list, the
// prefix cache and LRU eviction. Integers only; the K/V memory is KvCache's.
//
// Every block is in exactly one of three states:
//   used      ref > 0 (held by one or more sequences; may be cached)
//   free      ref == 0, not cached: on the free list
//   evictable ref == 0, cached: on the LRU list, still findable by hash
// Allocation takes free blocks first, then evicts the least recently released
// evictable block (dropping its hash). A prefix hit on an evictable block
// takes it off the LRU list. A cached block's hash is in the prefix cache and
// nowhere else; an uncached block has no hash.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/status.h"
#include "kv/prefix_cache.h"

namespace ember::kv {

struct BlockPoolStats {
  int64_t num_blocks = 0;
  int64_t num_used = 0;       // ref > 0
  int64_t num_free = 0;       // ref == 0 (free + evictable)
  int64_t num_cached = 0;     // blocks findable in the prefix cache (used or evictable)
  int64_t num_evictions = 0;  // cached blocks reclaimed for new content, since creation
  double usage = 0.0;         // num_used / num_blocks
};

class BlockPool {
 public:
  // num_blocks in [1, 2^31 - 1].
  static Result<BlockPool> create(int64_t num_blocks);

  int64_t num_blocks() const { return static_cast<int64_t>(blocks_.size()); }
  int64_t num_free() const { return static_cast<int64_t>(free_.size()) + lru_size_; }
  int64_t num_used() const { return num_blocks() - num_free(); }
  BlockPoolStats stats() const;

  int32_t ref_count(int32_t block) const { return blocks_[block].ref; }
  bool is_cached(int32_t block) const { return blocks_[block].cached; }
  // The hash a cached block is known by; nullptr when not cached.
  const BlockHash* hash_of(int32_t block) const;

  // Appends n blocks with ref 1 to `out`: free blocks first (lowest id first
  // in a fresh pool), then evictable ones in LRU order. Returns false and
  // changes nothing when fewer than n blocks have ref 0.
  bool allocate(int64_t n, std::vector<int32_t>& out);
  // One more holder of a block that is used or evictable (prefix hit, fork).
  void acquire(int32_t block);
  // One holder fewer. At ref 0 a cached block becomes the most recently used
  // evictable block; an uncached one goes back to the free list.
  void release(int32_t block);

  // The cached block holding content `hash`, if any.
  std::optional<int32_t> find_cached(const BlockHash& hash) const {
    return cache_.find(hash);
  }
  // Makes a used, uncached block findable under `hash`. Returns false (no
  // change) when another block already caches the same hash.
  bool cache(int32_t block, const BlockHash& hash);
  // Forgets every evictable block's hash (they become plain free blocks);
  // used blocks keep theirs. Returns how many were dropped.
  int64_t reset_prefix_cache();

  // Verifies the state invariants above; for tests and debug checks.
  Status check_invariants() const;

 private:
  struct Block {
    int32_t ref = 0;
    bool cached = false;
    BlockHash hash;
    int32_t prev = -1, next = -1;  // LRU links while evictable
  };

  void lru_push_back(int32_t block);
  void lru_remove(int32_t block);
  void uncache(int32_t block);

  std::vector<Block> blocks_;
  std::vector<int32_t> free_;  // a stack: back() is allocated next
  int32_t lru_head_ = -1;      // least recently released: evicted first
  int32_t lru_tail_ = -1;
  int64_t lru_size_ = 0;
  PrefixCache cache_;
  int64_t evictions_ = 0;
};

}  // namespace ember::kv
