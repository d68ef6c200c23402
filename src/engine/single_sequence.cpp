#include "engine/single_sequence.h"

#include <numeric>

namespace ember::engine {

Result<SingleSequence> SingleSequence::create(model::Model& model, int64_t capacity, DType kv_dtype) {
  if (capacity <= 0) return invalid_argument("sequence capacity must be positive");
  constexpr int64_t kBlock = 16;
  const int64_t blocks = (capacity + kBlock - 1) / kBlock;
  SingleSequence s;
  s.model_ = &model;
  EMBER_ASSIGN_OR_RETURN(s.kv_, kv::KvCache::create(model.config(), kv_dtype, blocks, kBlock));
  s.block_table_.resize(blocks);
  std::iota(s.block_table_.begin(), s.block_table_.end(), 0);
  s.capacity_ = capacity;
  return s;
}

Status SingleSequence::append(std::span<const int32_t> tokens, bool all_logits,
                              std::vector<float>& logits, ThreadPool& pool) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return invalid_argument("no tokens to run");
  if (length_ + n > capacity_)
    return out_of_range("sequence of " + std::to_string(length_ + n) + " tokens exceeds the context of " +
                        std::to_string(capacity_));
  model::ForwardBatch& b = batch_;
  b.tokens.assign(tokens.begin(), tokens.end());
  b.positions.resize(n);
  b.slots.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    b.positions[i] = static_cast<int32_t>(length_ + i);
    b.slots[i] = length_ + i;  // blocks are laid out in order
  }
  b.seqs.assign(1, model::BatchSequence{0, n, length_ + n, block_table_.data()});
  b.logit_rows.clear();
  if (all_logits) {
    for (int64_t i = 0; i < n; ++i) b.logit_rows.push_back(i);
  } else {
    b.logit_rows.push_back(n - 1);
  }
  logits.resize(b.logit_rows.size() * model_->config().vocab);
  EMBER_RETURN_IF_ERROR(model_->forward(b, kv_.view(), logits.data(), pool));
  length_ += n;
  return ok_status();
}

}  // namespace ember::engine
