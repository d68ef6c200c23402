#include "kv/prefix_cache.h"

#include <cstring>
#include <random>

namespace ember::kv {
namespace {

// Full 64x64 -> 128-bit product folded to 64 bits: the mixing step of the
// chained hash below (multiply-fold hashing).
inline uint64_t fold_mul(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// SplitMix64 step: expands one seed into well-spread key words.
inline uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// A zero key word would leave that input unkeyed; never use one.
inline uint64_t nonzero(uint64_t v) { return v == 0 ? 0x2545f4914f6cdd1dull : v; }

// One word into the running state h: h' = fold(h ^ s0, w ^ s1).
inline uint64_t absorb(uint64_t h, uint64_t w, const uint64_t* s) {
  return fold_mul(h ^ s[0], w ^ s[1]);
}

uint64_t hash_tokens(uint64_t parent, std::span<const int32_t> tokens, const uint64_t* s) {
  uint64_t h = fold_mul(parent ^ s[2], static_cast<uint64_t>(tokens.size()) ^ s[3]);
  size_t i = 0;
  for (; i + 2 <= tokens.size(); i += 2) {
    const uint64_t w = static_cast<uint32_t>(tokens[i]) |
                       (static_cast<uint64_t>(static_cast<uint32_t>(tokens[i + 1])) << 32);
    h = absorb(h, w, s);
  }
  if (i < tokens.size()) h = absorb(h, static_cast<uint32_t>(tokens[i]) ^ (1ull << 40), s);
  return fold_mul(h ^ s[4], s[5]);  // final avalanche
}

uint64_t hash_bytes(std::string_view bytes, const uint64_t* s) {
  uint64_t h = fold_mul(s[4] ^ static_cast<uint64_t>(bytes.size()), s[3]);
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = absorb(h, w, s);
  }
  if (i < bytes.size()) {
    uint64_t w = 0;
    std::memcpy(&w, bytes.data() + i, bytes.size() - i);
    h = absorb(h, w ^ (static_cast<uint64_t>(bytes.size() - i) << 56), s);
  }
  return fold_mul(h ^ s[5], s[2]);
}

}  // namespace

BlockHasher::BlockHasher(uint64_t seed) {
  if (seed == 0) {
    std::random_device rd;
    seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    seed = nonzero(seed);
  }
  uint64_t state = seed;
  for (uint64_t& k : key_secret_) k = nonzero(splitmix(state));
  for (uint64_t& k : check_secret_) k = nonzero(splitmix(state));
}

BlockHash BlockHasher::root(std::string_view salt) const {
  if (salt.empty()) return {key_secret_[0] ^ key_secret_[5], check_secret_[0] ^ check_secret_[5]};
  return {hash_bytes(salt, key_secret_), hash_bytes(salt, check_secret_)};
}

BlockHash BlockHasher::next(const BlockHash& parent, std::span<const int32_t> tokens) const {
  return {hash_tokens(parent.key, tokens, key_secret_),
          hash_tokens(parent.check, tokens, check_secret_)};
}

std::optional<int32_t> PrefixCache::find(const BlockHash& hash) const {
  const auto it = map_.find(hash.key);
  if (it == map_.end() || it->second.check != hash.check) return std::nullopt;
  return it->second.block;
}

bool PrefixCache::insert(const BlockHash& hash, int32_t block) {
  return map_.try_emplace(hash.key, Entry{hash.check, block}).second;
}

void PrefixCache::erase(const BlockHash& hash, int32_t block) {
  const auto it = map_.find(hash.key);
  if (it != map_.end() && it->second.block == block) map_.erase(it);
}

}  // namespace ember::kv
