// Prefix cache: which KV block holds the K/V of a given full block of tokens,
// identified by a chained hash of everything before it.
//
// A full block's identity is the chain (salt, tokens of block 0, ..., tokens of
// block k). Its hash is `next(hash of block k-1, tokens of block k)`, with the
// chain starting at `root(salt)`. Two independent keyed 64-bit hashes are kept:
// `key` indexes the map, `check` must match too, so a false hit needs both to
// collide (about 2^-128). The keys are random per hasher unless a seed is
// given, so prompts cannot be crafted to collide.
//
// Integers only: no tensors, no ownership of blocks (BlockPool owns those).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>

namespace ember::kv {

struct BlockHash {
  uint64_t key = 0;    // map key
  uint64_t check = 0;  // independent hash, verified on lookup

  bool operator==(const BlockHash&) const = default;
};

class BlockHasher {
 public:
  // seed 0 draws random keys; any other seed gives reproducible hashes.
  explicit BlockHasher(uint64_t seed = 0);

  // Start of a chain; an empty salt means no salt.
  BlockHash root(std::string_view salt) const;
  // Hash of a full block whose predecessor's hash is `parent`.
  BlockHash next(const BlockHash& parent, std::span<const int32_t> tokens) const;

 private:
  static constexpr int kSecrets = 6;
  uint64_t key_secret_[kSecrets];
  uint64_t check_secret_[kSecrets];
};

// hash -> block id for the blocks whose content is reusable. Holds at most one
// block per hash (a second block computed with the same content stays
// uncached and is freed normally).
class PrefixCache {
 public:
  // The block caching `hash`, if any (both halves must match).
  std::optional<int32_t> find(const BlockHash& hash) const;
  // Caches `block` under `hash`; false (and no change) if the key is taken.
  bool insert(const BlockHash& hash, int32_t block);
  // Removes `hash` if it maps to `block`.
  void erase(const BlockHash& hash, int32_t block);
  void clear() { map_.clear(); }
  int64_t size() const { return static_cast<int64_t>(map_.size()); }

 private:
  struct Entry {
    uint64_t check;
    int32_t block;
  };
  std::unordered_map<uint64_t, Entry> map_;
};

}  // namespace ember::kv
