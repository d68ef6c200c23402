#include "tokenizer/hash_maps.h"

namespace ember::tokenizer {
namespace {

size_t capacity_for(size_t n) {
  size_t cap = 16;
  while (cap < n + n / 2 + 1) cap <<= 1;  // load factor <= 2/3
  return cap;
}

}  // namespace

void StringIdMap::reserve(size_t n) {
  entries_.reserve(n);
  if (capacity_for(n) > slots_.size()) {
    slots_.assign(capacity_for(n), 0);
    mask_ = slots_.size() - 1;
    for (size_t e = 0; e < entries_.size(); ++e) {
      size_t i = entries_[e].hash & mask_;
      while (slots_[i]) i = (i + 1) & mask_;
      slots_[i] = static_cast<uint32_t>(e + 1);
    }
  }
}

size_t StringIdMap::probe(std::string_view key, uint64_t hash) const {
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const uint32_t s = slots_[i];
    if (!s) return i;
    const Entry& e = entries_[s - 1];
    if (e.hash == hash && e.length == key.size() &&
        std::memcmp(arena_.data() + e.offset, key.data(), key.size()) == 0)
      return i;
  }
}

void StringIdMap::grow() { reserve(entries_.size() * 2 + 16); }

void StringIdMap::assign(std::string_view key, int32_t id) {
  if (slots_.empty() || (entries_.size() + 1) * 3 > slots_.size() * 2) grow();
  const uint64_t h = hash_bytes(key);
  const size_t i = probe(key, h);
  if (slots_[i]) {
    entries_[slots_[i] - 1].id = id;
    return;
  }
  entries_.push_back({h, static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(key.size()), id});
  arena_.append(key);
  slots_[i] = static_cast<uint32_t>(entries_.size());
}

int32_t StringIdMap::find(std::string_view key) const {
  if (slots_.empty()) return -1;
  const uint32_t s = slots_[probe(key, hash_bytes(key))];
  return s ? entries_[s - 1].id : -1;
}

void PairMap::rehash(size_t capacity) {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    size_t i = mix(s.key) & mask_;
    while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

void PairMap::reserve(size_t n) {
  if (capacity_for(n) > slots_.size()) rehash(capacity_for(n));
}

void PairMap::assign(int32_t left, int32_t right, MergeInfo info) {
  if (slots_.empty() || (size_ + 1) * 3 > slots_.size() * 2) rehash(capacity_for(size_ * 2 + 16));
  const uint64_t key = pack(left, right);
  size_t i = mix(key) & mask_;
  while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask_;
  if (slots_[i].key == kEmpty) ++size_;
  slots_[i].key = key;
  slots_[i].info = info;
}

}  // namespace ember::tokenizer
