// One sequence run straight through the model with its own contiguous KV
// blocks: what `ember eval`, `ember bench` and the generation loop of
// `ember run` use until the batched scheduler drives everything.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "kv/kv_cache.h"
#include "model/model.h"

namespace ember::engine {

class SingleSequence {
 public:
  // Room for `capacity` tokens, KV in `kv_dtype`.
  static Result<SingleSequence> create(model::Model& model, int64_t capacity, DType kv_dtype);

  void reset() { length_ = 0; }
  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }

  // Appends `tokens` in one forward pass. Writes the logits of every new
  // token ([tokens, vocab]) when all_logits, else of the last one ([vocab]).
  Status append(std::span<const int32_t> tokens, bool all_logits, std::vector<float>& logits,
                ThreadPool& pool);

 private:
  model::Model* model_ = nullptr;
  kv::KvCache kv_;
  std::vector<int32_t> block_table_;
  int64_t capacity_ = 0;
  int64_t length_ = 0;
  model::ForwardBatch batch_;
};

}  // namespace ember::engine
