// Sampling flags of `ember run` / `ember chat` and the model defaults they
// override (generation_config.json of a model directory, as vLLM applies it).
#pragma once

#include <string>
#include <vector>

#include "app/cli_args.h"
#include "model/model.h"
#include "sampling/sampling_params.h"

namespace ember::app {

void add_sampling_flags(CliArgs& args);

// Model defaults first, then every flag the user gave.
Result<sampling::SamplingParams> sampling_from_flags(const CliArgs& args, const model::Model& model);

}  // namespace ember::app
