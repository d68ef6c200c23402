// Downloading a model from the Hugging Face Hub into the cache (cache.h):
// list the repo's files at a revision (GET /api/models/REPO/revision/REV),
// then for each file ember needs ask its metadata (HEAD
// /REPO/resolve/COMMIT/FILE: X-Repo-Commit, ETag or X-Linked-Etag,
// X-Linked-Size or Content-Length, a redirect to the CDN for LFS files),
// download it into blobs/<etag>.incomplete (resuming with Range), check its
// size and, for LFS files, its sha256, rename it to blobs/<etag> and link it
// into snapshots/<commit>/; last, refs/<revision> -> commit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "hub/cache.h"
#include "hub/progress.h"

namespace ember::hub {

struct HubOptions {
  std::string endpoint = "https://huggingface.co";  // no trailing '/'
  std::string token;                                // sent as Authorization: Bearer, to the endpoint only
  bool offline = false;                             // no network at all: the cache or an error
  std::string cache_root;                           // the hub cache directory
  ProgressMode progress = ProgressMode::kAuto;
  int attempts = 5;  // per file: a transfer cut off mid-way resumes this many times in all
  long connect_timeout_s = 15;
  long stall_timeout_s = 60;

  // HF_ENDPOINT, HF_TOKEN (else HUGGING_FACE_HUB_TOKEN, else the token file
  // huggingface-cli login writes: $HF_TOKEN_PATH or $HF_HOME/token),
  // HF_HUB_OFFLINE (1/true/yes/on), and cache_dir().
  static HubOptions from_env();
};

// Which files of a repo ember downloads. With FILE, just that file. Else a
// safetensors model: config.json, generation_config.json, tokenizer.json,
// tokenizer_config.json, model.safetensors.index.json and the *.safetensors
// at the top of the repo; other files (*.bin, *.pt, images, ...) are
// skipped. An error names what is there instead (a GGUF repo's files).
Result<std::vector<std::string>> select_files(const std::string& repo, const std::vector<std::string>& siblings,
                                              const std::string& file);

struct PullResult {
  std::string commit;
  std::string snapshot;  // <cache>/models--ORG--NAME/snapshots/<commit>
  std::string path;      // the snapshot, or the snapshot's FILE
  int files_downloaded = 0;
  int files_cached = 0;  // already in the snapshot or as a blob
  uint64_t bytes_downloaded = 0;
};

// Downloads what SPEC needs at REVISION that the cache lacks. Offline, it
// answers from the cache or fails saying so.
Result<PullResult> pull(const RepoSpec& spec, const std::string& revision, const HubOptions& options);

}  // namespace ember::hub
