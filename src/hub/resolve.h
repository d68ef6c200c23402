// MODEL as the commands take it: a local model directory or .gguf file, or a
// Hugging Face repo id ("ORG/NAME", or "ORG/NAME:FILE.gguf" for one file of
// a GGUF repo) found in the Hugging Face cache or downloaded into it.
#pragma once

#include <string>

#include "base/status.h"
#include "hub/download.h"

namespace ember::hub {

// A path that exists is returned as is; a repo id is looked up in the cache
// at refs/main and, when it is not there, downloaded (unless offline).
Result<std::string> resolve_model(const std::string& model, const HubOptions& options);

}  // namespace ember::hub
