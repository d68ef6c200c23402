// The per-step input of the forward pass: one ragged batch holding prefill
// chunks and decode tokens of many sequences, plus where their K/V live.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/ops.h"
#include "tensor/dtype.h"

namespace ember::model {

// One sequence's part of the batch. Its rows are q_begin .. q_begin+q_len-1;
// after this step its cache holds context_len tokens (the new ones included),
// in the blocks listed by block_table.
using BatchSequence = kernels::AttentionSeq;

struct ForwardBatch {
  std::vector<int32_t> tokens;      // [n_tokens]
  std::vector<int32_t> positions;   // [n_tokens]
  std::vector<int64_t> slots;       // [n_tokens] KV slot each token's K/V is written to
  std::vector<BatchSequence> seqs;  // rows of each sequence, in order
  std::vector<int64_t> logit_rows;  // rows whose logits the caller wants, in order

  int64_t size() const { return static_cast<int64_t>(tokens.size()); }
};

// The KV cache as the forward pass sees it: per layer, a K and a V tensor of
// num_slots x kv_dim values in `dtype`, slot = block * block_size + offset,
// laid out as kernels::kv_cache_offset says.
struct KvCacheView {
  DType dtype = DType::kF16;
  int64_t block_size = 16;
  int64_t num_slots = 0;
  std::vector<void*> k;  // [n_layers]
  std::vector<void*> v;  // [n_layers]
};

}  // namespace ember::model
