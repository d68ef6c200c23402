#include "hub/cache.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

namespace ember::hub {

namespace fs = std::filesystem;

std::string cache_dir() {
  if (const char* c = std::getenv("HF_HUB_CACHE"); c && *c) return c;
  if (const char* h = std::getenv("HF_HOME"); h && *h) return std::string(h) + "/hub";
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/huggingface/hub";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/huggingface/hub";
}

namespace {

// The Hub's rule for an owner or repo name: letters, digits, '-', '_', '.',
// not starting or ending with '-' or '.', no "--" or "..".
bool valid_name_part(const std::string& s) {
  if (s.empty() || s.size() > 96) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  if (s.front() == '-' || s.front() == '.' || s.back() == '-' || s.back() == '.') return false;
  return s.find("--") == std::string::npos && s.find("..") == std::string::npos;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Writes CONTENT to PATH through a temporary file and a rename.
Status write_atomically(const std::string& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) return io_error("cannot write " + tmp);
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return io_error("cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
  return ok_status();
}

}  // namespace

Result<RepoSpec> parse_repo_spec(const std::string& text) {
  RepoSpec spec;
  spec.repo = text;
  if (size_t colon = text.find(':'); colon != std::string::npos) {
    spec.repo = text.substr(0, colon);
    spec.file = text.substr(colon + 1);
    if (!valid_repo_file(spec.file))
      return invalid_argument("'" + text + "': '" + spec.file + "' is not a file name inside a repo");
  }
  const size_t slash = spec.repo.find('/');
  if (slash == std::string::npos || !valid_name_part(spec.repo.substr(0, slash)) ||
      !valid_name_part(spec.repo.substr(slash + 1)))
    return invalid_argument("'" + text + "' is not a Hugging Face repo id (ORG/NAME, or ORG/NAME:FILE.gguf)");
  return spec;
}

bool valid_repo_file(const std::string& name) {
  if (name.empty() || name.size() > 1024 || name.front() == '/' || name.back() == '/') return false;
  if (name.find('\\') != std::string::npos || name.find('\0') != std::string::npos) return false;
  std::stringstream parts(name);
  std::string part;
  while (std::getline(parts, part, '/'))
    if (part.empty() || part == "." || part == "..") return false;
  return true;
}

bool valid_object_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

bool valid_revision(const std::string& revision) { return valid_repo_file(revision) && revision.size() <= 256; }

bool is_commit_hash(const std::string& revision) {
  return revision.size() == 40 &&
         std::all_of(revision.begin(), revision.end(), [](char c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); });
}

std::string repo_folder_name(const std::string& repo) {
  std::string name = "models--";
  for (char c : repo) {
    if (c == '/') name += "--";
    else name += c;
  }
  return name;
}

RepoCache::RepoCache(std::string cache_root, std::string repo)
    : repo_(std::move(repo)), root_(std::move(cache_root)), dir_(root_ + "/" + repo_folder_name(repo_)) {}

std::string RepoCache::lock_path(const std::string& etag) const {
  return root_ + "/.locks/" + repo_folder_name(repo_) + "/" + etag + ".lock";
}

std::optional<std::string> RepoCache::resolve_revision(const std::string& revision) const {
  if (!valid_revision(revision)) return std::nullopt;
  std::error_code ec;
  if (std::ifstream ref(dir_ + "/refs/" + revision); ref) {
    std::string commit;
    std::getline(ref, commit);
    commit = trim(commit);
    if (valid_object_name(commit)) return commit;
  }
  if (is_commit_hash(revision) && fs::is_directory(snapshot_dir(revision), ec)) return revision;
  return std::nullopt;
}

Status RepoCache::write_ref(const std::string& revision, const std::string& commit) const {
  if (!valid_revision(revision) || !valid_object_name(commit)) return invalid_argument("bad revision or commit");
  return write_atomically(dir_ + "/refs/" + revision, commit);  // no newline, as huggingface_hub writes it
}

Status RepoCache::link_snapshot_file(const std::string& commit, const std::string& file, const std::string& etag) const {
  if (!valid_object_name(commit) || !valid_repo_file(file) || !valid_object_name(etag))
    return invalid_argument("bad snapshot link " + commit + "/" + file);
  const fs::path pointer = fs::path(snapshot_dir(commit)) / file;
  std::string target;
  for (size_t i = 0, depth = std::count(file.begin(), file.end(), '/') + 2; i < depth; ++i) target += "../";
  target += "blobs/" + etag;
  std::error_code ec;
  fs::create_directories(pointer.parent_path(), ec);
  if (ec) return io_error("cannot create " + pointer.parent_path().string() + ": " + ec.message());
  const fs::path tmp = pointer.string() + ".tmp." + std::to_string(::getpid());
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp, ec);
  if (ec) return io_error("cannot create the symlink " + tmp.string() + ": " + ec.message());
  fs::rename(tmp, pointer, ec);  // replaces an older link atomically
  if (ec) {
    fs::remove(tmp, ec);
    return io_error("cannot create " + pointer.string() + ": " + ec.message());
  }
  return ok_status();
}

