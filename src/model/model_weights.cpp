#include "model/model_weights.h"

#include <cstring>

#include "base/log.h"
#include "base/mapped_file.h"
#include "tensor/quant.h"

namespace ember::model {
namespace {

bool is_float_type(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }

class Binder {
 public:
  Binder(const TensorSource& src, const ModelConfig& cfg, const WeightOptions& opt,
         ModelWeights& w, ThreadPool& pool)
      : src_(src), cfg_(cfg), opt_(opt), w_(w), pool_(pool) {}

  Result<const TensorRef*> require(const std::string& name, int64_t rows, int64_t cols) {
    const TensorRef* t = src_.find(name);
    if (!t) return not_found(src_.describe() + ": tensor '" + name + "' is missing");
    if (t->rows != rows || t->cols != cols)
      return corrupt(src_.describe() + ": tensor '" + name + "' has shape [" +
                     std::to_string(t->rows) + ", " + std::to_string(t->cols) + "], expected [" +
                     std::to_string(rows) + ", " + std::to_string(cols) + "]");
    const DTypeInfo& info = dtype_info(t->dtype);
    if (!info.supported)
      return unsupported(src_.describe() + ": tensor '" + name + "' has type " +
                         std::string(info.name) + " (supported: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)");
    if (t->cols % info.block_elems != 0 || t->bytes != row_bytes(t->dtype, t->cols) * t->rows)
      return corrupt(src_.describe() + ": tensor '" + name + "' holds " + std::to_string(t->bytes) +
                     " bytes, expected " + std::to_string(row_bytes(t->dtype, t->cols) * t->rows));
    return t;
  }

  // A vector (norm weight or bias) as f32.
  Result<std::vector<float>> vector(const std::string& name, int64_t n) {
    EMBER_ASSIGN_OR_RETURN(const TensorRef* t, require(name, 1, n));
    std::vector<float> out(n);
    dequantize_row(t->dtype, t->data, out.data(), n);
    return out;
  }

  Result<std::vector<float>> optional_vector(const std::string& name, int64_t n, bool wanted) {
    if (!wanted) return std::vector<float>();
    return vector(name, n);
  }

  // The dtype a matmul weight of source type `t` is stored in after load.
  Result<DType> target_dtype(const TensorRef& t) {
    if (!opt_.quantize.empty()) {
      if (!is_float_type(t.dtype))
        return invalid_argument("--quantize " + opt_.quantize + " needs a 16- or 32-bit checkpoint, but '" +
                                t.name + "' is already " + std::string(dtype_name(t.dtype)));
      DType q = opt_.quantize == "q4_k" ? DType::kQ4_K : DType::kQ8_0;
      if (t.cols % dtype_info(q).block_elems != 0) q = DType::kQ8_0;  // as llama.cpp falls back
      return q;
    }
    if (opt_.dtype != "auto" && is_float_type(t.dtype)) return *parse_dtype(opt_.dtype);
    return t.dtype;
  }

  Result<kernels::PackedWeight> matrix(const std::string& name, int64_t rows, int64_t cols) {
    EMBER_ASSIGN_OR_RETURN(const TensorRef* t, require(name, rows, cols));
    EMBER_ASSIGN_OR_RETURN(DType target, target_dtype(*t));
    const void* data = t->data;
    if (target != t->dtype) {
      EMBER_ASSIGN_OR_RETURN(data, convert(*t, target));
    }
    EMBER_ASSIGN_OR_RETURN(kernels::PackedWeight p, kernels::pack_weight(target, data, rows, cols));
    w_.matmul_bytes += row_bytes(target, cols) * rows;
    // A repacked or converted copy replaces the file's bytes: drop those pages
    // from memory (the tied embedding still reads its rows, and re-faults them).
    if (p.owned || data != t->data) release_mapped_pages(t->data, t->bytes);
    return p;
  }

  // Converts a float matrix to `target` (another float type or a quantized one).
  Result<const void*> convert(const TensorRef& t, DType target) {
    const size_t out_row = row_bytes(target, t.cols);
    std::shared_ptr<uint8_t> buf(new uint8_t[out_row * t.rows], std::default_delete<uint8_t[]>());
    const size_t in_row = row_bytes(t.dtype, t.cols);
    pool_.parallel_for(t.rows, 16, [&](int64_t r0, int64_t r1) {
      std::vector<float> row(t.cols);
      for (int64_t r = r0; r < r1; ++r) {
        dequantize_row(t.dtype, static_cast<const uint8_t*>(t.data) + r * in_row, row.data(), t.cols);
        quantize_row(target, row.data(), buf.get() + r * out_row, t.cols);
      }
    });
    w_.owned.push_back(buf);
    return static_cast<const void*>(buf.get());
  }

