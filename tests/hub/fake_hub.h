// A Hugging Face Hub on loopback (cpp-httplib, in-process) serving fixture
// files in the Hub's URL layout, for the downloader's tests:
//   GET  /api/models/ORG/NAME/revision/REV  -> {"id", "sha", "siblings": [{"rfilename"}]}
//   HEAD/GET /ORG/NAME/resolve/REV/FILE     -> small files: 200, ETag = git blob sha1;
//        LFS files: 302 to the CDN with X-Linked-Etag = sha256, X-Linked-Size
//        (both with X-Repo-Commit)
//   GET  /cdn/SHA256                        -> the bytes, with Range support
// Errors as the Hub answers them (X-Error-Code RepoNotFound, EntryNotFound,
// RevisionNotFound, GatedRepo). Switches cut a transfer mid-way, corrupt a
// file's bytes, or require a token. Every request is recorded.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ember::hub::testing {

struct FakeFile {
  std::string name;
  std::string content;
  bool lfs = false;
  std::string etag() const;  // sha256 (LFS) or the git blob sha1, as the Hub gives them
  mutable std::string etag_cache = {};  // computed once; a test that changes content makes a new FakeFile
};

struct FakeRepo {
  std::string id;      // ORG/NAME
  std::string commit;  // what "main" points at
  std::vector<FakeFile> files;
  bool needs_token = false;  // gated: 401 without a token, 403 with a wrong one
};

std::string sha256_of(const std::string& bytes);
std::string git_blob_sha1(const std::string& bytes);
std::string read_file(const std::string& path);

class FakeHub {
 public:
  FakeHub();
  ~FakeHub();

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void add_repo(const FakeRepo& repo);

  struct Hit {
    std::string method, path, range, authorization;
  };
  std::vector<Hit> hits();
  void clear_hits();
  // Requests whose method is METHOD and path starts with PREFIX.
  int count(const std::string& method, const std::string& prefix);

  // The next CDN transfer of cut_file sends cut_after bytes and then drops
  // the connection (once; -1: off).
  std::atomic<int64_t> cut_after{-1};
  std::string cut_file = "model.safetensors";
  // The CDN serves this LFS file with one byte changed.
  std::string corrupt_file;
  // The token a needs_token repo takes.
  std::string token = "hf_test_token";
  // Renamed repos: old id -> new id, answered with a relative 307 as the Hub does.
  void rename(const std::string& old_id, const std::string& new_id);
  // The CDN's host in redirects ("127.0.0.1", or "localhost": another origin).
  std::string cdn_host = "127.0.0.1";

 private:
  void record(const httplib::Request& req);
  const FakeRepo* find_repo(const std::string& id);
  std::string renamed_to(const std::string& id);
  bool authorized(const FakeRepo& repo, const httplib::Request& req, httplib::Response& res);

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::map<std::string, FakeRepo> repos_;
  std::map<std::string, std::string> renamed_;
  std::vector<Hit> hits_;
};

}  // namespace ember::hub::testing
