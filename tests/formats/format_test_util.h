// Helpers shared by the formats tests: a scratch directory, whole-file
// writes, fixture paths, and a byte-level GGUF builder for files the writer
// would never produce (bad counts, types, offsets).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace ember::formats::testing {

inline std::string fixtures_dir() { return EMBER_FIXTURES_DIR; }
inline std::string models_dir() { return fixtures_dir() + "/models"; }

// A fresh directory under the system temp dir, removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ember_formats_XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    if (made) path_ = made;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline void write_bytes(const std::string& path, const void* data, size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}
inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b) { write_bytes(path, b.data(), b.size()); }
inline void write_text(const std::string& path, const std::string& s) { write_bytes(path, s.data(), s.size()); }

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Byte-level GGUF builder: every field is written exactly as asked, so tests
// can make inconsistent files. Layout per the GGUF spec: magic, version,
// tensor count, kv count, kvs, tensor infos, padding, data.
class RawGguf {
 public:
  std::vector<uint8_t> bytes;

  template <class T>
  RawGguf& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
    return *this;
  }
  RawGguf& str(std::string_view s) {
    put<uint64_t>(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  RawGguf& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3, uint32_t magic = 0x46554747) {
    return put(magic).put(version).put(n_tensors).put(n_kv);
  }
  // Metadata: key, type id, value.
  RawGguf& kv_u32(std::string_view key, uint32_t v) { return str(key).put<uint32_t>(4).put(v); }
  RawGguf& kv_str(std::string_view key, std::string_view v) { return str(key).put<uint32_t>(8).str(v); }
  RawGguf& kv_f32(std::string_view key, float v) { return str(key).put<uint32_t>(6).put(v); }
  // Tensor info: name, n_dims, dims, type, offset.
  RawGguf& tensor(std::string_view name, const std::vector<uint64_t>& dims, uint32_t type, uint64_t offset) {
    str(name).put<uint32_t>(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) put(d);
    return put(type).put(offset);
  }
  RawGguf& pad(size_t alignment = 32) {
    while (bytes.size() % alignment) bytes.push_back(0);
    return *this;
  }
  RawGguf& fill(size_t n, uint8_t v = 0x11) {
    bytes.insert(bytes.end(), n, v);
    return *this;
  }
};

// The Hugging Face name of a Qwen2 GGUF tensor name (llama.cpp's mapping).
inline std::string hf_name_of(const std::string& gguf) {
  if (gguf == "token_embd.weight") return "model.embed_tokens.weight";
  if (gguf == "output_norm.weight") return "model.norm.weight";
  if (gguf == "output.weight") return "lm_head.weight";
  static const std::pair<const char*, const char*> kBlock[] = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_q.bias", "self_attn.q_proj.bias"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_v.bias", "self_attn.v_proj.bias"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  if (gguf.rfind("blk.", 0) != 0) return "";
  const size_t dot = gguf.find('.', 4);
  if (dot == std::string::npos) return "";
  const std::string layer = gguf.substr(4, dot - 4), rest = gguf.substr(dot + 1);
  for (const auto& [g, h] : kBlock)
    if (rest == g) return "model.layers." + layer + "." + h;
  return "";
}

}  // namespace ember::formats::testing

#include <nlohmann/json.hpp>

namespace ember::formats::testing {

// One tensor of a safetensors file made by the tests.
struct StEntry {
  std::string name;
  std::string dtype;             // "F32", "F16", "BF16", ...
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// The bytes of a safetensors file per the spec: u64 header length, JSON
// header (padded with spaces to 8 bytes), data in entry order.
inline std::vector<uint8_t> make_safetensors(const std::vector<StEntry>& entries) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = {{"format", "pt"}};
  size_t offset = 0;
  for (const StEntry& e : entries) {
    header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.bytes.size()}}};
    offset += e.bytes.size();
  }
  std::string h = header.dump();
  while (h.size() % 8) h.push_back(' ');
  const uint64_t n = h.size();
  std::string file(reinterpret_cast<const char*>(&n), 8);
  file += h;
  for (const StEntry& e : entries) file.append(e.bytes.begin(), e.bytes.end());
  return std::vector<uint8_t>(file.begin(), file.end());
}

// A safetensors file from a raw header string and data section.
inline std::vector<uint8_t> raw_safetensors(const std::string& header, size_t data_bytes, uint64_t header_len) {
  std::string file(reinterpret_cast<const char*>(&header_len), 8);
  file += header;
  file.append(data_bytes, '\x3c');
  return std::vector<uint8_t>(file.begin(), file.end());
}
inline std::vector<uint8_t> raw_safetensors(const std::string& header, size_t data_bytes) {
  return raw_safetensors(header, data_bytes, header.size());
}

}  // namespace ember::formats::testing
