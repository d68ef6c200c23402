#include "kv/block_pool.h"

#include <cassert>
#include <limits>
#include <string>

namespace ember::kv {

Result<BlockPool> BlockPool::create(int64_t num_blocks) {
  if (num_blocks < 1 || num_blocks > std::numeric_limits<int32_t>::max()) {
    return invalid_argument("block pool: num_blocks must be in [1, 2^31-1], got " +
                            std::to_string(num_blocks));
  }
  BlockPool pool;
  pool.blocks_.resize(static_cast<size_t>(num_blocks));
  pool.free_.reserve(static_cast<size_t>(num_blocks));
  for (int64_t b = num_blocks - 1; b >= 0; --b) pool.free_.push_back(static_cast<int32_t>(b));
  return pool;
}

BlockPoolStats BlockPool::stats() const {
  BlockPoolStats s;
  s.num_blocks = num_blocks();
  s.num_free = num_free();
  s.num_used = num_used();
  s.num_cached = cache_.size();
  s.num_evictions = evictions_;
  s.usage = static_cast<double>(s.num_used) / static_cast<double>(s.num_blocks);
  return s;
}

const BlockHash* BlockPool::hash_of(int32_t block) const {
  return blocks_[block].cached ? &blocks_[block].hash : nullptr;
}

bool BlockPool::allocate(int64_t n, std::vector<int32_t>& out) {
  if (n < 0 || n > num_free()) return false;
  for (int64_t i = 0; i < n; ++i) {
    int32_t b;
    if (!free_.empty()) {
      b = free_.back();
      free_.pop_back();
    } else {
      b = lru_head_;
      lru_remove(b);
      uncache(b);
      ++evictions_;
    }
    assert(blocks_[b].ref == 0 && !blocks_[b].cached);
    blocks_[b].ref = 1;
    out.push_back(b);
  }
  return true;
}

void BlockPool::acquire(int32_t block) {
  Block& b = blocks_[block];
  assert(b.ref > 0 || b.cached);  // a plain free block is handed out by allocate()
  if (b.ref == 0) lru_remove(block);
  ++b.ref;
}

void BlockPool::release(int32_t block) {
  Block& b = blocks_[block];
  assert(b.ref > 0);
  if (--b.ref > 0) return;
  if (b.cached) {
    lru_push_back(block);
  } else {
    free_.push_back(block);
  }
}

bool BlockPool::cache(int32_t block, const BlockHash& hash) {
  Block& b = blocks_[block];
  assert(b.ref > 0 && !b.cached);
  if (!cache_.insert(hash, block)) return false;
  b.cached = true;
  b.hash = hash;
  return true;
}

int64_t BlockPool::reset_prefix_cache() {
  int64_t dropped = 0;
  while (lru_head_ >= 0) {
    const int32_t b = lru_head_;
    lru_remove(b);
    uncache(b);
    free_.push_back(b);
    ++dropped;
  }
  return dropped;
}

void BlockPool::uncache(int32_t block) {
  Block& b = blocks_[block];
  if (!b.cached) return;
  cache_.erase(b.hash, block);
  b.cached = false;
  b.hash = {};
}

void BlockPool::lru_push_back(int32_t block) {
  Block& b = blocks_[block];
  b.prev = lru_tail_;
  b.next = -1;
  if (lru_tail_ >= 0) {
    blocks_[lru_tail_].next = block;
  } else {
    lru_head_ = block;
  }
  lru_tail_ = block;
  ++lru_size_;
}

void BlockPool::lru_remove(int32_t block) {
  Block& b = blocks_[block];
  if (b.prev >= 0) {
    blocks_[b.prev].next = b.next;
  } else {
    lru_head_ = b.next;
  }
  if (b.next >= 0) {
    blocks_[b.next].prev = b.prev;
  } else {
    lru_tail_ = b.prev;
  }
  b.prev = b.next = -1;
  --lru_size_;
}

Status BlockPool::check_invariants() const {
  const int64_t n = num_blocks();
  // 0 = not seen, 1 = on the free list, 2 = on the LRU list.
  std::vector<uint8_t> where(static_cast<size_t>(n), 0);
  for (const int32_t b : free_) {
    if (b < 0 || b >= n) return internal_error("free list holds invalid block " + std::to_string(b));
    if (where[b] != 0) return internal_error("block " + std::to_string(b) + " twice on the free list");
    where[b] = 1;
  }
  int64_t lru_count = 0;
  int32_t prev = -1;
  for (int32_t b = lru_head_; b >= 0; b = blocks_[b].next) {
    if (b >= n || where[b] != 0) return internal_error("LRU list is corrupt at block " + std::to_string(b));
    if (blocks_[b].prev != prev) return internal_error("LRU back link broken at block " + std::to_string(b));
    where[b] = 2;
    prev = b;
    if (++lru_count > n) return internal_error("LRU list has a cycle");
  }
  if (prev != lru_tail_ || lru_count != lru_size_) return internal_error("LRU tail or size is wrong");
  int64_t cached = 0;
  for (int64_t i = 0; i < n; ++i) {
    const Block& b = blocks_[i];
    const std::string id = "block " + std::to_string(i);
    if (b.ref < 0) return internal_error(id + " has a negative ref count");
    if (b.ref > 0 && where[i] != 0) return internal_error(id + " is used but listed as free");
    if (b.ref == 0 && where[i] == 0) return internal_error(id + " has ref 0 but is on no list");
    if (where[i] == 1 && b.cached) return internal_error(id + " is on the free list but cached");
    if (where[i] == 2 && !b.cached) return internal_error(id + " is evictable but not cached");
    if (b.cached) {
      ++cached;
      const auto found = cache_.find(b.hash);
      if (!found || *found != i) return internal_error(id + " is cached but its hash maps elsewhere");
    }
  }
  if (cached != cache_.size()) return internal_error("prefix cache holds hashes of no block");
  return ok_status();
}

}  // namespace ember::kv
