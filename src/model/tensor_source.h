// Where a model's tensors come from: a GGUF file or a safetensors checkpoint,
// seen through one lookup by the model's canonical (GGUF-style) names, with
// 2-D shapes normalized to [rows = out_features, cols = in_features].
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "tensor/dtype.h"

namespace ember::formats {
class GgufFile;
class SafetensorsCheckpoint;
}  // namespace ember::formats

namespace ember::model {

struct TensorRef {
  std::string name;          // the name in the file
  DType dtype = DType::kF32;
  int64_t rows = 1;          // 1 for vectors
  int64_t cols = 0;          // contiguous dimension
  int n_dims = 1;
  const void* data = nullptr;
  size_t bytes = 0;
};

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  // `name` is a GGUF-style name ("blk.3.attn_q.weight", "token_embd.weight").
  virtual const TensorRef* find(const std::string& name) const = 0;
  virtual std::string describe() const = 0;  // the path, for error messages
  virtual size_t file_bytes() const = 0;
  virtual std::vector<TensorRef> all() const = 0;
};

Result<std::unique_ptr<TensorSource>> open_gguf_source(std::shared_ptr<const formats::GgufFile> gguf);
Result<std::unique_ptr<TensorSource>> open_safetensors_source(const std::string& model_dir);

}  // namespace ember::model
