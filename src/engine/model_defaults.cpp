#include "engine/model_defaults.h"

#include "base/log.h"
#include "base/mapped_file.h"
#include "formats/gguf.h"

namespace ember::engine {

std::optional<sampling::GenerationDefaults> generation_defaults(const model::Model& model) {
  if (!is_directory(model.path())) return std::nullopt;
  const std::string path = model.path() + "/generation_config.json";
  if (!file_exists(path)) return std::nullopt;
  auto text = read_file(path);
  if (!text.ok()) return std::nullopt;
  auto d = sampling::parse_generation_config(*text);
  if (!d.ok()) {
    LOG_WARN("%s: %s; ignoring it", path.c_str(), d.status().message().c_str());
    return std::nullopt;
  }
  return *d;
}

std::vector<int32_t> eos_token_ids(const model::Model& model) {
  if (auto d = generation_defaults(model); d && !d->eos_token_ids.empty()) return d->eos_token_ids;
  if (model.gguf()) {
    if (auto id = model.gguf()->get_int("tokenizer.ggml.eos_token_id"); id.ok())
      return {static_cast<int32_t>(*id)};
  }
  return {};
}

}  // namespace ember::engine
