#include "hub/download.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "hub/http.h"
#include "hub/sha256.h"

namespace ember::hub {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool truthy(const char* v) {
  if (!v) return false;
  std::string s(v);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "1" || s == "true" || s == "yes" || s == "on";
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  return line;
}

std::string join(const std::vector<std::string>& v, size_t max_items) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max_items; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > max_items) s += ", ... (" + std::to_string(v.size()) + " in all)";
  return s;
}

// One pull's state: options, where it writes, what it printed.
struct Puller {
  const HubOptions& opt;
  const RepoSpec& spec;
  const std::string& revision;
  RepoCache cache;
  Progress progress;
  PullResult result;

  HttpRequest request(const std::string& method, const std::string& url) const {
    HttpRequest r;
    r.method = method;
    r.url = url;
    r.bearer_token = opt.token;
    r.auth_origin = url_origin(opt.endpoint);
    r.connect_timeout_s = opt.connect_timeout_s;
    r.stall_timeout_s = opt.stall_timeout_s;
    return r;
  }

  // The host cannot be reached: say what the cache holds and what to do.
  Status unreachable(const std::string& error, const std::string& host = "") const {
    std::string msg = "cannot reach " + (host.empty() ? opt.endpoint : host) + ": " + error;
    if (auto cached = find_cached(cache.root(), spec, revision))
      msg += "; the cache keeps what it had at " + *cached;
    else
      msg += "; the model is not in the cache at " + cache.dir() +
             "; set HF_ENDPOINT (a mirror) or download it with huggingface-cli";
    return io_error(msg);
  }

  // An HTTP error status about WHAT ("repo X" or "file F of X").
  Status http_error(const HttpResponse& r, const std::string& url, const std::string& file) const {
    const std::string code = r.header("x-error-code");
    std::string detail = r.header("x-error-message");
    detail = "HTTP " + std::to_string(r.status) + (detail.empty() ? "" : " (" + detail + ")");
    const std::string token_hint = opt.token.empty()
                                       ? "set HF_TOKEN to a token that can read it"
                                       : "the token in HF_TOKEN cannot read it (accept the model's terms on its page?)";
    if (r.status == 401 || r.status == 403) {
      if (code == "GatedRepo" || r.status == 403)
        return invalid_argument(spec.repo + " is gated or private: " + detail + " from " + url + "; " + token_hint);
      return invalid_argument(spec.repo + " does not exist or is private or gated: " + detail + " from " + url + "; " +
                              token_hint);
    }
    if (r.status == 404) {
      if (code == "RevisionNotFound")
        return not_found("no revision '" + revision + "' in " + spec.repo + ": " + detail + " from " + url);
      if (code == "EntryNotFound" || (!file.empty() && code != "RepoNotFound"))
        return not_found("no file '" + file + "' in " + spec.repo + ": " + detail + " from " + url);
      return not_found("no model repo " + spec.repo + " on " + opt.endpoint + ": " + detail + " from " + url);
    }
    return io_error(url + ": " + detail);
  }

  struct RepoInfo {
    std::string commit;
    std::vector<std::string> files;
  };

