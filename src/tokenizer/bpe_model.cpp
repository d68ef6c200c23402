#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <queue>

namespace ember::tokenizer {
namespace {

constexpr size_t kSmallWord = 48;  // symbols; above this the heap-based merge runs

}  // namespace

BpeModel::BpeModel(const std::array<int32_t, 256>& byte_ids, PairMap merges, StringIdMap raw_vocab,
                   BpeOptions options)
    : byte_ids_(byte_ids), merges_(std::move(merges)), raw_vocab_(std::move(raw_vocab)), options_(options) {}

void BpeModel::initial_symbols(std::string_view word, std::vector<int32_t>* syms) const {
  bool last_unk = false;
  for (char ch : word) {
    const int32_t id = byte_ids_[static_cast<uint8_t>(ch)];
    if (id >= 0) {
      syms->push_back(id);
      last_unk = false;
    } else if (options_.unk_id >= 0) {
      if (!(options_.fuse_unk && last_unk)) syms->push_back(options_.unk_id);
      last_unk = true;
    }
  }
}

// Quadratic in n but with n <= kSmallWord and no allocation: the rank of
// each adjacent pair is kept and only the neighbours of a merge are looked up
// again.
void BpeModel::merge_small(int32_t* ids, size_t n, std::vector<int32_t>* out) const {
  MergeInfo pair[kSmallWord];
  for (size_t i = 0; i + 1 < n; ++i) pair[i] = merges_.find(ids[i], ids[i + 1]);
  while (n > 1) {
    size_t best = n;
    int32_t best_rank = INT32_MAX;
    for (size_t i = 0; i + 1 < n; ++i) {
      if (pair[i].rank >= 0 && pair[i].rank < best_rank) {
        best_rank = pair[i].rank;
        best = i;
      }
    }
    if (best == n) break;
    ids[best] = pair[best].merged_id;
    for (size_t i = best + 1; i + 1 < n; ++i) {
      ids[i] = ids[i + 1];
      pair[i] = pair[i + 1];
    }
    --n;
    if (best > 0) pair[best - 1] = merges_.find(ids[best - 1], ids[best]);
    if (best + 1 < n) pair[best] = merges_.find(ids[best], ids[best + 1]);
  }
  out->insert(out->end(), ids, ids + n);
}

// n log n: symbols in a doubly linked list, candidate merges in a min-heap of
// (rank, position); an entry is stale when the pair at its position changed.
void BpeModel::merge_large(const std::vector<int32_t>& start, std::vector<int32_t>* out) const {
  const size_t n = start.size();
  std::vector<int32_t> ids(start);
  std::vector<int32_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  struct Cand {
    int32_t rank, pos, left, right;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto push = [&](int32_t pos) {
    if (pos < 0 || next[pos] < 0) return;
    const int32_t right = ids[next[pos]];
    const MergeInfo m = merges_.find(ids[pos], right);
    if (m.rank >= 0) heap.push({m.rank, pos, ids[pos], right});
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));
  while (!heap.empty()) {
    const Cand c = heap.top();
    heap.pop();
    if (!alive[c.pos] || next[c.pos] < 0 || ids[c.pos] != c.left || ids[next[c.pos]] != c.right) continue;
    const int32_t r = next[c.pos];
    ids[c.pos] = merges_.find(c.left, c.right).merged_id;
    alive[r] = false;
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.pos;
    push(prev[c.pos]);
    push(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = next[i]) out->push_back(ids[i]);
}

void BpeModel::encode_word_uncached(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    if (const int32_t id = raw_vocab_.find(word); id >= 0) {
      out->push_back(id);
      return;
    }
  }
  if (word.size() <= kSmallWord) {
    int32_t ids[kSmallWord];
    size_t n = 0;
    bool last_unk = false;
    for (char ch : word) {
      const int32_t id = byte_ids_[static_cast<uint8_t>(ch)];
      if (id >= 0) {
        ids[n++] = id;
        last_unk = false;
      } else if (options_.unk_id >= 0) {
        if (!(options_.fuse_unk && last_unk)) ids[n++] = options_.unk_id;
        last_unk = true;
      }
    }
    merge_small(ids, n, out);
    return;
  }
  std::vector<int32_t> syms;
  syms.reserve(word.size());
  initial_symbols(word, &syms);
  if (syms.size() <= kSmallWord) {
    merge_small(syms.data(), syms.size(), out);
  } else {
    merge_large(syms, out);
  }
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.size() == 1) {
    const int32_t id = byte_ids_[static_cast<uint8_t>(word[0])];
    if (id >= 0) {
      out->push_back(id);
    } else if (options_.unk_id >= 0) {
      out->push_back(options_.unk_id);
    }
    return;
  }
  if (word.size() > BpeCache::kMaxWordBytes) {
    encode_word_uncached(word, out);
    return;
  }
  const uint64_t h = hash_bytes(word);
  if (cache_.lookup(word, h, out)) return;
  const size_t before = out->size();
  encode_word_uncached(word, out);
  cache_.insert(word, h, out->data() + before, out->size() - before);
}

}  // namespace ember::tokenizer
