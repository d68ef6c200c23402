// `ember pull`: download a model from the Hugging Face Hub into the Hugging
// Face cache (src/hub), and nothing else. Prints the local path on stdout.
#include <cstdio>
#include <string>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/model_flags.h"
#include "hub/download.h"
#include "hub/progress.h"

namespace ember::app {

int cmd_pull(int argc, char** argv) {
  CliArgs args("pull",
               "Downloads a model from the Hugging Face Hub into the Hugging Face cache ($HF_HUB_CACHE, "
               "$HF_HOME/hub or ~/.cache/huggingface/hub, shared with huggingface-cli) and prints its local "
               "path. A safetensors repo brings config, tokenizer and *.safetensors files; REPO:FILE.gguf "
               "brings that one file. Interrupted downloads resume. Honours HF_ENDPOINT, HF_TOKEN and "
               "HF_HUB_OFFLINE.");
  args.positional("REPO", "Hugging Face repo id (ORG/NAME), or ORG/NAME:FILE.gguf for one file of a GGUF repo");
  args.option("revision", "REV", "branch, tag or commit", "main");
  args.flag("quiet", "no progress output");
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;

  auto spec = hub::parse_repo_spec(args.positional_at(0));
  if (!spec.ok()) return report_error("pull", spec.status().message().c_str());
  hub::HubOptions options = hub::HubOptions::from_env();
  if (args.has("quiet")) options.progress = hub::ProgressMode::kNone;
  auto pulled = hub::pull(*spec, args.get("revision"), options);
  if (!pulled.ok()) return report_error("pull", pulled.status().message().c_str());
  if (!args.has("quiet"))
    std::fprintf(stderr, "%s at %s: %d file%s downloaded (%s), %d already cached\n", args.positional_at(0).c_str(),
                 pulled->commit.substr(0, 12).c_str(), pulled->files_downloaded,
                 pulled->files_downloaded == 1 ? "" : "s", hub::format_bytes(pulled->bytes_downloaded).c_str(),
                 pulled->files_cached);
  std::printf("%s\n", pulled->path.c_str());
  return 0;
}

}  // namespace ember::app
