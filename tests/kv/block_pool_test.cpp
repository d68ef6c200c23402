// BlockPool (ref counts, free list, LRU eviction) and the prefix-cache hashing.
#include "kv/block_pool.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "kv/prefix_cache.h"

namespace ember::kv {
namespace {

BlockPool make_pool(int64_t n) {
  Result<BlockPool> pool = BlockPool::create(n);
  EXPECT_TRUE(pool.ok()) << pool.status().to_string();
  return std::move(pool).value();
}

BlockHash hash_n(uint64_t n) { return {n * 0x9e3779b97f4a7c15ull + 1, n + 7}; }

TEST(BlockPool, RejectsBadSizes) {
  EXPECT_EQ(BlockPool::create(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BlockPool::create(-3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BlockPool::create(int64_t{1} << 32).status().code(), StatusCode::kInvalidArgument);
}

TEST(BlockPool, AllocatesLowestIdsFirstAndFreesThem) {
  BlockPool pool = make_pool(5);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool.allocate(3, got));
  EXPECT_EQ(got, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(pool.num_used(), 3);
  EXPECT_EQ(pool.num_free(), 2);
  EXPECT_DOUBLE_EQ(pool.stats().usage, 0.6);
  for (int32_t b : got) EXPECT_EQ(pool.ref_count(b), 1);
  ASSERT_TRUE(pool.check_invariants().ok());

  // Asking for more than is free changes nothing.
  std::vector<int32_t> more;
  EXPECT_FALSE(pool.allocate(3, more));
  EXPECT_TRUE(more.empty());
  EXPECT_EQ(pool.num_free(), 2);

  for (int32_t b : got) pool.release(b);
  EXPECT_EQ(pool.num_used(), 0);
  EXPECT_EQ(pool.num_free(), 5);
  ASSERT_TRUE(pool.check_invariants().ok());
}

TEST(BlockPool, RefCountsTrackEveryHolder) {
  BlockPool pool = make_pool(2);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool.allocate(1, got));
  const int32_t b = got[0];
  pool.acquire(b);
  pool.acquire(b);
  EXPECT_EQ(pool.ref_count(b), 3);
  pool.release(b);
  pool.release(b);
  EXPECT_EQ(pool.num_used(), 1);
  pool.release(b);
  EXPECT_EQ(pool.num_used(), 0);
  ASSERT_TRUE(pool.check_invariants().ok());
}

TEST(BlockPool, CachedBlocksStayFindableUntilEvicted) {
  BlockPool pool = make_pool(4);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool.allocate(2, got));  // 0, 1
  ASSERT_TRUE(pool.cache(0, hash_n(1)));
  EXPECT_TRUE(pool.is_cached(0));
  EXPECT_FALSE(pool.is_cached(1));
  pool.release(0);
  pool.release(1);
  EXPECT_EQ(pool.num_free(), 4);  // evictable blocks count as free
  EXPECT_EQ(pool.find_cached(hash_n(1)), std::optional<int32_t>(0));
  ASSERT_TRUE(pool.check_invariants().ok());

  // Plain free blocks go first: 1, 2, 3 (the never-used 2 and 3, and 1).
  std::vector<int32_t> next;
  ASSERT_TRUE(pool.allocate(3, next));
  EXPECT_EQ(std::set<int32_t>(next.begin(), next.end()), (std::set<int32_t>{1, 2, 3}));
  EXPECT_EQ(pool.stats().num_evictions, 0);
  EXPECT_TRUE(pool.find_cached(hash_n(1)).has_value());

  // Only the cached block is left: taking it evicts it.
  std::vector<int32_t> last;
  ASSERT_TRUE(pool.allocate(1, last));
  EXPECT_EQ(last, std::vector<int32_t>{0});
  EXPECT_FALSE(pool.find_cached(hash_n(1)).has_value());
  EXPECT_FALSE(pool.is_cached(0));
  EXPECT_EQ(pool.stats().num_evictions, 1);
  ASSERT_TRUE(pool.check_invariants().ok());
}

TEST(BlockPool, EvictsLeastRecentlyReleasedFirst) {
  BlockPool pool = make_pool(4);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool.allocate(4, got));
  for (int32_t b = 0; b < 4; ++b) ASSERT_TRUE(pool.cache(b, hash_n(b)));
  // Release order 2, 0, 3, 1: that is the eviction order...
  for (int32_t b : {2, 0, 3, 1}) pool.release(b);
  // ...except that a hit on 0 takes it off the list, and releasing it again
  // makes it the most recently used.
  pool.acquire(0);
  EXPECT_EQ(pool.num_free(), 3);
  pool.release(0);
  ASSERT_TRUE(pool.check_invariants().ok());
  std::vector<int32_t> order;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(pool.allocate(1, order));
  EXPECT_EQ(order, (std::vector<int32_t>{2, 3, 1, 0}));
  EXPECT_EQ(pool.stats().num_evictions, 4);
  EXPECT_EQ(pool.stats().num_cached, 0);
  ASSERT_TRUE(pool.check_invariants().ok());
}

TEST(BlockPool, OneBlockPerHash) {
  BlockPool pool = make_pool(3);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool.allocate(2, got));
  ASSERT_TRUE(pool.cache(0, hash_n(5)));
  EXPECT_FALSE(pool.cache(1, hash_n(5)));  // same content elsewhere: stays private
  EXPECT_FALSE(pool.is_cached(1));
  pool.release(1);
  pool.release(0);
  EXPECT_EQ(pool.stats().num_cached, 1);
  ASSERT_TRUE(pool.check_invariants().ok());
}

