// Writes small valid GGUF and safetensors files for the format fuzzers to
// start from (the fixture models are megabytes): every GGUF metadata type,
// a tensor of each dtype ember reads, and safetensors files with each dtype,
// a scalar, an empty tensor and metadata.
//
// Usage: formats_fuzz_seeds <out dir>  (writes <out>/gguf/*, <out>/safetensors/*)
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "tensor/quant.h"

namespace {

using ember::DType;

bool write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return out.good();
}

// A tensor of `n` values in `dt`, encoded from a simple ramp.
std::vector<uint8_t> encoded(DType dt, int64_t n) {
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = 0.01f * static_cast<float>((i * 37) % 101 - 50);
  std::vector<uint8_t> out(ember::row_bytes(dt, n));
  ember::quantize_row(dt, x.data(), out.data(), n);
  return out;
}

bool write_gguf(const std::string& dir) {
  ember::formats::GgufWriter w;
  w.set_string("general.architecture", "qwen2");
  w.set_uint32("general.alignment", 32);
  w.set_uint32("qwen2.block_count", 1);
  w.set_int32("test.int32", -7);
  w.set_uint64("test.uint64", 1ull << 40);
  w.set_float32("qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
  w.set_bool("test.bool", true);
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "Ġc", ""});
  w.set_int32_array("tokenizer.ggml.token_type", {1, 1, 3, 4});
  w.set_float32_array("tokenizer.ggml.scores", {0.0f, -1.0f, 2.5f, 0.0f});
  struct T {
    const char* name;
    DType dt;
    std::vector<int64_t> shape;
  };
  const T tensors[] = {
      {"f32", DType::kF32, {4}},          {"f16", DType::kF16, {3, 2}},  {"bf16", DType::kBF16, {5}},
      {"q8_0", DType::kQ8_0, {32, 2}},    {"q4_0", DType::kQ4_0, {32}},  {"q4_k", DType::kQ4_K, {256}},
      {"q6_k", DType::kQ6_K, {256}},
  };
  for (const T& t : tensors) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    const auto bytes = encoded(t.dt, n);
    if (!w.add_tensor(t.name, t.dt, t.shape, bytes.data(), bytes.size()).ok()) return false;
  }
  if (!w.write(dir + "/all_types.gguf").ok()) return false;

  ember::formats::GgufWriter meta_only;
  meta_only.set_string("general.architecture", "llama");
  meta_only.set_string_array("tokenizer.ggml.merges", {"a b", "ab c"});
  return meta_only.write(dir + "/metadata_only.gguf").ok();
}

std::string safetensors(const std::string& header, const std::string& data) {
  std::string h = header;
  while (h.size() % 8) h.push_back(' ');
  const uint64_t n = h.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + h + data;
}

bool write_safetensors(const std::string& dir) {
  std::string data;
  const float f[3] = {1.0f, -2.0f, 0.5f};
  data.append(reinterpret_cast<const char*>(f), sizeof f);             // F32 [3]      0..12
  const uint16_t h[4] = {0x3c00, 0xc000, 0x3800, 0x0001};
  data.append(reinterpret_cast<const char*>(h), sizeof h);             // F16 [2, 2]   12..20
  const uint16_t b[2] = {0x3f80, 0xc040};
  data.append(reinterpret_cast<const char*>(b), sizeof b);             // BF16 [2]     20..24
  const std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("model.norm.weight":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
      R"("lm_head.weight":{"dtype":"F16","shape":[2,2],"data_offsets":[12,20]},)"
      R"("model.embed_tokens.weight":{"dtype":"BF16","shape":[2],"data_offsets":[20,24]},)"
      R"("empty":{"dtype":"F32","shape":[0,4],"data_offsets":[24,24]}})";
  if (!write_file(dir + "/small.safetensors", safetensors(header, data))) return false;
  const std::string scalar = R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})";
  return write_file(dir + "/scalar.safetensors", safetensors(scalar, std::string(4, '\0')));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <out dir>\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(out + "/gguf", ec);
  std::filesystem::create_directories(out + "/safetensors", ec);
  if (!write_gguf(out + "/gguf") || !write_safetensors(out + "/safetensors")) {
    std::fprintf(stderr, "formats_fuzz_seeds: cannot write seeds under %s\n", out.c_str());
    return 1;
  }
  return 0;
}
