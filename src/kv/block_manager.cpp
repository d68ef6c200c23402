#include "kv/block_manager.h"

#include <algorithm>
#include <string>

namespace ember::kv {

namespace {
std::string seq_name(SeqId seq) { return "sequence " + std::to_string(seq); }
}  // namespace

Status BlockManagerOptions::validate() const {
  if (num_blocks < 1) {
    return invalid_argument("KV cache: num_blocks must be at least 1, got " +
                            std::to_string(num_blocks));
  }
  if (block_size < 1 || block_size > 4096) {
    return invalid_argument("KV cache: block_size must be in [1, 4096], got " +
                            std::to_string(block_size));
  }
  if (num_blocks > (int64_t{1} << 31) / block_size) {
    return invalid_argument("KV cache: num_blocks * block_size must stay below 2^31 slots, got " +
                            std::to_string(num_blocks) + " * " + std::to_string(block_size));
  }
  return ok_status();
}

Result<BlockManager> BlockManager::create(const BlockManagerOptions& options) {
  EMBER_RETURN_IF_ERROR(options.validate());
  EMBER_ASSIGN_OR_RETURN(BlockPool pool, BlockPool::create(options.num_blocks));
  return BlockManager(std::move(pool), options.block_size, options.enable_prefix_caching,
                      options.hash_seed);
}

PrefixMatch BlockManager::match_from(std::span<const int32_t> tokens,
                                     const BlockHash& root) const {
  PrefixMatch m;
  if (!prefix_caching_ || tokens.empty()) return m;
  // At least the last token is left to compute, so that it yields logits.
  const int64_t max_blocks = (static_cast<int64_t>(tokens.size()) - 1) / block_size_;
  BlockHash h = root;
  for (int64_t k = 0; k < max_blocks; ++k) {
    h = hasher_.next(h, tokens.subspan(static_cast<size_t>(k * block_size_),
                                       static_cast<size_t>(block_size_)));
    const auto block = pool_.find_cached(h);
    if (!block) break;
    m.blocks.push_back(*block);
    m.hashes.push_back(h);
  }
  m.num_tokens = static_cast<int64_t>(m.blocks.size()) * block_size_;
  return m;
}

PrefixMatch BlockManager::match_prefix(std::span<const int32_t> tokens,
                                       std::string_view salt) const {
  if (!prefix_caching_) return {};
  return match_from(tokens, hasher_.root(salt));
}

bool BlockManager::can_allocate(const PrefixMatch& match, int64_t num_new_tokens) const {
  if (num_new_tokens < 0) return false;
  const int64_t fresh =
      blocks_for_tokens(match.num_tokens + num_new_tokens) - static_cast<int64_t>(match.blocks.size());
  // Hits on evictable blocks take them off the free count too.
  int64_t revived = 0;
  for (const int32_t b : match.blocks) revived += pool_.ref_count(b) == 0 ? 1 : 0;
  return std::max<int64_t>(fresh, 0) + revived <= pool_.num_free();
}

Result<int64_t> BlockManager::allocate(SeqId seq, std::span<const int32_t> tokens,
                                       std::string_view salt, int64_t num_new_tokens) {
  if (contains(seq)) return invalid_argument(seq_name(seq) + " already holds KV blocks");
  if (tokens.empty()) return invalid_argument(seq_name(seq) + ": no tokens");
  const BlockHash root = prefix_caching_ ? hasher_.root(salt) : BlockHash{};
  PrefixMatch m = match_from(tokens, root);
  if (num_new_tokens < 0 ||
      m.num_tokens + num_new_tokens > static_cast<int64_t>(tokens.size())) {
    return invalid_argument(seq_name(seq) + ": " + std::to_string(num_new_tokens) +
                            " new tokens after a prefix hit of " + std::to_string(m.num_tokens) +
                            " exceed its " + std::to_string(tokens.size()) + " tokens");
  }
  if (!can_allocate(m, num_new_tokens)) {
    return resource_exhausted(seq_name(seq) + ": not enough free KV blocks");
  }
  // Take the hits first so that allocate() cannot evict them.
  for (const int32_t b : m.blocks) pool_.acquire(b);
  SeqBlocks s;
  s.root = root;
  s.table = std::move(m.blocks);
  s.hashes = std::move(m.hashes);
  s.num_tokens = m.num_tokens + num_new_tokens;
  const int64_t fresh = blocks_for_tokens(s.num_tokens) - static_cast<int64_t>(s.table.size());
  const bool got = pool_.allocate(fresh, s.table);
  (void)got;  // guaranteed by can_allocate
  if (prefix_caching_) {
    prefix_query_tokens_ += static_cast<int64_t>(tokens.size());
    prefix_hit_tokens_ += m.num_tokens;
  }
  seqs_.emplace(seq, std::move(s));
  return m.num_tokens;
}

bool BlockManager::needs_copy(const SeqBlocks& s, int64_t n) const {
  return n > 0 && s.num_tokens % block_size_ != 0 && pool_.ref_count(s.table.back()) > 1;
}

int64_t BlockManager::blocks_needed(SeqId seq, int64_t n) const {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end() || n < 0) return 0;
  const SeqBlocks& s = it->second;
  return blocks_for_tokens(s.num_tokens + n) - static_cast<int64_t>(s.table.size()) +
         (needs_copy(s, n) ? 1 : 0);
}

