// A loaded decoder model and its forward pass over a ForwardBatch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "model/forward_batch.h"
#include "model/model_config.h"
#include "model/model_weights.h"
#include "model/tensor_source.h"

namespace ember::formats {
class GgufFile;
}

namespace ember::model {

struct LoadOptions {
  WeightOptions weights;
};

class Model {
 public:
  // `path`: a Hugging Face model directory or a .gguf file.
  static Result<std::unique_ptr<Model>> load(const std::string& path, const LoadOptions& options,
                                             ThreadPool& pool);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const TensorSource& source() const { return *source_; }
  const std::string& path() const { return path_; }
  // The GGUF file, when the model came from one (tokenizer and template live there).
  std::shared_ptr<const formats::GgufFile> gguf() const { return gguf_; }

  // Runs every layer over the batch, writes the new K/V into `kv`, and stores
  // the logits of batch.logit_rows in `logits` ([logit_rows, vocab]).
  Status forward(const ForwardBatch& batch, const KvCacheView& kv, float* logits, ThreadPool& pool);

 private:
  struct Scratch {
    std::vector<float> x, h, q, k, v, attn, gate, up, rows, normed;  // see forward()
  };

  std::string path_;
  ModelConfig config_;
  std::shared_ptr<const formats::GgufFile> gguf_;
  std::unique_ptr<TensorSource> source_;
  ModelWeights weights_;
  Scratch scratch_;
};

}  // namespace ember::model
