// AVX2 + FMA + F16C paged attention and SwiGLU, called from the generic
// entry points (attention.cpp, elementwise.cpp) once the CPU is known to run
// them. Plain declarations: this header is included by baseline-ISA code.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/ops.h"

namespace ember::kernels {

// Query rows [row0, row0 + rows) of one sequence against one KV head: the
// unit of attention work a thread takes.
struct AttentionTile {
  const AttentionSeq* seq;
  int64_t row0, rows;
  int64_t kvh;
};

}  // namespace ember::kernels

namespace ember::kernels::avx2 {

// Whether AttentionTiles handles this layout (head_dim a multiple of 8).
bool attention_supported(const AttentionParams& p);

// One thread's attention work: tiles of query rows of one sequence for one
// KV head, with the scratch they need. Each K and V vector is read from the
// cache into a register once per query row and used by every query head of
// the KV head's group. Every (row, head) vector is computed alone, in an
// order that depends only on its position and the keys' positions: the same
// numbers whichever batch, prefill chunk or tile it is in.
class AttentionTiles {
 public:
  using Tile = AttentionTile;
  AttentionTiles(const AttentionParams& p, int64_t max_rows);
  // Runs tile t; with next (the tile this thread runs after it), its last
  // chunk prefetches next's first chunk, which would otherwise start cold.
  void run(const Tile& t, const Tile* next = nullptr);

 private:
  const AttentionParams& p_;
  std::vector<float> q_, acc_, m_, l_, s_;
  std::vector<const void*> rows_k_, rows_v_;  // the cache rows of the current and the next chunk
};

// out[i] = silu(gate[i]) * up[i]; out may alias gate.
void silu_mul(const float* gate, const float* up, int64_t n, float* out);

}  // namespace ember::kernels::avx2