Status BlockManager::append_slots(SeqId seq, int64_t n, std::vector<BlockCopy>* copies) {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end()) return not_found(seq_name(seq) + " holds no KV blocks");
  if (n < 0) return invalid_argument(seq_name(seq) + ": negative slot count");
  SeqBlocks& s = it->second;
  const bool copy = needs_copy(s, n);
  if (copy && copies == nullptr) {
    return invalid_argument(seq_name(seq) + ": its last block is shared; a copy list is needed");
  }
  const int64_t grow = blocks_for_tokens(s.num_tokens + n) - static_cast<int64_t>(s.table.size());
  if (grow + (copy ? 1 : 0) > pool_.num_free()) {
    return resource_exhausted(seq_name(seq) + ": not enough free KV blocks for " +
                              std::to_string(n) + " more tokens");
  }
  if (copy) {
    std::vector<int32_t> fresh;
    pool_.allocate(1, fresh);
    const int32_t shared = s.table.back();
    copies->push_back({shared, fresh[0]});
    s.table.back() = fresh[0];
    pool_.release(shared);  // still held by the other sequences
    ++num_copies_;
  }
  pool_.allocate(grow, s.table);
  s.num_tokens += n;
  return ok_status();
}

Status BlockManager::mark_computed(SeqId seq, std::span<const int32_t> tokens,
                                   int64_t num_computed) {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end()) return not_found(seq_name(seq) + " holds no KV blocks");
  SeqBlocks& s = it->second;
  if (num_computed < 0 || num_computed > s.num_tokens ||
      num_computed > static_cast<int64_t>(tokens.size())) {
    return invalid_argument(seq_name(seq) + ": " + std::to_string(num_computed) +
                            " computed tokens, but it holds " + std::to_string(s.num_tokens) +
                            " slots and " + std::to_string(tokens.size()) + " token ids");
  }
  if (!prefix_caching_) return ok_status();
  const int64_t full = num_computed / block_size_;
  for (int64_t k = static_cast<int64_t>(s.hashes.size()); k < full; ++k) {
    const BlockHash parent = k == 0 ? s.root : s.hashes[k - 1];
    const BlockHash h = hasher_.next(parent, tokens.subspan(static_cast<size_t>(k * block_size_),
                                                            static_cast<size_t>(block_size_)));
    s.hashes.push_back(h);
    const int32_t b = s.table[k];
    // A block already cached is shared (prefix hit or fork) with this very
    // content. Otherwise cache it, unless another block holds the same
    // content already (then this one stays private and is simply freed).
    if (!pool_.is_cached(b)) pool_.cache(b, h);
  }
  return ok_status();
}

bool BlockManager::free(SeqId seq) {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end()) return false;
  const std::vector<int32_t>& table = it->second.table;
  for (auto b = table.rbegin(); b != table.rend(); ++b) pool_.release(*b);
  seqs_.erase(it);
  return true;
}

Status BlockManager::fork(SeqId parent, SeqId child) {
  const auto it = seqs_.find(parent);
  if (it == seqs_.end()) return not_found(seq_name(parent) + " holds no KV blocks");
  if (contains(child)) return invalid_argument(seq_name(child) + " already holds KV blocks");
  SeqBlocks copy = it->second;
  for (const int32_t b : copy.table) pool_.acquire(b);
  seqs_.emplace(child, std::move(copy));
  return ok_status();
}

int64_t BlockManager::num_tokens(SeqId seq) const {
  const auto it = seqs_.find(seq);
  return it == seqs_.end() ? 0 : it->second.num_tokens;
}

std::span<const int32_t> BlockManager::block_table(SeqId seq) const {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end()) return {};
  return it->second.table;
}

int64_t BlockManager::slot_of(SeqId seq, int64_t position) const {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end() || position < 0 || position >= it->second.num_tokens) return -1;
  return static_cast<int64_t>(it->second.table[position / block_size_]) * block_size_ +
         position % block_size_;
}

BlockManagerStats BlockManager::stats() const {
  BlockManagerStats s;
  s.pool = pool_.stats();
  s.num_seqs = static_cast<int64_t>(seqs_.size());
  s.prefix_query_tokens = prefix_query_tokens_;
  s.prefix_hit_tokens = prefix_hit_tokens_;
  s.num_copies = num_copies_;
  return s;
}

Status BlockManager::check_invariants() const {
  EMBER_RETURN_IF_ERROR(pool_.check_invariants());
  std::vector<int32_t> refs(static_cast<size_t>(pool_.num_blocks()), 0);
  for (const auto& [id, s] : seqs_) {
    const std::string name = seq_name(id);
    if (static_cast<int64_t>(s.table.size()) != blocks_for_tokens(s.num_tokens)) {
      return internal_error(name + " holds " + std::to_string(s.table.size()) + " blocks for " +
                            std::to_string(s.num_tokens) + " tokens");
    }
    if (static_cast<int64_t>(s.hashes.size()) * block_size_ > s.num_tokens) {
      return internal_error(name + " has hashes for more blocks than it fills");
    }
    for (size_t k = 0; k < s.table.size(); ++k) {
      const int32_t b = s.table[k];
      if (b < 0 || b >= pool_.num_blocks()) return internal_error(name + " names an invalid block");
      ++refs[b];
      // A block this sequence hashed, if cached, is cached under that hash.
      const BlockHash* h = pool_.hash_of(b);
      if (h != nullptr && k < s.hashes.size() && !(*h == s.hashes[k])) {
        return internal_error(name + ": block " + std::to_string(b) +
                              " is cached under another content");
      }
    }
  }
  for (int64_t b = 0; b < pool_.num_blocks(); ++b) {
    if (refs[b] != pool_.ref_count(static_cast<int32_t>(b))) {
      return internal_error("block " + std::to_string(b) + " has ref " +
                            std::to_string(pool_.ref_count(static_cast<int32_t>(b))) + " but " +
                            std::to_string(refs[b]) + " table entries");
    }
  }
  return ok_status();
}

}  // namespace ember::kv
