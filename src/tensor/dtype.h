// Element types of weights and activations. Numeric values are GGML's type ids,
// so a GGUF tensor's type field converts directly; block layouts are GGUF's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ember {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kBF16 = 30,
};

struct DTypeInfo {
  std::string_view name;   // "f32", "q4_k", ... (lower case, as CLI flags spell them)
  int64_t block_elems;     // values per block (1 for plain types)
  size_t block_bytes;      // bytes per block
  bool supported;          // ember can read, convert and multiply it
};

// nullopt for an id ember does not know at all.
std::optional<DTypeInfo> dtype_info(uint32_t ggml_type_id);
const DTypeInfo& dtype_info(DType t);
inline std::string_view dtype_name(DType t) { return dtype_info(t).name; }
std::optional<DType> parse_dtype(std::string_view name);  // case-insensitive

// Bytes of one row of `n` values; n must be a multiple of the block size.
inline size_t row_bytes(DType t, int64_t n) {
  const DTypeInfo& i = dtype_info(t);
  return static_cast<size_t>(n / i.block_elems) * i.block_bytes;
}
inline bool is_quantized(DType t) { return dtype_info(t).block_elems > 1; }

}  // namespace ember
