// The Hugging Face cache, laid out exactly as huggingface_hub writes it, so
// that `huggingface-cli download` results are reused and ember's downloads
// are usable from Python:
//
//   <cache>/models--ORG--NAME/
//     blobs/<etag>                     the file's bytes (etag: sha256 for LFS
//                                      files, the git blob sha1 otherwise)
//     blobs/<etag>.incomplete          a download in progress (resumable)
//     snapshots/<commit>/<file>        relative symlink ../../blobs/<etag>
//     refs/<revision>                  the commit a branch or tag pointed at
//   <cache>/.locks/models--ORG--NAME/<etag>.lock   one writer per blob
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace ember::hub {

// The hub cache directory: $HF_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
std::string cache_dir();

// "ORG/NAME" or "ORG/NAME:FILE" (FILE: one file of the repo, e.g. a .gguf).
struct RepoSpec {
  std::string repo;
  std::string file;  // empty: the repo's model files
};
Result<RepoSpec> parse_repo_spec(const std::string& text);

// A file name inside a repo as the Hub gives it: relative, '/'-separated, no
// "." / ".." components, no NUL or backslash.
bool valid_repo_file(const std::string& name);
// A commit hash or etag: it becomes a file name, so [0-9A-Za-z._-] only.
bool valid_object_name(const std::string& name);
// A revision (branch, tag, "refs/pr/1", commit): relative, no "..".
bool valid_revision(const std::string& revision);
bool is_commit_hash(const std::string& revision);  // 40 lowercase hex digits

// "models--ORG--NAME".
std::string repo_folder_name(const std::string& repo);

// One repo's folder in the cache.
class RepoCache {
 public:
  RepoCache(std::string cache_root, std::string repo);

  const std::string& repo() const { return repo_; }
  const std::string& root() const { return root_; }
  const std::string& dir() const { return dir_; }
  std::string blob_path(const std::string& etag) const { return dir_ + "/blobs/" + etag; }
  std::string incomplete_path(const std::string& etag) const { return blob_path(etag) + ".incomplete"; }
  std::string snapshot_dir(const std::string& commit) const { return dir_ + "/snapshots/" + commit; }
  std::string lock_path(const std::string& etag) const;

  // The commit refs/<revision> holds, or the revision itself when it is a
  // commit hash with a snapshot; nullopt when neither.
  std::optional<std::string> resolve_revision(const std::string& revision) const;
  Status write_ref(const std::string& revision, const std::string& commit) const;
  // snapshots/<commit>/<file> -> ../../blobs/<etag> (one more ../ per
  // folder in FILE), replacing what was there.
  Status link_snapshot_file(const std::string& commit, const std::string& file, const std::string& etag) const;
  // The blob the snapshot file points at, if the link resolves.
  bool snapshot_file_present(const std::string& commit, const std::string& file) const;

 private:
  std::string repo_, root_, dir_;
};

// Whether a snapshot folder holds a loadable safetensors model: config.json,
// and either model.safetensors.index.json with every shard it names or at
// least one *.safetensors file.
bool snapshot_has_safetensors_model(const std::string& snapshot);

// The cached path for SPEC at REVISION: the snapshot folder (a complete
// safetensors model) or the snapshot's FILE; nullopt when not cached.
std::optional<std::string> find_cached(const std::string& cache_root, const RepoSpec& spec, const std::string& revision);

// `ember ls`: one entry per snapshot of every cached model repo.
struct CachedSnapshot {
  std::string repo;
  std::string commit;
  std::vector<std::string> refs;   // revisions pointing at this commit
  std::vector<std::string> files;  // relative to the snapshot, sorted
  uint64_t bytes = 0;              // sizes of the distinct blobs the files use
  uint64_t incomplete_bytes = 0;   // the repo's unfinished downloads (first row of the repo)
  std::string kind;                // "safetensors", "gguf", or "other"
};
std::vector<CachedSnapshot> list_cached(const std::string& cache_root);

}  // namespace ember::hub
