// What a model ships besides its weights that the engine applies: sampling
// defaults (generation_config.json, as vLLM applies them) and the tokens
// that end a sequence.
#pragma once

#include <optional>
#include <vector>

#include "model/model.h"
#include "sampling/sampling_params.h"

namespace ember::engine {

// generation_config.json of a model directory; nullopt when absent or bad.
std::optional<sampling::GenerationDefaults> generation_defaults(const model::Model& model);

// generation_config.json's eos_token_id, else the GGUF's
// tokenizer.ggml.eos_token_id; empty when neither says.
std::vector<int32_t> eos_token_ids(const model::Model& model);

}  // namespace ember::engine