  Result<RepoInfo> repo_info() const {
    const std::string url = opt.endpoint + "/api/models/" + spec.repo + "/revision/" + url_encode(revision, false);
    HttpResponse r = http_request(request("GET", url));
    if (!r.transport_ok()) return unreachable(r.error);
    if (r.status != 200) return http_error(r, url, "");
    auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("sha") || !j["sha"].is_string() || !j.contains("siblings") ||
        !j["siblings"].is_array())
      return corrupt(url + ": not the Hub's model info (a JSON object with \"sha\" and \"siblings\")");
    RepoInfo info;
    info.commit = j["sha"].get<std::string>();
    if (!valid_object_name(info.commit)) return corrupt(url + ": \"sha\" is not a commit hash");
    for (const auto& s : j["siblings"])
      if (s.is_object() && s.contains("rfilename") && s["rfilename"].is_string()) {
        std::string name = s["rfilename"].get<std::string>();
        if (valid_repo_file(name)) info.files.push_back(std::move(name));  // a name ember could not store is skipped
      }
    std::sort(info.files.begin(), info.files.end());
    return info;
  }

  struct FileMeta {
    std::string etag;
    std::string location;  // where the bytes are (the CDN for LFS files)
    uint64_t size = 0;
    bool size_known = false;
  };

  // HEAD /REPO/resolve/COMMIT/FILE without following the CDN redirect: its
  // headers carry the etag and size (X-Linked-* for LFS files). Relative
  // redirects (a renamed repo) are followed.
  Result<FileMeta> file_meta(const std::string& commit, const std::string& file) const {
    std::string url = opt.endpoint + "/" + spec.repo + "/resolve/" + commit + "/" + url_encode(file, true);
    HttpResponse r;
    for (int hop = 0;; ++hop) {
      HttpRequest req = request("HEAD", url);
      req.follow_redirects = false;
      r = http_request(req);
      if (!r.transport_ok()) return unreachable(r.error);
      const std::string loc = r.header("location");
      if (r.status >= 300 && r.status < 400 && !loc.empty() && loc[0] == '/' && r.header("x-linked-etag").empty() &&
          hop < 5) {
        url = url_origin(url) + loc;
        continue;
      }
      break;
    }
    const bool redirect = r.status >= 300 && r.status < 400;
    if (!(r.status >= 200 && r.status < 300) && !redirect) return http_error(r, url, file);
    FileMeta m;
    std::string etag = r.header("x-linked-etag");
    if (etag.empty()) etag = r.header("etag");
    if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    if (!valid_object_name(etag))
      return corrupt(url + ": no usable ETag header (got '" + etag + "'), so the file cannot be stored in the cache");
    m.etag = etag;
    std::string size = r.header("x-linked-size");
    if (size.empty()) size = r.header("content-length");
    if (!size.empty() && size.find_first_not_of("0123456789") == std::string::npos && size.size() < 20) {
      m.size = std::strtoull(size.c_str(), nullptr, 10);
      m.size_known = true;
    }
    m.location = url;
    if (redirect) {
      const std::string loc = r.header("location");
      if (loc.empty()) return corrupt(url + ": HTTP " + std::to_string(r.status) + " without a Location");
      m.location = loc[0] == '/' ? url_origin(url) + loc : loc;
    }
    return m;
  }

  // Fills blobs/<etag>.incomplete up to the file's size, resuming what is
  // there. Ok when the transfer completed.
  Status fetch(const std::string& file, const FileMeta& meta, const std::string& incomplete) {
    std::error_code ec;
    for (int attempt = 1;; ++attempt) {
      uint64_t have = fs::exists(incomplete, ec) ? fs::file_size(incomplete, ec) : 0;
      if (meta.size_known && have > meta.size) {
        fs::remove(incomplete, ec);
        have = 0;
      }
      if (meta.size_known && have == meta.size && have > 0) return ok_status();
      if (meta.size_known) {
        struct statvfs vfs;
        const uint64_t need = meta.size - have;
        if (::statvfs(fs::path(incomplete).parent_path().c_str(), &vfs) == 0 &&
            static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize < need)
          return resource_exhausted("not enough disk space for " + file + ": it needs " + format_bytes(need) +
                                    ", " + format_bytes(static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize) +
                                    " are free in " + cache.root());
      }
      FILE* f = std::fopen(incomplete.c_str(), "ab");
      if (!f) return io_error("cannot write " + incomplete);
      HttpRequest req = request("GET", meta.location);
      req.sink = f;
      req.resume_from = have;
      req.on_progress = [this](uint64_t n) { progress.update(n); };
      progress.start_file(file, meta.size_known ? meta.size : 0, have);
      HttpResponse r = http_request(req);
      std::fclose(f);
      const bool body = r.status == 200 || r.status == 206;
      progress.finish_file(r.transport_ok() && body);
      result.bytes_downloaded += r.restarted ? r.file_size : r.file_size - std::min(r.file_size, have);
      if (r.transport_ok() && body) return ok_status();
      if (r.transport_ok() && r.status == 416 && attempt < opt.attempts) {
        fs::remove(incomplete, ec);  // the server cannot continue this partial file: start over
        continue;
      }
      if (r.transport_ok()) return http_error(r, meta.location, file);
      if (r.status == 0 && r.file_size == have) return unreachable(r.error, url_origin(meta.location));
      const bool progressed = r.restarted || r.file_size > have;
      if (progressed && attempt < opt.attempts) {
        progress.message("  " + file + ": " + r.error + " after " + format_bytes(r.file_size) + "; resuming");
        continue;
      }
      return io_error("downloading " + file + " from " + meta.location + ": " + r.error + " after " +
                      format_bytes(r.file_size) + (meta.size_known ? " of " + format_bytes(meta.size) : "") +
                      "; the partial download is kept in " + incomplete + "; run the same command again to resume");
    }
  }

  // Downloads FILE into blobs/<etag> (unless there) and checks it.
  Status download_blob(const std::string& file, const FileMeta& meta) {
    std::error_code ec;
    const std::string blob = cache.blob_path(meta.etag);
    auto blob_ok = [&] {
      return fs::is_regular_file(blob, ec) && (!meta.size_known || fs::file_size(blob, ec) == meta.size);
    };
    if (blob_ok()) {
      ++result.files_cached;
      return ok_status();
    }
    fs::create_directories(fs::path(blob).parent_path(), ec);
    const std::string lock = cache.lock_path(meta.etag);
    fs::create_directories(fs::path(lock).parent_path(), ec);
    // One writer per blob (huggingface_hub takes the same lock file).
    const int lock_fd = ::open(lock.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (lock_fd < 0) return io_error("cannot open the lock file " + lock);
    struct Unlock {
      int fd;
      ~Unlock() { ::close(fd); }
    } unlock{lock_fd};
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      progress.message("  " + file + ": waiting for another download of it (" + lock + ")");
      if (::flock(lock_fd, LOCK_EX) != 0) return io_error("cannot lock " + lock);
    }
    if (blob_ok()) {  // the other download finished it
      ++result.files_cached;
      return ok_status();
    }
    const std::string incomplete = cache.incomplete_path(meta.etag);
    const bool lfs = is_sha256_hex(meta.etag);
    for (bool resumed = fs::exists(incomplete, ec);;) {
      EMBER_RETURN_IF_ERROR(fetch(file, meta, incomplete));
      const uint64_t got = fs::file_size(incomplete, ec);
      if (meta.size_known && got != meta.size) {
        if (got > meta.size) fs::remove(incomplete, ec);
        return corrupt(file + ": the download has " + std::to_string(got) + " bytes, the Hub says " +
                       std::to_string(meta.size) +
                       (got < meta.size ? "; run the same command again to resume" : "; it was removed"));
      }
      if (lfs) {
        EMBER_ASSIGN_OR_RETURN(std::string sha, sha256_file(incomplete));
        if (sha != meta.etag) {
          fs::remove(incomplete, ec);
          if (resumed) {  // the kept partial file may have been bad: once more from the start
            progress.message("  " + file + ": sha256 mismatch after resuming; downloading it again from the start");
            resumed = false;
            continue;
          }
          return corrupt(file + ": the download's sha256 is " + sha + " but the Hub's ETag says " + meta.etag +
                         "; the download was removed");
        }
      }
      break;
    }
    fs::rename(incomplete, blob, ec);
    if (ec) return io_error("cannot rename " + incomplete + " to " + blob + ": " + ec.message());
    ++result.files_downloaded;
    return ok_status();
  }

  // The *.safetensors shards model.safetensors.index.json names.
  Result<std::set<std::string>> index_shards(const std::string& commit) const {
    std::ifstream in(cache.snapshot_dir(commit) + "/model.safetensors.index.json");
    const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      return corrupt(spec.repo + ": model.safetensors.index.json has no \"weight_map\" object");
    std::set<std::string> shards;
    for (const auto& [name, shard] : j["weight_map"].items())
      if (shard.is_string()) shards.insert(shard.get<std::string>());
    return shards;
  }

  Status get_file(const std::string& commit, const std::string& file) {
    if (cache.snapshot_file_present(commit, file)) {
      ++result.files_cached;
      return ok_status();
    }
    EMBER_ASSIGN_OR_RETURN(FileMeta meta, file_meta(commit, file));
    EMBER_RETURN_IF_ERROR(download_blob(file, meta));
    return cache.link_snapshot_file(commit, file, meta.etag);
  }

  Result<PullResult> run() {
    if (!valid_revision(revision)) return invalid_argument("'" + revision + "' is not a revision (branch, tag or commit)");
    if (opt.offline) {
      if (auto cached = find_cached(cache.root(), spec, revision)) {
        result.commit = *cache.resolve_revision(revision);
        result.snapshot = cache.snapshot_dir(result.commit);
        result.path = *cached;
        return result;
      }
      return not_found((spec.file.empty() ? spec.repo : spec.repo + ":" + spec.file) +
                       " is not in the Hugging Face cache at " + cache.dir() + " (revision " + revision +
                       ") and HF_HUB_OFFLINE is set, so it cannot be downloaded; unset HF_HUB_OFFLINE and run "
                       "`ember pull " + spec.repo + (spec.file.empty() ? "" : ":" + spec.file) + "`");
    }
    EMBER_ASSIGN_OR_RETURN(RepoInfo info, repo_info());
    EMBER_ASSIGN_OR_RETURN(std::vector<std::string> files, select_files(spec.repo, info.files, spec.file));
    result.commit = info.commit;
    result.snapshot = cache.snapshot_dir(info.commit);
    progress.message("pulling " + spec.repo + (spec.file.empty() ? "" : ":" + spec.file) + " (" + revision +
                     (revision == info.commit ? "" : " = " + info.commit.substr(0, 12)) + ") from " + opt.endpoint +
                     " into " + cache.dir());
    // Everything but the weights first: the index says which shards count.
    std::vector<std::string> weights;
    for (const auto& f : files) {
      if (spec.file.empty() && ends_with(f, ".safetensors")) weights.push_back(f);
      else EMBER_RETURN_IF_ERROR(get_file(info.commit, f));
    }
    if (std::find(files.begin(), files.end(), "model.safetensors.index.json") != files.end() && spec.file.empty()) {
      EMBER_ASSIGN_OR_RETURN(std::set<std::string> shards, index_shards(info.commit));
      for (const auto& s : shards)
        if (std::find(weights.begin(), weights.end(), s) == weights.end())
          return corrupt(spec.repo + ": model.safetensors.index.json names " + s + ", which the repo does not have");
      weights.clear();
      for (const auto& s : shards) weights.push_back(s);
    }
    for (const auto& w : weights) EMBER_RETURN_IF_ERROR(get_file(info.commit, w));
    if (revision != info.commit) EMBER_RETURN_IF_ERROR(cache.write_ref(revision, info.commit));
    result.path = spec.file.empty() ? result.snapshot : result.snapshot + "/" + spec.file;
    return result;
  }
};

}  // namespace

