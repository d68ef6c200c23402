// The dispatch point of the op list. Ops without per-ISA variants are defined
// in cpu/elementwise.cpp and cpu/attention.cpp; the matmul family is chosen
// here.
#include "kernels/ops.h"

#include <vector>

#include "kernels/cpu/matmul_reference.h"
#include "kernels/cpu/matmul_repacked.h"
#include "kernels/cpu/matmul_simd.h"
#include "kernels/isa.h"
#include "tensor/quant.h"

namespace ember::kernels {

Result<PackedWeight> pack_weight(DType dtype, const void* data, int64_t rows, int64_t cols) {
  const DTypeInfo& info = dtype_info(dtype);
  if (!info.supported || dtype == DType::kQ8_K)
    return unsupported("matmul weights of type " + std::string(info.name));
  if (rows <= 0 || cols <= 0 || cols % info.block_elems != 0)
    return invalid_argument("weight of " + std::to_string(cols) + " columns is not a whole number of " +
                            std::string(info.name) + " blocks (" + std::to_string(info.block_elems) + ")");
  if (rows % 4 == 0 && active_isa() == Isa::kAvx512) {
    if (dtype == DType::kQ8_0) return avx512::pack_q8_0x4(data, rows, cols);
    if (dtype == DType::kQ4_K) return avx512::pack_q4_kx4(data, rows, cols);
  }
  if (active_isa() == Isa::kAvx2 && avx2::supports_x8(dtype, rows, cols)) return avx2::pack_x8(dtype, data, rows, cols);
  PackedWeight w;
  w.dtype = dtype;
  w.rows = rows;
  w.cols = cols;
  w.data = data;
  w.bytes = row_bytes(dtype, cols) * static_cast<size_t>(rows);
  return w;
}

void matmul(const PackedWeight& w, const float* x, int64_t n, const float* bias, float* y, ThreadPool& pool) {
  if (w.layout == kLayoutQ8_0x4) return avx512::matmul_q8_0x4(w, x, n, bias, y, pool);
  if (w.layout == kLayoutQ4_Kx4) return avx512::matmul_q4_kx4(w, x, n, bias, y, pool);
  if (w.layout == kLayoutX8Avx2) return avx2::matmul_x8(w, x, n, bias, y, pool);
  switch (active_isa()) {
    case Isa::kAvx512:
      if (w.dtype == DType::kQ6_K && w.rows % 4 == 0) return avx512::matmul_q6_k(w, x, n, bias, y, pool);
      if (avx512::supports(w.dtype)) return avx512::matmul(w, x, n, bias, y, pool);
      break;
    case Isa::kAvx2:
      if (avx2::supports(w.dtype)) return avx2::matmul(w, x, n, bias, y, pool);
      break;
    case Isa::kGeneric:
      break;
  }
  ref::matmul(w, x, n, bias, y, pool);
}

void matmul_shared_input(std::span<const MatmulOutput> outs, const float* x, int64_t n, ThreadPool& pool) {
  // (x8 weights exist only where AVX2 runs: the check itself is AVX2 code)
  if (!outs.empty() && outs[0].w->layout == kLayoutX8Avx2 && avx2::can_share_input_x8(outs))
    return avx2::matmul_x8_shared_input(outs, x, n, pool);
  for (const MatmulOutput& o : outs) matmul(*o.w, x, n, o.bias, o.y, pool);
}

void embedding(DType dtype, const void* table, int64_t dim, const int32_t* ids, int64_t n, float* out) {
  const size_t row = row_bytes(dtype, dim);
  for (int64_t i = 0; i < n; ++i)
    dequantize_row(dtype, static_cast<const uint8_t*>(table) + static_cast<size_t>(ids[i]) * row, out + i * dim, dim);
}

}  // namespace ember::kernels
