#include "model/model.h"

#include <cmath>

#include "base/log.h"
#include "base/mapped_file.h"
#include "formats/gguf.h"

namespace ember::model {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

constexpr int64_t kSiluGrain = 8192;  // values per piece of the threads' SwiGLU

// An optional bias: its data, or nullptr when the model has none.
const float* bias_or_null(const std::vector<float>& b) { return b.empty() ? nullptr : b.data(); }

void grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

Result<std::unique_ptr<Model>> Model::load(const std::string& path, const LoadOptions& options,
                                           ThreadPool& pool) {
  auto m = std::unique_ptr<Model>(new Model());
  m->path_ = path;
  if (is_directory(path)) {
    const std::string config_path = path + "/config.json";
    if (!file_exists(config_path))
      return not_found(path + ": a model directory needs config.json (and *.safetensors)");
    EMBER_ASSIGN_OR_RETURN(m->config_, config_from_hf_json(config_path));
    EMBER_ASSIGN_OR_RETURN(m->source_, open_safetensors_source(path));
  } else if (ends_with(path, ".gguf") || file_exists(path)) {
    EMBER_ASSIGN_OR_RETURN(formats::GgufFile g, formats::GgufFile::open(path));
    m->gguf_ = std::make_shared<formats::GgufFile>(std::move(g));
    EMBER_ASSIGN_OR_RETURN(m->config_, config_from_gguf(*m->gguf_));
    EMBER_ASSIGN_OR_RETURN(m->source_, open_gguf_source(m->gguf_));
  } else {
    return not_found(path + ": no such model file or directory");
  }
  EMBER_ASSIGN_OR_RETURN(m->weights_, load_weights(*m->source_, m->config_, options.weights, pool));
  return m;
}

Status Model::forward(const ForwardBatch& batch, const KvCacheView& kv, float* logits,
                      ThreadPool& pool) {
  const ModelConfig& c = config_;
  const int64_t n = batch.size();
  if (n == 0) return ok_status();
  const int64_t H = c.hidden, Q = c.q_dim(), KV = c.kv_dim(), F = c.ffn, hd = c.head_dim;
  if (static_cast<int64_t>(batch.positions.size()) != n || static_cast<int64_t>(batch.slots.size()) != n)
    return internal_error("forward: tokens, positions and slots differ in length");
  for (int64_t i = 0; i < n; ++i) {
    if (batch.tokens[i] < 0 || batch.tokens[i] >= c.vocab)
      return invalid_argument("token id " + std::to_string(batch.tokens[i]) + " is outside the vocabulary [0, " +
                              std::to_string(c.vocab) + ")");
    if (batch.slots[i] < 0 || batch.slots[i] >= kv.num_slots)
      return internal_error("forward: KV slot out of range");
  }

  Scratch& s = scratch_;
  grow(s.x, n * H);      // [n, hidden] residual stream
  grow(s.h, n * H);      // [n, hidden] normed input / projection output
  grow(s.q, n * Q);      // [n, q_dim]
  grow(s.k, n * KV);     // [n, kv_dim]
  grow(s.v, n * KV);     // [n, kv_dim]
  grow(s.attn, n * Q);   // [n, q_dim]
  grow(s.gate, n * F);   // [n, ffn]
  grow(s.up, n * F);     // [n, ffn]

  kernels::embedding(weights_.embed_dtype, weights_.embed, H, batch.tokens.data(), n, s.x.data());

  kernels::AttentionParams ap;
  ap.n_heads = c.n_heads;
  ap.n_kv_heads = c.n_kv_heads;
  ap.head_dim = hd;
  ap.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  ap.q = s.q.data();
  ap.q_stride = Q;
  ap.out = s.attn.data();
  ap.kv_dtype = kv.dtype;
  ap.block_size = kv.block_size;
  ap.seqs = batch.seqs.data();
  ap.n_seqs = static_cast<int64_t>(batch.seqs.size());

  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = weights_.layers[l];
    kernels::rms_norm(s.x.data(), L.attn_norm.data(), n, H, c.rms_eps, s.h.data());
    const kernels::MatmulOutput qkv[] = {{&L.wq, bias_or_null(L.bq), s.q.data()},
                                         {&L.wk, bias_or_null(L.bk), s.k.data()},
                                         {&L.wv, bias_or_null(L.bv), s.v.data()}};
    kernels::matmul_shared_input(qkv, s.h.data(), n, pool);
    if (c.qk_norm) {
      kernels::rms_norm(s.q.data(), L.q_norm.data(), n * c.n_heads, hd, c.rms_eps, s.q.data());
      kernels::rms_norm(s.k.data(), L.k_norm.data(), n * c.n_kv_heads, hd, c.rms_eps, s.k.data());
    }
    kernels::rope_neox(s.q.data(), n, Q, c.n_heads, hd, batch.positions.data(), c.rope_theta);
    kernels::rope_neox(s.k.data(), n, KV, c.n_kv_heads, hd, batch.positions.data(), c.rope_theta);
    kernels::kv_write(s.k.data(), s.v.data(), KV, n, c.n_kv_heads, hd, kv.block_size, batch.slots.data(), kv.dtype,
                      kv.k[l], kv.v[l]);
    ap.k_cache = kv.k[l];
    ap.v_cache = kv.v[l];
    kernels::attention(ap, pool);
    kernels::matmul(L.wo, s.attn.data(), n, nullptr, s.h.data(), pool);
    kernels::add_inplace(s.x.data(), s.h.data(), n * H);

    kernels::rms_norm(s.x.data(), L.ffn_norm.data(), n, H, c.rms_eps, s.h.data());
    const kernels::MatmulOutput gate_up[] = {{&L.w_gate, nullptr, s.gate.data()}, {&L.w_up, nullptr, s.up.data()}};
    kernels::matmul_shared_input(gate_up, s.h.data(), n, pool);
    // split between the threads: with many tokens its exps are ~1% of a step
    pool.parallel_for(n * F, kSiluGrain, [&](int64_t b, int64_t e) {
      kernels::silu_mul(s.gate.data() + b, s.up.data() + b, e - b, s.gate.data() + b);
    });
    kernels::matmul(L.w_down, s.gate.data(), n, nullptr, s.h.data(), pool);
    kernels::add_inplace(s.x.data(), s.h.data(), n * H);
  }

  // Only the rows the caller wants go through the final norm and lm_head.
  const int64_t m = static_cast<int64_t>(batch.logit_rows.size());
  if (m == 0) return ok_status();
  grow(s.rows, m * H);
  for (int64_t i = 0; i < m; ++i) {
    const int64_t r = batch.logit_rows[i];
    if (r < 0 || r >= n) return internal_error("forward: logit row out of range");
    std::copy_n(s.x.data() + r * H, H, s.rows.data() + i * H);
  }
  kernels::rms_norm(s.rows.data(), weights_.final_norm.data(), m, H, c.rms_eps, s.rows.data());
  kernels::matmul(weights_.lm_head, s.rows.data(), m, nullptr, logits, pool);
  return ok_status();
}

}  // namespace ember::model
