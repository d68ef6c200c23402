// The op list: every numeric operation of the forward pass, and its one
// dispatch point. Callers (model/) see only these functions; which
// implementation runs (scalar reference, AVX2, AVX-512, CUDA) is decided here
// once at start-up from the CPU's features (see isa.h).
//
// Conventions: activations are f32, row-major; shapes are given as
// `// [rows, cols]`. Weights are [out_features, in_features] rows in any
// supported DType, prepared once by pack_weight().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "tensor/dtype.h"

namespace ember::kernels {

// A weight matrix as the matmul kernel wants it. Either points into the
// mapped file (the bytes used as they are) or owns a repacked copy.
struct PackedWeight {
  DType dtype = DType::kF32;     // dtype of the source rows
  int64_t rows = 0;              // out_features
  int64_t cols = 0;              // in_features
  const void* data = nullptr;    // [rows, row_bytes(dtype, cols)] unless `layout` says otherwise
  int layout = 0;                // 0 = GGUF row layout; other values are private to the kernels
  std::shared_ptr<void> owned;   // keeps a repacked buffer alive
  size_t bytes = 0;              // bytes read per full pass over the weight
};

// Prepares a [rows, cols] weight stored in `dtype` rows at `data` (which must
// outlive the result when not repacked). Fails if cols is not a multiple of
// the block size or the dtype cannot be multiplied.
Result<PackedWeight> pack_weight(DType dtype, const void* data, int64_t rows, int64_t cols);

// y[n, w.rows] = x[n, w.cols] · wᵀ (+ bias[w.rows] when bias != nullptr).
void matmul(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y,
            ThreadPool& pool);

// One of several products of the same input: y[n, w->rows] = x · wᵀ (+ bias).
struct MatmulOutput {
  const PackedWeight* w = nullptr;
  const float* bias = nullptr;  // [w->rows] or nullptr
  float* y = nullptr;
};

// Every outs[i] on the same x[n, cols] (q/k/v, gate/up; all weights with the
// same cols): as matmul on each, with the same results, but where the
// kernels allow the activations are quantized once and all the weights'
// tiles share one pass of the pool.
void matmul_shared_input(std::span<const MatmulOutput> outs, const float* x, int64_t n, ThreadPool& pool);

// out[i, :] = row ids[i] of a [vocab, dim] table in any supported dtype, as f32.
void embedding(DType dtype, const void* table, int64_t dim, const int32_t* ids, int64_t n,
               float* out);

// y[n, dim] = x / rms(x) * weight; y may alias x.
void rms_norm(const float* x, const float* weight, int64_t n, int64_t dim, float eps, float* y);

// In place, NeoX style (rotate halves): x is [n_tokens, n_heads, head_dim] with
// a row stride of `row_stride` floats between tokens; positions[n_tokens].
void rope_neox(float* x, int64_t n_tokens, int64_t row_stride, int64_t n_heads, int64_t head_dim,
               const int32_t* positions, float theta);

// out[i] = silu(gate[i]) * up[i] for i < n; out may alias gate.
void silu_mul(const float* gate, const float* up, int64_t n, float* out);

// x[i] += y[i].
void add_inplace(float* x, const float* y, int64_t n);

// --- KV cache and attention -------------------------------------------------
// A layer's K (or V) cache holds num_slots rows of kv_dim = n_kv_heads *
// head_dim values in kv_dtype (f32, f16, bf16, or Q8_0: each head's values
// in blocks of 32, so head_dim % 32 == 0; an element offset o starts at byte
// row_bytes(kv_dtype, o)), slot = block * block_size +
// offset in block. Each block is [n_kv_heads][block_size][head_dim]: one KV
// head's rows of a block are contiguous, which is how attention reads them.

// Where (slot, KV head)'s head_dim values start, in elements.
inline int64_t kv_cache_offset(int64_t slot, int64_t kv_head, int64_t n_kv_heads, int64_t head_dim, int64_t block_size) {
  return ((slot / block_size * n_kv_heads + kv_head) * block_size + slot % block_size) * head_dim;
}

// Writes k[i] and v[i] ([n_tokens, n_kv_heads * head_dim] rows with the given
// stride in floats) into slots[i] of the caches.
void kv_write(const float* k, const float* v, int64_t row_stride, int64_t n_tokens, int64_t n_kv_heads,
              int64_t head_dim, int64_t block_size, const int64_t* slots, DType kv_dtype, void* k_cache,
              void* v_cache);

struct AttentionSeq {
  int64_t q_begin = 0;          // first row of this sequence in q / out
  int64_t q_len = 0;            // query rows this step
  int64_t context_len = 0;      // tokens in the cache after this step's kv_write
  const int32_t* block_table = nullptr;  // block ids covering context_len tokens
};

struct AttentionParams {
  int64_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
  float scale = 1.0f;           // usually 1/sqrt(head_dim)
  const float* q = nullptr;     // [n_tokens, q_stride], heads at h * head_dim
  int64_t q_stride = 0;
  float* out = nullptr;         // [n_tokens, n_heads * head_dim]
  const void* k_cache = nullptr;
  const void* v_cache = nullptr;
  DType kv_dtype = DType::kF32;
  int64_t block_size = 16;
  const AttentionSeq* seqs = nullptr;
  int64_t n_seqs = 0;
};

// Where position pos of a sequence starts for KV head kv_head in a layer's
// cache, through the sequence's block table.
inline int64_t kv_cache_offset(const AttentionParams& p, const AttentionSeq& seq, int64_t pos, int64_t kv_head) {
  const int64_t slot = static_cast<int64_t>(seq.block_table[pos / p.block_size]) * p.block_size + pos % p.block_size;
  return kv_cache_offset(slot, kv_head, p.n_kv_heads, p.head_dim, p.block_size);
}

// Causal attention: query row i of a sequence sits at position
// context_len - q_len + i and attends to cache positions [0, that position].
// Query heads h use KV head h / (n_heads / n_kv_heads).
void attention(const AttentionParams& p, ThreadPool& pool);

}  // namespace ember::kernels