HubOptions HubOptions::from_env() {
  HubOptions o;
  if (const char* e = std::getenv("HF_ENDPOINT"); e && *e) o.endpoint = e;
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  if (const char* t = std::getenv("HF_TOKEN"); t && *t) o.token = t;
  else if (const char* t2 = std::getenv("HUGGING_FACE_HUB_TOKEN"); t2 && *t2) o.token = t2;
  else {
    std::string path;
    if (const char* p = std::getenv("HF_TOKEN_PATH"); p && *p) path = p;
    else if (const char* h = std::getenv("HF_HOME"); h && *h) path = std::string(h) + "/token";
    else if (const char* home = std::getenv("HOME"); home && *home) path = std::string(home) + "/.cache/huggingface/token";
    if (!path.empty()) o.token = first_line(path);
  }
  o.offline = truthy(std::getenv("HF_HUB_OFFLINE"));
  o.cache_root = cache_dir();
  return o;
}

Result<std::vector<std::string>> select_files(const std::string& repo, const std::vector<std::string>& siblings,
                                              const std::string& file) {
  if (!file.empty()) {
    if (std::find(siblings.begin(), siblings.end(), file) != siblings.end()) return std::vector<std::string>{file};
    std::vector<std::string> ggufs;
    for (const auto& s : siblings)
      if (ends_with(s, ".gguf")) ggufs.push_back(s);
    return not_found("no file '" + file + "' in " + repo + "; its " +
                     (ggufs.empty() ? "files: " + join(siblings, 20) : ".gguf files: " + join(ggufs, 40)));
  }
  static const std::set<std::string> kSmall = {
      "config.json",          "generation_config.json", "tokenizer.json",     "tokenizer_config.json",
      "chat_template.jinja",  "chat_template.json",     "model.safetensors.index.json"};
  std::vector<std::string> out, weights, ggufs;
  for (const auto& s : siblings) {
    if (ends_with(s, ".gguf")) ggufs.push_back(s);
    if (s.find('/') != std::string::npos) continue;  // only the top folder holds the model
    if (kSmall.count(s)) out.push_back(s);
    else if (ends_with(s, ".safetensors")) weights.push_back(s);
  }
  if (weights.empty()) {
    if (!ggufs.empty())
      return invalid_argument(repo + " has no *.safetensors weights; it is a GGUF repo: pick a file with REPO:FILE, e.g. " +
                              repo + ":" + ggufs.front() + " (its .gguf files: " + join(ggufs, 40) + ")");
    return unsupported(repo + " has neither *.safetensors weights nor .gguf files ember can load (its files: " +
                       join(siblings, 20) + ")");
  }
  if (std::find(out.begin(), out.end(), "config.json") == out.end())
    return unsupported(repo + " has *.safetensors weights but no config.json");
  out.insert(out.end(), weights.begin(), weights.end());
  return out;
}

Result<PullResult> pull(const RepoSpec& spec, const std::string& revision, const HubOptions& options) {
  Puller p{options, spec, revision, RepoCache(options.cache_root, spec.repo), Progress(options.progress), {}};
  return p.run();
}

}  // namespace ember::hub
