#include "model/tensor_source.h"

#include <map>

#include "formats/gguf.h"
#include "formats/safetensors.h"

namespace ember::model {
namespace {

class MapSource : public TensorSource {
 public:
  MapSource(std::string path, size_t bytes, std::shared_ptr<const void> keep)
      : path_(std::move(path)), bytes_(bytes), keep_(std::move(keep)) {}
  const TensorRef* find(const std::string& name) const override {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
  }
  std::string describe() const override { return path_; }
  size_t file_bytes() const override { return bytes_; }
  std::vector<TensorRef> all() const override {
    std::vector<TensorRef> out;
    for (const auto& [k, v] : tensors_) out.push_back(v);
    return out;
  }
  std::map<std::string, TensorRef> tensors_;

 private:
  std::string path_;
  size_t bytes_;
  std::shared_ptr<const void> keep_;
};

// Hugging Face parameter names -> GGUF names.
std::string hf_to_gguf_name(const std::string& hf) {
  static const std::pair<const char*, const char*> kLayer[] = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
  };
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  const std::string prefix = "model.layers.";
  if (hf.rfind(prefix, 0) == 0) {
    const size_t dot = hf.find('.', prefix.size());
    if (dot != std::string::npos) {
      const std::string index = hf.substr(prefix.size(), dot - prefix.size());
      const std::string rest = hf.substr(dot + 1);
      for (const auto& [from, to] : kLayer)
        if (rest == from) return "blk." + index + "." + to;
    }
  }
  return hf;  // unknown names are kept so `ember info` can still list them
}

}  // namespace

Result<std::unique_ptr<TensorSource>> open_gguf_source(std::shared_ptr<const formats::GgufFile> gguf) {
  auto src = std::make_unique<MapSource>(gguf->path(), gguf->file_size(), gguf);
  for (const auto& t : gguf->tensors()) {
    if (t.shape.size() > 2)
      return unsupported(gguf->path() + ": tensor '" + t.name + "' has " +
                         std::to_string(t.shape.size()) + " dimensions (expected 1 or 2)");
    TensorRef r;
    r.name = t.name;
    r.dtype = t.dtype;
    r.n_dims = static_cast<int>(t.shape.size());
    r.cols = t.shape.empty() ? 1 : t.shape[0];
    r.rows = t.shape.size() == 2 ? t.shape[1] : 1;
    r.data = t.data;
    r.bytes = t.bytes;
    src->tensors_[t.name] = r;
  }
  return std::unique_ptr<TensorSource>(std::move(src));
}

Result<std::unique_ptr<TensorSource>> open_safetensors_source(const std::string& model_dir) {
  EMBER_ASSIGN_OR_RETURN(formats::SafetensorsCheckpoint ckpt,
                         formats::SafetensorsCheckpoint::open(model_dir));
  auto shared = std::make_shared<formats::SafetensorsCheckpoint>(std::move(ckpt));
  size_t total = 0;
  for (const auto& [name, t] : shared->tensors()) total += t.bytes;
  auto src = std::make_unique<MapSource>(model_dir, total, shared);
  for (const auto& [name, t] : shared->tensors()) {
    if (t.shape.size() > 2)
      return unsupported(model_dir + ": tensor '" + name + "' has " +
                         std::to_string(t.shape.size()) + " dimensions (expected 1 or 2)");
    TensorRef r;
    r.name = name;
    r.dtype = t.dtype;
    r.n_dims = static_cast<int>(t.shape.size());
    r.cols = t.shape.empty() ? 1 : t.shape.back();
    r.rows = t.shape.size() == 2 ? t.shape[0] : 1;
    r.data = t.data;
    r.bytes = t.bytes;
    src->tensors_[hf_to_gguf_name(name)] = r;
  }
  return std::unique_ptr<TensorSource>(std::move(src));
}

}  // namespace ember::model
