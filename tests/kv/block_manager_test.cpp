// BlockManager: block tables, slots, prefix-cache reuse, eviction, fork with
// copy-on-write. Expected values are derived by hand from the rules in
// block_manager.h (block size 4 keeps them small).
#include "kv/block_manager.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace ember::kv {
namespace {

constexpr int64_t kBs = 4;

BlockManager make(int64_t num_blocks, bool caching = true) {
  BlockManagerOptions o;
  o.num_blocks = num_blocks;
  o.block_size = kBs;
  o.enable_prefix_caching = caching;
  o.hash_seed = 99;
  Result<BlockManager> bm = BlockManager::create(o);
  EXPECT_TRUE(bm.ok()) << bm.status().to_string();
  return std::move(bm).value();
}

std::vector<int32_t> iota_tokens(int n, int32_t first = 100) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

std::vector<int32_t> table_of(const BlockManager& bm, SeqId s) {
  const auto t = bm.block_table(s);
  return {t.begin(), t.end()};
}

// Allocates `tokens`, "computes" all of them and returns the prefix hit.
int64_t run_prompt(BlockManager& bm, SeqId s, const std::vector<int32_t>& tokens,
                   std::string_view salt = "") {
  const PrefixMatch m = bm.match_prefix(tokens, salt);
  const int64_t n = static_cast<int64_t>(tokens.size()) - m.num_tokens;
  Result<int64_t> hit = bm.allocate(s, tokens, salt, n);
  EXPECT_TRUE(hit.ok()) << hit.status().to_string();
  EXPECT_EQ(*hit, m.num_tokens);
  EXPECT_TRUE(bm.mark_computed(s, tokens, static_cast<int64_t>(tokens.size())).ok());
  EXPECT_TRUE(bm.check_invariants().ok()) << bm.check_invariants().to_string();
  return *hit;
}

TEST(BlockManager, OptionsAreValidated) {
  BlockManagerOptions o;
  EXPECT_EQ(BlockManager::create(o).status().code(), StatusCode::kInvalidArgument);  // 0 blocks
  o.num_blocks = 8;
  o.block_size = 0;
  EXPECT_EQ(BlockManager::create(o).status().code(), StatusCode::kInvalidArgument);
  o.block_size = 16;
  o.num_blocks = int64_t{1} << 28;  // 2^32 slots
  EXPECT_EQ(BlockManager::create(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(BlockManager, TablesAndSlots) {
  BlockManager bm = make(8, /*caching=*/false);
  const auto t = iota_tokens(6);
  ASSERT_EQ(*bm.allocate(1, t, "", 6), 0);
  EXPECT_EQ(table_of(bm, 1), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(bm.num_tokens(1), 6);
  EXPECT_EQ(bm.slot_of(1, 0), 0);
  EXPECT_EQ(bm.slot_of(1, 5), 1 * kBs + 1);
  EXPECT_EQ(bm.slot_of(1, 6), -1);   // not held yet
  EXPECT_EQ(bm.slot_of(1, -1), -1);
  EXPECT_EQ(bm.slot_of(2, 0), -1);   // unknown
  // Two more tokens fill block 1; a third opens block 2.
  std::vector<BlockCopy> copies;
  ASSERT_TRUE(bm.append_slots(1, 2, &copies).ok());
  EXPECT_EQ(table_of(bm, 1).size(), 2u);
  EXPECT_EQ(bm.blocks_needed(1, 1), 1);
  ASSERT_TRUE(bm.append_slots(1, 1, &copies).ok());
  EXPECT_EQ(table_of(bm, 1), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(bm.slot_of(1, 8), 2 * kBs);
  EXPECT_TRUE(copies.empty());
  EXPECT_TRUE(bm.check_invariants().ok());
  EXPECT_EQ(bm.allocate(1, t, "", 1).status().code(), StatusCode::kInvalidArgument);  // exists
  EXPECT_EQ(bm.allocate(3, {}, "", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bm.allocate(3, t, "", 7).status().code(), StatusCode::kInvalidArgument);  // > tokens
  EXPECT_EQ(bm.append_slots(9, 1, &copies).code(), StatusCode::kNotFound);
  EXPECT_TRUE(bm.free(1));
  EXPECT_FALSE(bm.free(1));
  EXPECT_EQ(bm.pool().num_used(), 0);
}

TEST(BlockManager, OutOfBlocksFailsCleanly) {
  BlockManager bm = make(3, false);
  const auto t = iota_tokens(20);
  ASSERT_TRUE(bm.allocate(1, t, "", 8).ok());  // 2 blocks
  std::vector<BlockCopy> copies;
  EXPECT_FALSE(bm.can_append_slots(1, 5));      // needs 2 more
  EXPECT_EQ(bm.append_slots(1, 5, &copies).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(bm.num_tokens(1), 8);
  EXPECT_EQ(table_of(bm, 1).size(), 2u);
  EXPECT_TRUE(bm.can_append_slots(1, 4));
  EXPECT_EQ(bm.allocate(2, t, "", 8).status().code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(bm.contains(2));
  EXPECT_TRUE(bm.check_invariants().ok());
  bm.free(1);
  EXPECT_EQ(bm.pool().num_used(), 0);
}

TEST(BlockManager, PrefixHitReusesComputedFullBlocks) {
  BlockManager bm = make(16);
  const auto t = iota_tokens(14);  // blocks: 4 + 4 + 4 + 2
  EXPECT_EQ(run_prompt(bm, 1, t), 0);
  const auto first = table_of(bm, 1);
  // While seq 1 still runs, a second sequence with the same prompt shares its
  // three full blocks and computes only the last 2 tokens.
  EXPECT_EQ(bm.match_prefix(t, "").num_tokens, 12);
  EXPECT_EQ(run_prompt(bm, 2, t), 12);
  const auto second = table_of(bm, 2);
  ASSERT_EQ(second.size(), 4u);
  EXPECT_EQ(std::vector<int32_t>(second.begin(), second.begin() + 3),
            std::vector<int32_t>(first.begin(), first.begin() + 3));
  EXPECT_NE(second[3], first[3]);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bm.pool().ref_count(first[i]), 2);
  // A prompt that diverges inside block 1 shares block 0 only.
  auto diverge = t;
  diverge[5] = 7;
  EXPECT_EQ(run_prompt(bm, 3, diverge), 4);
  const auto s = bm.stats();
  EXPECT_EQ(s.prefix_query_tokens, 3 * 14);
  EXPECT_EQ(s.prefix_hit_tokens, 12 + 4);
  for (SeqId id : {1, 2, 3}) bm.free(id);
  EXPECT_EQ(bm.pool().num_used(), 0);
  // Freed blocks stay reusable: the prompt still hits 12 tokens.
  EXPECT_EQ(bm.match_prefix(t, "").num_tokens, 12);
  EXPECT_TRUE(bm.check_invariants().ok());
}

TEST(BlockManager, AlwaysLeavesTheLastTokenToCompute) {
  BlockManager bm = make(16);
  const auto t = iota_tokens(12);  // exactly 3 full blocks
  run_prompt(bm, 1, t);
  bm.free(1);
  // All 3 blocks are cached, but the last token must run: only 2 blocks hit
  // (a hit is whole blocks), and block 2 is recomputed into a fresh block.
  EXPECT_EQ(bm.match_prefix(t, "").num_tokens, 8);
  EXPECT_EQ(run_prompt(bm, 2, t), 8);
  // One token more: the third block is usable now.
  auto longer = t;
  longer.push_back(1);
  EXPECT_EQ(bm.match_prefix(longer, "").num_tokens, 12);
  // A 1-token prompt and a prompt ending on the first block never hit.
  EXPECT_EQ(bm.match_prefix(std::vector<int32_t>{100}, "").num_tokens, 0);
  EXPECT_EQ(bm.match_prefix(iota_tokens(4), "").num_tokens, 0);
  EXPECT_EQ(bm.match_prefix(iota_tokens(5), "").num_tokens, 4);
  bm.free(2);
  EXPECT_EQ(bm.pool().num_used(), 0);
}

TEST(BlockManager, OnlyComputedFullBlocksAreCached) {
  BlockManager bm = make(16);
  const auto t = iota_tokens(13);
  ASSERT_EQ(*bm.allocate(1, t, "", 6), 0);
  ASSERT_TRUE(bm.mark_computed(1, t, 6).ok());  // block 0 full, block 1 half
  EXPECT_EQ(bm.match_prefix(t, "").num_tokens, 4);
  std::vector<BlockCopy> copies;
  ASSERT_TRUE(bm.append_slots(1, 7, &copies).ok());
  // Slots held but not computed are not cached.
  EXPECT_EQ(bm.match_prefix(t, "").num_tokens, 4);
  ASSERT_TRUE(bm.mark_computed(1, t, 13).ok());
  EXPECT_EQ(bm.match_prefix(t, "").num_tokens, 12);
  EXPECT_EQ(bm.mark_computed(1, t, 14).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bm.mark_computed(1, std::span<const int32_t>(t).first(5), 6).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(bm.mark_computed(5, t, 1).code(), StatusCode::kNotFound);
  bm.free(1);
}

TEST(BlockManager, ChainMeansSameBlockAfterOtherPrefixMisses) {
  BlockManager bm = make(16);
  auto a = iota_tokens(9);
  run_prompt(bm, 1, a);
  bm.free(1);
  // b has a's block 1 at position 0: different prefix, no hit.
  std::vector<int32_t> b(a.begin() + 4, a.end());
  b.push_back(5);
  EXPECT_EQ(bm.match_prefix(b, "").num_tokens, 0);
}

TEST(BlockManager, SaltsSeparateCaches) {
  BlockManager bm = make(16);
  const auto t = iota_tokens(9);
  run_prompt(bm, 1, t, "alice");
  bm.free(1);
  EXPECT_EQ(bm.match_prefix(t, "alice").num_tokens, 8);
  EXPECT_EQ(bm.match_prefix(t, "bob").num_tokens, 0);
  EXPECT_EQ(bm.match_prefix(t, "").num_tokens, 0);
  EXPECT_EQ(run_prompt(bm, 2, t, "bob"), 0);
  EXPECT_EQ(run_prompt(bm, 3, t, "alice"), 8);
  bm.free(2);
  bm.free(3);
  EXPECT_EQ(bm.pool().num_used(), 0);
}

TEST(BlockManager, CachingOffNeverHits) {
  BlockManager bm = make(16, false);
  const auto t = iota_tokens(9);
  run_prompt(bm, 1, t);
  bm.free(1);
  EXPECT_EQ(bm.match_prefix(t, "").num_tokens, 0);
  EXPECT_EQ(run_prompt(bm, 2, t), 0);
  EXPECT_EQ(bm.stats().pool.num_cached, 0);
  EXPECT_EQ(bm.stats().prefix_query_tokens, 0);
  bm.free(2);
}

TEST(BlockManager, EvictsLeastRecentlyFreedTailFirst) {
  BlockManager bm = make(6);
  const auto a = iota_tokens(13, 100);  // 3 full blocks cached + 1 partial
  const auto b = iota_tokens(9, 500);   // 2 full blocks cached + 1 partial
  run_prompt(bm, 1, a);
  bm.free(1);  // a's blocks become evictable (their tail first in line)
  // b needs 3 blocks: a's uncached partial block and 2 never-used ones; no
  // eviction yet.
  run_prompt(bm, 2, b);
  EXPECT_EQ(bm.stats().pool.num_evictions, 0);
  bm.free(2);
  EXPECT_EQ(bm.match_prefix(a, "").num_tokens, 12);
  EXPECT_EQ(bm.match_prefix(b, "").num_tokens, 8);
  // A new 9-token prompt needs 3 blocks; the free list holds b's uncached
  // partial block only, so 2 cached blocks are evicted: the least recently
  // freed are a's, tail first (a's block 2, then block 1).
  const auto c = iota_tokens(9, 900);
  run_prompt(bm, 3, c);
  EXPECT_EQ(bm.stats().pool.num_evictions, 2);
  EXPECT_EQ(bm.match_prefix(a, "").num_tokens, 4);
  EXPECT_EQ(bm.match_prefix(b, "").num_tokens, 8);
  bm.free(3);
  EXPECT_EQ(bm.pool().num_used(), 0);
  EXPECT_TRUE(bm.check_invariants().ok());
}

TEST(BlockManager, HitsOnEvictableBlocksCountAgainstFreeBlocks) {
  BlockManager bm = make(4);
  const auto a = iota_tokens(13);  // 4 blocks; 3 full get cached
  run_prompt(bm, 1, a);
  bm.free(1);
  // All 4 blocks have ref 0. A sequence over `a` with 1 new token reuses 3
  // and takes 1: it fits exactly...
  PrefixMatch m = bm.match_prefix(a, "");
  EXPECT_EQ(m.num_tokens, 12);
  EXPECT_TRUE(bm.can_allocate(m, 1));
  ASSERT_TRUE(bm.allocate(2, a, "", 1).ok());
  EXPECT_EQ(bm.num_free_blocks(), 0);
  // ...and a second one finds the same 3 blocks but needs 1 fresh block.
  m = bm.match_prefix(a, "");
  EXPECT_FALSE(bm.can_allocate(m, 1));
  EXPECT_TRUE(bm.can_allocate(m, 0));
  bm.free(2);
  EXPECT_EQ(bm.pool().num_used(), 0);
}

TEST(BlockManager, TwoSequencesComputingTheSameBlockCacheOne) {
  BlockManager bm = make(8);
  const auto t = iota_tokens(9);
  ASSERT_EQ(*bm.allocate(1, t, "", 9), 0);
  ASSERT_EQ(*bm.allocate(2, t, "", 9), 0);  // nothing cached yet
  ASSERT_TRUE(bm.mark_computed(1, t, 9).ok());
  ASSERT_TRUE(bm.mark_computed(2, t, 9).ok());
  EXPECT_EQ(bm.stats().pool.num_cached, 2);
  ASSERT_TRUE(bm.check_invariants().ok());
  bm.free(1);
  bm.free(2);
  EXPECT_EQ(bm.pool().num_used(), 0);
  EXPECT_EQ(bm.match_prefix(t, "").num_tokens, 8);
  ASSERT_TRUE(bm.check_invariants().ok());
}

TEST(BlockManager, ForkSharesBlocksAndCopiesASharedPartialBlockOnWrite) {
  BlockManager bm = make(8);
  const auto t = iota_tokens(6);  // block 0 full, block 1 holds 2 tokens
  run_prompt(bm, 1, t);
  ASSERT_TRUE(bm.fork(1, 2).ok());
  EXPECT_EQ(table_of(bm, 2), table_of(bm, 1));
  EXPECT_EQ(bm.num_tokens(2), 6);
  const auto shared = table_of(bm, 1);
  EXPECT_EQ(bm.pool().ref_count(shared[0]), 2);
  EXPECT_EQ(bm.pool().ref_count(shared[1]), 2);
  EXPECT_EQ(bm.fork(1, 2).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bm.fork(7, 8).code(), StatusCode::kNotFound);
  ASSERT_TRUE(bm.check_invariants().ok());

  // The parent writes position 6 into the shared partial block: it gets a
  // private copy of it first.
  EXPECT_EQ(bm.blocks_needed(1, 1), 1);
  std::vector<BlockCopy> copies;
  EXPECT_EQ(bm.append_slots(1, 1, nullptr).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(bm.append_slots(1, 1, &copies).ok());
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].src, shared[1]);
  const int32_t fresh = copies[0].dst;
  EXPECT_EQ(table_of(bm, 1), (std::vector<int32_t>{shared[0], fresh}));
  EXPECT_EQ(bm.pool().ref_count(shared[1]), 1);
  // The child is now the only holder: it writes in place.
  copies.clear();
  EXPECT_EQ(bm.blocks_needed(2, 1), 0);
  ASSERT_TRUE(bm.append_slots(2, 1, &copies).ok());
  EXPECT_TRUE(copies.empty());
  EXPECT_EQ(table_of(bm, 2), shared);
  EXPECT_EQ(bm.stats().num_copies, 1);
  ASSERT_TRUE(bm.check_invariants().ok());
  bm.free(1);
  bm.free(2);
  EXPECT_EQ(bm.pool().num_used(), 0);
}

TEST(BlockManager, ForkOnABlockBoundaryNeedsNoCopy) {
  BlockManager bm = make(8);
  const auto t = iota_tokens(8);
  run_prompt(bm, 1, t);
  ASSERT_TRUE(bm.fork(1, 2).ok());
  ASSERT_TRUE(bm.fork(2, 3).ok());
  std::vector<BlockCopy> copies;
  for (SeqId s : {1, 2, 3}) ASSERT_TRUE(bm.append_slots(s, 1, &copies).ok());
  EXPECT_TRUE(copies.empty());
  EXPECT_EQ(bm.pool().ref_count(table_of(bm, 1)[1]), 3);
  EXPECT_EQ(bm.pool().num_used(), 2 + 3);
  ASSERT_TRUE(bm.check_invariants().ok());
  for (SeqId s : {1, 2, 3}) bm.free(s);
  EXPECT_EQ(bm.pool().num_used(), 0);
}

TEST(BlockManager, CopyOnWriteNeedsAFreeBlock) {
  BlockManager bm = make(2);
  const auto t = iota_tokens(6);
  run_prompt(bm, 1, t);  // both blocks
  ASSERT_TRUE(bm.fork(1, 2).ok());
  std::vector<BlockCopy> copies;
  EXPECT_EQ(bm.append_slots(1, 1, &copies).code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(copies.empty());
  bm.free(2);
  ASSERT_TRUE(bm.append_slots(1, 1, &copies).ok());  // sole holder again
  EXPECT_TRUE(copies.empty());
  bm.free(1);
  EXPECT_EQ(bm.pool().num_used(), 0);
}

}  // namespace
}  // namespace ember::kv
