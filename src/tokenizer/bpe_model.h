// Byte-level BPE over token ids: a word's bytes start as one symbol each (the
// id of the byte's character), then the adjacent pair with the lowest merge
// rank is merged, leftmost first, until no pair has a merge — the order
// Hugging Face's BPE model applies (rank, then position). Words are memoized
// in a BpeCache.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/bpe_cache.h"
#include "tokenizer/hash_maps.h"

namespace ember::tokenizer {

struct BpeOptions {
  int32_t unk_id = -1;         // for bytes whose character is not in the vocabulary; -1: dropped
  bool fuse_unk = false;       // consecutive unknowns become one unk
  bool ignore_merges = false;  // a word that is itself a token is emitted as it is
};

class BpeModel {
 public:
  BpeModel() = default;
  // byte_ids[b]: the id of byte b's character (-1 if absent). raw_vocab maps
  // a token's raw bytes to its id (used only with ignore_merges).
  BpeModel(const std::array<int32_t, 256>& byte_ids, PairMap merges, StringIdMap raw_vocab,
           BpeOptions options);

  // Appends the ids of one pre-tokenized word (raw bytes) to out.
  void encode_word(std::string_view word, std::vector<int32_t>* out) const;
  // The same, without the cache (tests and benchmarks).
  void encode_word_uncached(std::string_view word, std::vector<int32_t>* out) const;

  const PairMap& merges() const { return merges_; }
  void clear_cache() const { cache_.clear(); }

 private:
  // Initial symbols of word (applying unk / fuse_unk) into syms.
  void initial_symbols(std::string_view word, std::vector<int32_t>* syms) const;
  void merge_small(int32_t* ids, size_t n, std::vector<int32_t>* out) const;
  void merge_large(const std::vector<int32_t>& ids, std::vector<int32_t>* out) const;

  std::array<int32_t, 256> byte_ids_{};
  PairMap merges_;
  StringIdMap raw_vocab_;
  BpeOptions options_;
  BpeCache cache_;
};

}  // namespace ember::tokenizer