  Status bind() {
    const int64_t h = cfg_.hidden, q = cfg_.q_dim(), kv = cfg_.kv_dim(), f = cfg_.ffn;
    EMBER_ASSIGN_OR_RETURN(const TensorRef* emb, require("token_embd.weight", cfg_.vocab, h));
    w_.embed_dtype = emb->dtype;
    w_.embed = emb->data;
    EMBER_ASSIGN_OR_RETURN(w_.final_norm, vector("output_norm.weight", h));
    const bool tied = src_.find("output.weight") == nullptr;
    if (tied && !cfg_.tie_embeddings)
      LOG_INFO("%s: no output.weight; using the tied token embedding as lm_head", src_.describe().c_str());
    EMBER_ASSIGN_OR_RETURN(w_.lm_head, matrix(tied ? "token_embd.weight" : "output.weight", cfg_.vocab, h));
    w_.layers.resize(cfg_.n_layers);
    for (int64_t i = 0; i < cfg_.n_layers; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      LayerWeights& L = w_.layers[i];
      EMBER_ASSIGN_OR_RETURN(L.attn_norm, vector(p + "attn_norm.weight", h));
      EMBER_ASSIGN_OR_RETURN(L.ffn_norm, vector(p + "ffn_norm.weight", h));
      EMBER_ASSIGN_OR_RETURN(L.wq, matrix(p + "attn_q.weight", q, h));
      EMBER_ASSIGN_OR_RETURN(L.wk, matrix(p + "attn_k.weight", kv, h));
      EMBER_ASSIGN_OR_RETURN(L.wv, matrix(p + "attn_v.weight", kv, h));
      EMBER_ASSIGN_OR_RETURN(L.wo, matrix(p + "attn_output.weight", h, q));
      EMBER_ASSIGN_OR_RETURN(L.bq, optional_vector(p + "attn_q.bias", q, cfg_.qkv_bias));
      EMBER_ASSIGN_OR_RETURN(L.bk, optional_vector(p + "attn_k.bias", kv, cfg_.qkv_bias));
      EMBER_ASSIGN_OR_RETURN(L.bv, optional_vector(p + "attn_v.bias", kv, cfg_.qkv_bias));
      EMBER_ASSIGN_OR_RETURN(L.q_norm, optional_vector(p + "attn_q_norm.weight", cfg_.head_dim, cfg_.qk_norm));
      EMBER_ASSIGN_OR_RETURN(L.k_norm, optional_vector(p + "attn_k_norm.weight", cfg_.head_dim, cfg_.qk_norm));
      EMBER_ASSIGN_OR_RETURN(L.w_gate, matrix(p + "ffn_gate.weight", f, h));
      EMBER_ASSIGN_OR_RETURN(L.w_up, matrix(p + "ffn_up.weight", f, h));
      EMBER_ASSIGN_OR_RETURN(L.w_down, matrix(p + "ffn_down.weight", h, f));
    }
    return ok_status();
  }

 private:
  const TensorSource& src_;
  const ModelConfig& cfg_;
  const WeightOptions& opt_;
  ModelWeights& w_;
  ThreadPool& pool_;
};

}  // namespace

Result<ModelWeights> load_weights(const TensorSource& src, const ModelConfig& config,
                                  const WeightOptions& options, ThreadPool& pool) {
  if (options.dtype != "auto" && options.dtype != "f32" && options.dtype != "f16" &&
      options.dtype != "bf16")
    return invalid_argument("--dtype must be auto, bf16, f16 or f32, got '" + options.dtype + "'");
  if (!options.quantize.empty() && options.quantize != "q8_0" && options.quantize != "q4_k")
    return invalid_argument("--quantize must be q8_0 or q4_k, got '" + options.quantize + "'");
  ModelWeights w;
  Binder binder(src, config, options, w, pool);
  EMBER_RETURN_IF_ERROR(binder.bind());
  return w;
}

}  // namespace ember::model
