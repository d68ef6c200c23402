// Per-sequence block tables over the BlockPool: which KV blocks hold each
// sequence's tokens, prefix-cache reuse for new sequences, copy-on-write for
// forked ones. Integers only.
//
// Invariants (check_invariants() verifies them):
//  - a sequence holding num_tokens slots has exactly ceil(num_tokens /
//    block_size) blocks; token at position p lives in slot
//    table[p / block_size] * block_size + p % block_size;
//  - a block's ref count equals the number of table entries naming it;
//  - only full blocks whose tokens are all computed are cached; a sequence
//    only writes into blocks no other sequence holds (shared full blocks are
//    never written again; a shared partial last block is copied before the
//    first write, see append_slots);
//  - a prefix hit is a whole number of blocks and leaves at least the last
//    token to compute, so the model always produces logits for it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "kv/block_pool.h"
#include "kv/prefix_cache.h"

namespace ember::kv {

using SeqId = int64_t;

// Copy block src's K/V into block dst (all layers) before running the step.
struct BlockCopy {
  int32_t src = 0;
  int32_t dst = 0;
  bool operator==(const BlockCopy&) const = default;
};

struct BlockManagerOptions {
  int64_t num_blocks = 0;
  int64_t block_size = 16;
  bool enable_prefix_caching = true;
  uint64_t hash_seed = 0;  // 0: random hash keys (see BlockHasher)

  Status validate() const;
};

// The longest cached prefix of a token sequence.
struct PrefixMatch {
  int64_t num_tokens = 0;          // blocks.size() * block_size
  std::vector<int32_t> blocks;     // the cached blocks, in order
  std::vector<BlockHash> hashes;   // their chain hashes
};

struct BlockManagerStats {
  BlockPoolStats pool;
  int64_t num_seqs = 0;
  int64_t prefix_query_tokens = 0;  // prompt tokens of sequences allocated with caching on
  int64_t prefix_hit_tokens = 0;    // of those, tokens found in the cache
  int64_t num_copies = 0;           // copy-on-write block copies requested
};

class BlockManager {
 public:
  static Result<BlockManager> create(const BlockManagerOptions& options);

  int64_t block_size() const { return block_size_; }
  int64_t num_blocks() const { return pool_.num_blocks(); }
  int64_t num_free_blocks() const { return pool_.num_free(); }
  bool prefix_caching() const { return prefix_caching_; }
  int64_t blocks_for_tokens(int64_t n) const { return (n + block_size_ - 1) / block_size_; }

  // Longest cached prefix of `tokens` (under `salt`): at most
  // (tokens.size() - 1) / block_size blocks. Changes nothing. Empty when
  // prefix caching is off.
  PrefixMatch match_prefix(std::span<const int32_t> tokens, std::string_view salt) const;
  // Whether a new sequence can hold `match` plus num_new_tokens more tokens.
  bool can_allocate(const PrefixMatch& match, int64_t num_new_tokens) const;
  // Creates `seq` over `tokens`: takes its cached prefix (the blocks of
  // match_prefix(tokens, salt)) and room for num_new_tokens more tokens.
  // Returns the number of tokens already computed (the prefix hit). Fails
  // with kResourceExhausted, changing nothing, when blocks run short.
  Result<int64_t> allocate(SeqId seq, std::span<const int32_t> tokens, std::string_view salt,
                           int64_t num_new_tokens);

  // Blocks append_slots(seq, n) would take from the pool (copy-on-write included).
  int64_t blocks_needed(SeqId seq, int64_t n) const;
  bool can_append_slots(SeqId seq, int64_t n) const {
    return blocks_needed(seq, n) <= pool_.num_free();
  }
  // Makes room for positions [num_tokens(seq), num_tokens(seq) + n). If the
  // partial last block is shared (after fork), it is replaced by a private
  // copy and {old, new} is appended to `copies`. Fails with
  // kResourceExhausted, changing nothing, when blocks run short.
  Status append_slots(SeqId seq, int64_t n, std::vector<BlockCopy>* copies);

  // Registers the sequence's full blocks whose tokens are all computed in
  // the prefix cache. `tokens` are the sequence's token ids (at least
  // num_computed of them); num_computed <= num_tokens(seq).
  Status mark_computed(SeqId seq, std::span<const int32_t> tokens, int64_t num_computed);

  // Releases the sequence's blocks (last block first, so that its tail is
  // evicted before its head). False if unknown.
  bool free(SeqId seq);
  // `child` shares all of `parent`'s blocks (and slots).
  Status fork(SeqId parent, SeqId child);

  bool contains(SeqId seq) const { return seqs_.count(seq) != 0; }
  // Slots held by the sequence (positions 0 .. num_tokens - 1); 0 if unknown.
  int64_t num_tokens(SeqId seq) const;
  // Block ids covering the sequence's slots; empty if unknown. Valid until
  // the next call that changes this sequence.
  std::span<const int32_t> block_table(SeqId seq) const;
  // KV slot of `position` (< num_tokens(seq)); -1 when out of range.
  int64_t slot_of(SeqId seq, int64_t position) const;

  // Drops the hashes of all cached blocks nobody holds.
  int64_t reset_prefix_cache() { return pool_.reset_prefix_cache(); }
  BlockManagerStats stats() const;
  const BlockPool& pool() const { return pool_; }
  Status check_invariants() const;

 private:
  struct SeqBlocks {
    std::vector<int32_t> table;
    std::vector<BlockHash> hashes;  // chain hashes of the leading computed full blocks
    BlockHash root;                 // chain start (salt)
    int64_t num_tokens = 0;         // slots held
  };

  BlockManager(BlockPool pool, int64_t block_size, bool prefix_caching, uint64_t seed)
      : pool_(std::move(pool)), hasher_(seed), block_size_(block_size),
        prefix_caching_(prefix_caching) {}

  PrefixMatch match_from(std::span<const int32_t> tokens, const BlockHash& root) const;
  bool needs_copy(const SeqBlocks& s, int64_t n) const;

  BlockPool pool_;
  BlockHasher hasher_;
  int64_t block_size_;
  bool prefix_caching_;
  std::unordered_map<SeqId, SeqBlocks> seqs_;
  int64_t prefix_query_tokens_ = 0;
  int64_t prefix_hit_tokens_ = 0;
  int64_t num_copies_ = 0;
};

}  // namespace ember::kv