bool RepoCache::snapshot_file_present(const std::string& commit, const std::string& file) const {
  std::error_code ec;
  return fs::is_regular_file(fs::path(snapshot_dir(commit)) / file, ec);  // follows the link
}

bool snapshot_has_safetensors_model(const std::string& snapshot) {
  std::error_code ec;
  const fs::path dir(snapshot);
  if (!fs::is_regular_file(dir / "config.json", ec)) return false;
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::is_regular_file(index, ec)) {
    std::ifstream in(index);
    const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) return false;
    std::set<std::string> shards;
    for (const auto& [name, shard] : j["weight_map"].items())
      if (shard.is_string()) shards.insert(shard.get<std::string>());
    if (shards.empty()) return false;
    for (const auto& s : shards)
      if (!valid_repo_file(s) || !fs::is_regular_file(dir / s, ec)) return false;
    return true;
  }
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (ends_with(e.path().filename().string(), ".safetensors") && fs::is_regular_file(e.path(), ec)) return true;
  return false;
}

std::optional<std::string> find_cached(const std::string& cache_root, const RepoSpec& spec, const std::string& revision) {
  const RepoCache cache(cache_root, spec.repo);
  const auto commit = cache.resolve_revision(revision);
  if (!commit) return std::nullopt;
  const std::string snapshot = cache.snapshot_dir(*commit);
  if (!spec.file.empty()) {
    if (!cache.snapshot_file_present(*commit, spec.file)) return std::nullopt;
    return snapshot + "/" + spec.file;
  }
  if (!snapshot_has_safetensors_model(snapshot)) return std::nullopt;
  return snapshot;
}

std::vector<CachedSnapshot> list_cached(const std::string& cache_root) {
  std::vector<CachedSnapshot> out;
  std::error_code ec;
  std::vector<fs::path> repos;
  for (const auto& e : fs::directory_iterator(cache_root, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("models--", 0) == 0 && e.is_directory(ec)) repos.push_back(e.path());
  }
  std::sort(repos.begin(), repos.end());
  for (const fs::path& repo_dir : repos) {
    // models--ORG--NAME: names never hold "--", so the first one splits.
    std::string repo = repo_dir.filename().string().substr(8);
    if (size_t sep = repo.find("--"); sep != std::string::npos) repo.replace(sep, 2, "/");
    // refs/<revision> (nested for refs/pr/N) -> commit.
    std::map<std::string, std::vector<std::string>> refs_by_commit;
    const fs::path refs = repo_dir / "refs";
    std::error_code walk;
    for (auto it = fs::recursive_directory_iterator(refs, walk); !walk && it != fs::recursive_directory_iterator();
         it.increment(walk)) {
      if (!it->is_regular_file(ec)) continue;
      std::ifstream in(it->path());
      std::string commit;
      std::getline(in, commit);
      refs_by_commit[trim(commit)].push_back(it->path().lexically_relative(refs).generic_string());
    }
    uint64_t incomplete = 0;
    for (const auto& b : fs::directory_iterator(repo_dir / "blobs", ec))
      if (ends_with(b.path().filename().string(), ".incomplete")) incomplete += b.file_size(ec);
    std::vector<fs::path> snapshots;
    for (const auto& s : fs::directory_iterator(repo_dir / "snapshots", ec))
      if (s.is_directory(ec)) snapshots.push_back(s.path());
    std::sort(snapshots.begin(), snapshots.end());
    for (const fs::path& snap : snapshots) {
      CachedSnapshot row;
      row.repo = repo;
      row.commit = snap.filename().string();
      row.refs = refs_by_commit[row.commit];
      std::sort(row.refs.begin(), row.refs.end());
      std::set<std::string> blobs;
      bool gguf = false, safetensors = false;
      std::error_code walk_snap;
      for (auto it = fs::recursive_directory_iterator(snap, walk_snap);
           !walk_snap && it != fs::recursive_directory_iterator(); it.increment(walk_snap)) {
        if (it->is_directory(ec)) continue;
        const std::string rel = it->path().lexically_relative(snap).generic_string();
        if (!it->is_regular_file(ec)) continue;  // a dangling link: a file not downloaded
        row.files.push_back(rel);
        const std::string target = fs::canonical(it->path(), ec).string();
        if (!ec && blobs.insert(target).second) row.bytes += fs::file_size(target, ec);
        if (ends_with(rel, ".gguf")) gguf = true;
        if (ends_with(rel, ".safetensors")) safetensors = true;
      }
      std::sort(row.files.begin(), row.files.end());
      row.kind = safetensors && snapshot_has_safetensors_model(snap.string()) ? "safetensors" : gguf ? "gguf" : "other";
      if (out.empty() || out.back().repo != repo) row.incomplete_bytes = incomplete;
      out.push_back(std::move(row));
    }
  }
  return out;
}

}  // namespace ember::hub
