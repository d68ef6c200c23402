// Safetensors checkpoints: a single model.safetensors or shards listed in
// model.safetensors.index.json. Parsing only; tensor bytes stay in the mmap.
// Spec: https://huggingface.co/docs/safetensors (8-byte little-endian header
// length, JSON header {name: {dtype, shape, data_offsets}}, optional
// __metadata__). Every offset is checked against the file size.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "tensor/dtype.h"

namespace ember::formats {

struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::kF32;     // F32, F16, BF16 (others: unsupported error at open)
  std::vector<int64_t> shape;    // PyTorch order: shape.back() is contiguous
  const uint8_t* data = nullptr;
  size_t bytes = 0;
  std::string file;              // the shard it lives in
};

class SafetensorsCheckpoint {
 public:
  // `path` is a model directory (model.safetensors, or
  // model.safetensors.index.json and its shards) or one .safetensors file.
  static Result<SafetensorsCheckpoint> open(const std::string& path);
  // One file already mapped (or bytes under test).
  static Result<SafetensorsCheckpoint> from_file(std::shared_ptr<const MappedFile> file);

  const std::map<std::string, SafetensorsTensor, std::less<>>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;

 private:
  std::vector<std::shared_ptr<const MappedFile>> files_;
  std::map<std::string, SafetensorsTensor, std::less<>> tensors_;
};

}  // namespace ember::formats