TEST(BlockPool, ResetPrefixCacheDropsOnlyUnheldBlocks) {
  BlockPool pool = make_pool(3);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool.allocate(2, got));
  ASSERT_TRUE(pool.cache(0, hash_n(0)));
  ASSERT_TRUE(pool.cache(1, hash_n(1)));
  pool.release(0);
  EXPECT_EQ(pool.reset_prefix_cache(), 1);
  EXPECT_FALSE(pool.find_cached(hash_n(0)).has_value());
  EXPECT_TRUE(pool.find_cached(hash_n(1)).has_value());
  ASSERT_TRUE(pool.check_invariants().ok());
  pool.release(1);
  EXPECT_EQ(pool.num_free(), 3);
  ASSERT_TRUE(pool.check_invariants().ok());
}

TEST(PrefixCache, BothHashHalvesMustMatch) {
  PrefixCache cache;
  ASSERT_TRUE(cache.insert({42, 1}, 7));
  EXPECT_EQ(cache.find({42, 1}), std::optional<int32_t>(7));
  EXPECT_FALSE(cache.find({42, 2}).has_value());  // key collision, check differs
  EXPECT_FALSE(cache.insert({42, 2}, 8));
  cache.erase({42, 1}, 8);  // not the block it maps to: kept
  EXPECT_EQ(cache.size(), 1);
  cache.erase({42, 1}, 7);
  EXPECT_EQ(cache.size(), 0);
}

TEST(BlockHasher, ChainsOverParentTokensAndSalt) {
  const BlockHasher h(1234);
  const std::vector<int32_t> a = {1, 2, 3, 4}, b = {1, 2, 3, 5}, c = {4, 3, 2, 1};
  const BlockHash root = h.root("");
  EXPECT_EQ(h.next(root, a), h.next(root, a));
  EXPECT_NE(h.next(root, a), h.next(root, b));
  EXPECT_NE(h.next(root, a), h.next(root, c));  // order matters
  // The same block after a different parent is different content.
  EXPECT_NE(h.next(h.next(root, a), c), h.next(h.next(root, b), c));
  EXPECT_NE(h.next(root, a), h.next(h.next(root, a), a));
  // Salts separate chains; empty salt is no salt.
  EXPECT_NE(h.root("alice"), h.root("bob"));
  EXPECT_NE(h.root("alice"), root);
  EXPECT_EQ(h.root("alice"), h.root("alice"));
  EXPECT_NE(h.root("12345678a"), h.root("12345678b"));  // tail bytes count
  EXPECT_NE(h.root(std::string_view("\0", 1)), h.root(std::string_view("\0\0", 2)));
  EXPECT_NE(h.next(h.root("alice"), a), h.next(root, a));
  // Token ids are taken as 32-bit values, odd lengths included.
  const std::vector<int32_t> odd1 = {1, 2, 3}, odd2 = {1, 2, 3, 0};
  EXPECT_NE(h.next(root, odd1), h.next(root, odd2));
  // The two halves are independent: neither equals the other.
  const BlockHash x = h.next(root, a);
  EXPECT_NE(x.key, x.check);
}

TEST(BlockHasher, SeedsGiveIndependentKeys) {
  const std::vector<int32_t> a = {9, 8, 7, 6};
  const BlockHasher s1(1), s1b(1), s2(2), r1, r2;
  EXPECT_EQ(s1.next(s1.root(""), a), s1b.next(s1b.root(""), a));
  EXPECT_NE(s1.next(s1.root(""), a), s2.next(s2.root(""), a));
  EXPECT_NE(r1.next(r1.root(""), a), r2.next(r2.root(""), a));  // random keys
}

TEST(BlockHasher, NoCollisionsAmongManyNearbyBlocks) {
  // 2^16 blocks differing in one token position: all keys and checks distinct.
  const BlockHasher h(77);
  const BlockHash root = h.root("");
  std::set<uint64_t> keys, checks;
  std::vector<int32_t> tokens(16, 0);
  for (int32_t pos = 0; pos < 16; ++pos) {
    for (int32_t v = 0; v < 4096; ++v) {
      tokens.assign(16, 0);
      tokens[pos] = v + 1;
      const BlockHash x = h.next(root, tokens);
      keys.insert(x.key);
      checks.insert(x.check);
    }
  }
  EXPECT_EQ(keys.size(), 16u * 4096u);
  EXPECT_EQ(checks.size(), 16u * 4096u);
}

}  // namespace
}  // namespace ember::kv
