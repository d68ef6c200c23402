// `ember info`: what a model file holds, without loading the weights.
#include <cstdio>
#include <map>
#include <string>

#include "app/commands.h"
#include "app/model_flags.h"
#include "base/mapped_file.h"
#include "formats/gguf.h"
#include "model/model_config.h"
#include "model/tensor_source.h"

namespace ember::app {
namespace {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024.0 && u < 4) {
    b /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", b, units[u]);
  return buf;
}

}  // namespace

int cmd_info(int argc, char** argv) {
  CliArgs args("info", "Shows a model's architecture, shapes, tensor types and bytes.");
  args.positional("MODEL", "model directory or .gguf file");
  args.flag("tensors", "list every tensor");
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;
  const std::string path = args.positional_at(0);

  Result<model::ModelConfig> config = invalid_argument("unset");
  std::unique_ptr<model::TensorSource> source;
  if (is_directory(path)) {
    config = model::config_from_hf_json(path + "/config.json");
    if (!config.ok()) return report_error("info", config.status().to_string().c_str());
    auto src = model::open_safetensors_source(path);
    if (!src.ok()) return report_error("info", src.status().to_string().c_str());
    source = std::move(*src);
  } else {
    auto g = formats::GgufFile::open(path);
    if (!g.ok()) return report_error("info", g.status().to_string().c_str());
    auto gguf = std::make_shared<formats::GgufFile>(std::move(*g));
    config = model::config_from_gguf(*gguf);
    if (!config.ok()) return report_error("info", config.status().to_string().c_str());
    auto src = model::open_gguf_source(gguf);
    if (!src.ok()) return report_error("info", src.status().to_string().c_str());
    source = std::move(*src);
    if (auto name = gguf->get_string("general.name"); name.ok()) std::printf("name:            %s\n", name->c_str());
    std::printf("format:          GGUF v%u\n", gguf->version());
  }
  const model::ModelConfig& c = *config;
  std::printf("architecture:    %s\n", model::architecture_name(c.arch));
  std::printf("hidden:          %lld\n", static_cast<long long>(c.hidden));
  std::printf("layers:          %lld\n", static_cast<long long>(c.n_layers));
  std::printf("heads:           %lld x %lld (kv heads %lld)\n", static_cast<long long>(c.n_heads),
              static_cast<long long>(c.head_dim), static_cast<long long>(c.n_kv_heads));
  std::printf("ffn:             %lld\n", static_cast<long long>(c.ffn));
  std::printf("vocab:           %lld\n", static_cast<long long>(c.vocab));
  std::printf("context:         %lld\n", static_cast<long long>(c.max_position));
  std::printf("rms eps:         %g\n", c.rms_eps);
  std::printf("rope theta:      %g\n", c.rope_theta);
  std::printf("q/k/v bias:      %s\n", c.qkv_bias ? "yes" : "no");
  std::printf("tied embeddings: %s\n", c.tie_embeddings ? "yes" : "no");

  std::map<std::string, std::pair<int, size_t>> by_type;
  size_t total = 0;
  int64_t params = 0;
  const auto tensors = source->all();
  for (const auto& t : tensors) {
    auto& e = by_type[std::string(dtype_name(t.dtype))];
    ++e.first;
    e.second += t.bytes;
    total += t.bytes;
    params += t.rows * t.cols;
  }
  std::printf("parameters:      %.3f B\n", static_cast<double>(params) / 1e9);
  std::printf("tensor bytes:    %s (%zu tensors)\n", human_bytes(static_cast<double>(total)).c_str(), tensors.size());
  for (const auto& [type, e] : by_type)
    std::printf("  %-6s %4d tensors %12s\n", type.c_str(), e.first, human_bytes(static_cast<double>(e.second)).c_str());
  if (args.has("tensors")) {
    for (const auto& t : tensors)
      std::printf("  %-32s %-6s [%lld, %lld] %zu bytes\n", t.name.c_str(), std::string(dtype_name(t.dtype)).c_str(),
                  static_cast<long long>(t.rows), static_cast<long long>(t.cols), t.bytes);
  }
  return 0;
}

}  // namespace ember::app
