// `ember ls`: the models in the Hugging Face cache (src/hub), one row per
// cached snapshot: repo, revision(s), commit, size on disk, what it holds.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/model_flags.h"
#include "hub/cache.h"
#include "hub/progress.h"

namespace ember::app {

int cmd_ls(int argc, char** argv) {
  CliArgs args("ls",
               "Lists the models in the Hugging Face cache ($HF_HUB_CACHE, $HF_HOME/hub or "
               "~/.cache/huggingface/hub): those `ember pull` and huggingface-cli downloaded.");
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;

  const std::string root = hub::cache_dir();
  const auto snapshots = hub::list_cached(root);
  if (snapshots.empty()) {
    std::fprintf(stderr, "no models in the Hugging Face cache at %s\n", root.c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"REPO", "REVISION", "COMMIT", "SIZE", "FILES"}};
  std::vector<std::string> notes;
  for (const auto& s : snapshots) {
    std::string refs;
    for (const auto& r : s.refs) refs += (refs.empty() ? "" : ",") + r;
    std::string what;
    if (s.kind == "safetensors") {
      int shards = 0;
      for (const auto& f : s.files) shards += f.size() > 12 && f.compare(f.size() - 12, 12, ".safetensors") == 0;
      what = "safetensors (" + std::to_string(shards) + " weight file" + (shards == 1 ? "" : "s") + ", " +
             std::to_string(s.files.size()) + " files)";
    } else {
      std::vector<std::string> shown;
      for (const auto& f : s.files)
        if (s.kind != "gguf" || (f.size() > 5 && f.compare(f.size() - 5, 5, ".gguf") == 0)) shown.push_back(f);
      what = s.kind + ":";
      for (size_t i = 0; i < shown.size(); ++i) what += (i ? ", " : " ") + shown[i];
      if (shown.empty()) what += " (no files)";
    }
    rows.push_back({s.repo, refs.empty() ? "-" : refs, s.commit.substr(0, 12), hub::format_bytes(s.bytes), what});
    if (s.incomplete_bytes)
      notes.push_back(s.repo + ": " + hub::format_bytes(s.incomplete_bytes) +
                      " of unfinished downloads; `ember pull " + s.repo + "` resumes them");
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
  for (const auto& n : notes) std::printf("%s\n", n.c_str());
  std::fprintf(stderr, "cache: %s\n", root.c_str());
  return 0;
}

}  // namespace ember::app
