#include "hub/resolve.h"

#include <sys/stat.h>

#include "base/log.h"

namespace ember::hub {

Result<std::string> resolve_model(const std::string& model, const HubOptions& options) {
  struct stat st;
  if (::stat(model.c_str(), &st) == 0) return model;
  auto spec = parse_repo_spec(model);
  // "dir/model.gguf" reads as a repo id too, but means a local file that is not there.
  const bool gguf_path = model.size() > 5 && model.compare(model.size() - 5, 5, ".gguf") == 0 &&
                         model.find(':') == std::string::npos;
  if (gguf_path) return not_found(model + ": no such file");
  if (!spec.ok())
    return not_found("'" + model + "' is neither a local model directory or .gguf file nor a Hugging Face repo id "
                     "(ORG/NAME, or ORG/NAME:FILE.gguf)");
  if (auto cached = find_cached(options.cache_root, *spec, "main")) return *cached;
  if (!options.offline)
    LOG_INFO("%s is not in the Hugging Face cache (%s); downloading it", model.c_str(), options.cache_root.c_str());
  EMBER_ASSIGN_OR_RETURN(PullResult pulled, pull(*spec, "main", options));
  return pulled.path;
}

}  // namespace ember::hub
