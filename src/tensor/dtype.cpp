#include "tensor/dtype.h"

#include <array>
#include <cctype>
#include <string>

namespace ember {
namespace {

struct Entry {
  DType type;
  DTypeInfo info;
};

// Block sizes and byte counts as in GGUF (QK_K = 256).
constexpr Entry kTable[] = {
    {DType::kF32, {"f32", 1, 4, true}},
    {DType::kF16, {"f16", 1, 2, true}},
    {DType::kBF16, {"bf16", 1, 2, true}},
    {DType::kQ4_0, {"q4_0", 32, 18, true}},
    {DType::kQ4_1, {"q4_1", 32, 20, false}},
    {DType::kQ5_0, {"q5_0", 32, 22, false}},
    {DType::kQ5_1, {"q5_1", 32, 24, false}},
    {DType::kQ8_0, {"q8_0", 32, 34, true}},
    {DType::kQ8_1, {"q8_1", 32, 36, false}},
    {DType::kQ2_K, {"q2_k", 256, 84, false}},
    {DType::kQ3_K, {"q3_k", 256, 110, false}},
    {DType::kQ4_K, {"q4_k", 256, 144, true}},
    {DType::kQ5_K, {"q5_k", 256, 176, false}},
    {DType::kQ6_K, {"q6_k", 256, 210, true}},
    {DType::kQ8_K, {"q8_k", 256, 292, false}},
    {DType::kI8, {"i8", 1, 1, false}},
    {DType::kI16, {"i16", 1, 2, false}},
    {DType::kI32, {"i32", 1, 4, false}},
    {DType::kI64, {"i64", 1, 8, false}},
    {DType::kF64, {"f64", 1, 8, false}},
};

}  // namespace

std::optional<DTypeInfo> dtype_info(uint32_t id) {
  for (const auto& e : kTable)
    if (static_cast<uint32_t>(e.type) == id) return e.info;
  return std::nullopt;
}

const DTypeInfo& dtype_info(DType t) {
  for (const auto& e : kTable)
    if (e.type == t) return e.info;
  static const DTypeInfo kUnknown{"unknown", 1, 0, false};
  return kUnknown;
}

std::optional<DType> parse_dtype(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& e : kTable)
    if (e.info.name == lower) return e.type;
  return std::nullopt;
}

}  // namespace ember
