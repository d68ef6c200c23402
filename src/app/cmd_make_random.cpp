// `ember make-random`: a random-weights GGUF of a real model's shape, written
// by ember's own GGUF writer and quantizers, so benchmarks need no download.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/model_flags.h"
#include "base/log.h"
#include "formats/gguf.h"
#include "model/model_config.h"
#include "tensor/quant.h"

namespace ember::app {
namespace {

struct Shape {
  const char* name;
  model::ModelConfig config;
};

model::ModelConfig qwen2(int64_t hidden, int64_t layers, int64_t heads, int64_t kv_heads, int64_t ffn,
                         int64_t vocab, int64_t ctx, bool tied) {
  model::ModelConfig c;
  c.arch = model::Architecture::kQwen2;
  c.hidden = hidden;
  c.n_layers = layers;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.head_dim = hidden / heads;
  c.ffn = ffn;
  c.vocab = vocab;
  c.max_position = ctx;
  c.rms_eps = 1e-6f;
  c.rope_theta = 10000.0f;
  c.tie_embeddings = tied;
  return c;
}

const Shape kShapes[] = {
    {"deepseek-r1-distill-qwen-1.5b", qwen2(1536, 28, 12, 2, 8960, 151936, 131072, false)},
    {"deepseek-r1-distill-qwen-7b", qwen2(3584, 28, 28, 4, 18944, 152064, 131072, false)},
    {"qwen2.5-0.5b", qwen2(896, 24, 14, 2, 4864, 151936, 32768, true)},
};

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Approximately normal values (sum of 4 uniforms), deterministic per row.
void random_row(uint64_t seed, uint64_t tensor, int64_t row, float scale, float offset, float* out, int64_t n) {
  uint64_t state = seed * 0x100000001b3ull ^ (tensor << 40) ^ static_cast<uint64_t>(row);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t r = splitmix64(state);
    float s = 0.0f;
    for (int k = 0; k < 4; ++k) s += static_cast<float>((r >> (16 * k)) & 0xffff) * (1.0f / 65535.0f);
    out[i] = offset + scale * (s - 2.0f) * 1.7320508f;  // variance of the sum of 4 U(0,1) is 1/3
  }
}

// llama.cpp's Q4_K_M recipe: Q6_K for the output and, in a subset of layers,
// attn_v and ffn_down; Q4_K elsewhere.
bool q4_k_m_more_bits(int64_t layer, int64_t n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

}  // namespace

int cmd_make_random(int argc, char** argv) {
  CliArgs args("make-random",
               "Writes a GGUF model with random weights in the shape of a real model, for "
               "benchmarks that need no download.");
  args.positional("OUT", "the .gguf file to write");
  std::string likes;
  for (const auto& s : kShapes) likes += std::string(likes.empty() ? "" : "|") + s.name;
  args.option("like", "MODEL", "the shape to copy: " + likes, "deepseek-r1-distill-qwen-1.5b");
  args.option("type", "TYPE", "weight type: f32|f16|bf16|q8_0|q4_0|q4_k_m", "q4_k_m");
  args.option("seed", "N", "random seed", "1");
  args.option("tokenizer", "GGUF",
              "copy the tokenizer and chat template (every tokenizer.* key) of this GGUF, so that `ember serve` "
              "can serve the random model (e.g. ../shared/fixtures/models/tiny-r1vocab/tiny-r1vocab-BF16.gguf)");
  args.option("threads", "N", "threads", "physical cores");
  args.alias("-t", "threads");
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;

  const Shape* shape = nullptr;
  for (const auto& s : kShapes)
    if (args.get("like") == s.name) shape = &s;
  if (!shape) return report_error("make-random", ("--like must be one of " + likes).c_str());
  const std::string type = args.get("type");
  DType base_type;
  if (type == "q4_k_m") {
    base_type = DType::kQ4_K;
  } else if (auto t = parse_dtype(type); t && (*t == DType::kF32 || *t == DType::kF16 || *t == DType::kBF16 ||
                                               *t == DType::kQ8_0 || *t == DType::kQ4_0)) {
    base_type = *t;
  } else {
    return report_error("make-random", "--type must be f32, f16, bf16, q8_0, q4_0 or q4_k_m");
  }
  auto seed = args.get_int("seed");
  if (!seed.ok()) return report_error("make-random", seed.status().message().c_str());
  int threads = physical_core_count();
  if (args.has("threads")) {
    auto t = args.get_int("threads");
    if (!t.ok() || *t < 1) return report_error("make-random", "--threads must be a positive integer");
    threads = static_cast<int>(*t);
  }
  ThreadPool pool(threads);
  const model::ModelConfig& c = shape->config;

  formats::GgufWriter w;
  const std::string a = "qwen2";
  w.set_string("general.architecture", a);
  w.set_string("general.name", std::string(shape->name) + " (random weights, " + type + ")");
  w.set_uint32("general.file_type", 0);
  w.set_uint32(a + ".context_length", static_cast<uint32_t>(c.max_position));
  w.set_uint32(a + ".embedding_length", static_cast<uint32_t>(c.hidden));
  w.set_uint32(a + ".block_count", static_cast<uint32_t>(c.n_layers));
  w.set_uint32(a + ".feed_forward_length", static_cast<uint32_t>(c.ffn));
  w.set_uint32(a + ".attention.head_count", static_cast<uint32_t>(c.n_heads));
  w.set_uint32(a + ".attention.head_count_kv", static_cast<uint32_t>(c.n_kv_heads));
  w.set_float32(a + ".attention.layer_norm_rms_epsilon", c.rms_eps);
  w.set_float32(a + ".rope.freq_base", c.rope_theta);

  if (args.has("tokenizer")) {
    const std::string path = args.get("tokenizer");
    auto src = formats::GgufFile::open(path);
    if (!src.ok()) return report_error("make-random", src.status().to_string().c_str());
    auto tokens = src->get_string_array("tokenizer.ggml.tokens");
    if (!tokens.ok()) return report_error("make-random", (path + " has no tokenizer (tokenizer.ggml.tokens)").c_str());
    if (static_cast<int64_t>(tokens->size()) > c.vocab)
      return report_error("make-random", (path + "'s " + std::to_string(tokens->size()) + " tokens do not fit the " +
                                          std::to_string(c.vocab) + "-row vocabulary of " + shape->name).c_str());
    for (const auto& [key, value] : src->metadata())
      if (key.rfind("tokenizer.", 0) == 0)
        if (Status s = w.set_value(key, value); !s.ok()) return report_error("make-random", s.to_string().c_str());
  }

  uint64_t tensor_id = 0;
  Status status;
  // rows x cols matrix (GGUF shape {cols, rows}) or a vector (rows == 1).
  auto add = [&](const std::string& name, int64_t rows, int64_t cols, DType dt, float scale, float offset) {
    if (!status.ok()) return;
    if (cols % dtype_info(dt).block_elems != 0) dt = DType::kQ8_0;  // as llama.cpp falls back
    const size_t rb = row_bytes(dt, cols);
    std::vector<uint8_t> bytes(rb * rows);
    const uint64_t id = tensor_id++;
    pool.parallel_for(rows, 8, [&](int64_t r0, int64_t r1) {
      std::vector<float> row(cols);
      for (int64_t r = r0; r < r1; ++r) {
        random_row(static_cast<uint64_t>(*seed), id, r, scale, offset, row.data(), cols);
        quantize_row(dt, row.data(), bytes.data() + r * rb, cols);
      }
    });
    std::vector<int64_t> shape = rows == 1 ? std::vector<int64_t>{cols} : std::vector<int64_t>{cols, rows};
    status = w.add_tensor(name, dt, shape, bytes.data(), bytes.size());
  };
  const bool k_mix = type == "q4_k_m";
  const DType out_type = k_mix ? DType::kQ6_K : base_type;
  LOG_INFO("generating %s-shaped weights as %s", shape->name, type.c_str());
  add("token_embd.weight", c.vocab, c.hidden, base_type, 0.02f, 0.0f);
  for (int64_t l = 0; l < c.n_layers && status.ok(); ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const DType more = k_mix && q4_k_m_more_bits(l, c.n_layers) ? DType::kQ6_K : base_type;
    add(p + "attn_norm.weight", 1, c.hidden, DType::kF32, 0.1f, 1.0f);
    add(p + "attn_q.weight", c.q_dim(), c.hidden, base_type, 0.02f, 0.0f);
    add(p + "attn_q.bias", 1, c.q_dim(), DType::kF32, 0.02f, 0.0f);
    add(p + "attn_k.weight", c.kv_dim(), c.hidden, base_type, 0.02f, 0.0f);
    add(p + "attn_k.bias", 1, c.kv_dim(), DType::kF32, 0.02f, 0.0f);
    add(p + "attn_v.weight", c.kv_dim(), c.hidden, more, 0.02f, 0.0f);
    add(p + "attn_v.bias", 1, c.kv_dim(), DType::kF32, 0.02f, 0.0f);
    add(p + "attn_output.weight", c.hidden, c.q_dim(), base_type, 0.02f, 0.0f);
    add(p + "ffn_norm.weight", 1, c.hidden, DType::kF32, 0.1f, 1.0f);
    add(p + "ffn_gate.weight", c.ffn, c.hidden, base_type, 0.02f, 0.0f);
    add(p + "ffn_up.weight", c.ffn, c.hidden, base_type, 0.02f, 0.0f);
    add(p + "ffn_down.weight", c.hidden, c.ffn, more, 0.02f, 0.0f);
  }
  add("output_norm.weight", 1, c.hidden, DType::kF32, 0.1f, 1.0f);
  if (!c.tie_embeddings) add("output.weight", c.vocab, c.hidden, out_type, 0.02f, 0.0f);
  if (!status.ok()) return report_error("make-random", status.to_string().c_str());
  const std::string out = args.positional_at(0);
  if (Status s = w.write(out); !s.ok()) return report_error("make-random", s.to_string().c_str());
  LOG_INFO("wrote %s", out.c_str());
  return 0;
}

}  // namespace ember::app
