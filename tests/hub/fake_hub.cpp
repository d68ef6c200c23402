#include "hub/fake_hub.h"

#include <openssl/evp.h>

#include <chrono>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

namespace ember::hub::testing {
namespace {

std::string digest_hex(const EVP_MD* md, const std::string& bytes) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(bytes.data(), bytes.size(), d, &n, md, nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    s += kHex[d[i] >> 4];
    s += kHex[d[i] & 15];
  }
  return s;
}

void hub_error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  res.status = status;
  res.set_header("X-Error-Code", code);
  res.set_header("X-Error-Message", message);
  res.set_content(nlohmann::json({{"error", message}}).dump(), "application/json");
}

void redirect(httplib::Response& res, const std::string& path) {
  res.status = 307;
  res.set_header("Location", path);  // relative, as the Hub answers for a renamed repo
}

}  // namespace

std::string sha256_of(const std::string& bytes) { return digest_hex(EVP_sha256(), bytes); }

std::string git_blob_sha1(const std::string& bytes) {
  std::string object = "blob " + std::to_string(bytes.size());
  object.push_back('\0');
  return digest_hex(EVP_sha1(), object + bytes);
}

std::string quoted(const std::string& s) { return std::string(1, '"').append(s).append(1, '"'); }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::string FakeFile::etag() const {
  if (etag_cache.empty()) etag_cache = lfs ? sha256_of(content) : git_blob_sha1(content);
  return etag_cache;
}

FakeHub::FakeHub() {
  server_.Get(R"(/api/models/([^/]+)/([^/]+)/revision/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    const std::string id = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
    const std::string rev = req.matches[3];
    if (std::string to = renamed_to(id); !to.empty()) return redirect(res, "/api/models/" + to + "/revision/" + rev);
    const FakeRepo* repo = find_repo(id);
    if (!repo) return hub_error(res, 404, "RepoNotFound", "Repository not found");
    if (!authorized(*repo, req, res)) return;
    if (rev != "main" && rev != repo->commit) return hub_error(res, 404, "RevisionNotFound", "Invalid rev id: " + rev);
    nlohmann::json j = {{"id", id}, {"modelId", id}, {"sha", repo->commit}, {"private", false}};
    j["siblings"] = nlohmann::json::array();
    for (const auto& f : repo->files) j["siblings"].push_back({{"rfilename", f.name}});
    res.set_content(j.dump(), "application/json");
  });

  server_.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    const std::string id = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
    const std::string rev = req.matches[3];
    const std::string name = req.matches[4];
    if (std::string to = renamed_to(id); !to.empty()) return redirect(res, "/" + to + "/resolve/" + rev + "/" + name);
    const FakeRepo* repo = find_repo(id);
    if (!repo) return hub_error(res, 404, "RepoNotFound", "Repository not found");
    if (!authorized(*repo, req, res)) return;
    if (rev != "main" && rev != repo->commit) return hub_error(res, 404, "RevisionNotFound", "Invalid rev id: " + rev);
    const FakeFile* file = nullptr;
    for (const auto& f : repo->files)
      if (f.name == name) file = &f;
    if (!file) return hub_error(res, 404, "EntryNotFound", "Entry not found");
    res.set_header("X-Repo-Commit", repo->commit);
    if (file->lfs) {
      const std::string sha = file->etag();
      res.status = 302;
      res.set_header("Location", "http://" + cdn_host + ":" + std::to_string(port_) + "/cdn/" + sha);
      res.set_header("X-Linked-Etag", quoted(sha));
      res.set_header("X-Linked-Size", std::to_string(file->content.size()));
      res.set_header("ETag", quoted(git_blob_sha1("version https://git-lfs.github.com/spec/v1 " + sha)));
      return;
    }
    res.set_header("ETag", quoted(file->etag()));
    res.set_content(file->content, "application/octet-stream");
  });

  server_.Get(R"(/cdn/([0-9a-f]{64}))", [this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    const std::string sha = req.matches[1];
    std::string content, name;
    bool found = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, repo] : repos_)
        for (const auto& f : repo.files)
          if (f.lfs && f.etag() == sha) {
            content = f.content;
            name = f.name;
            if (f.name == corrupt_file) content[content.size() / 2] ^= 0x5a;
            found = true;
          }
    }
    if (!found) {
      res.status = 404;
      return;
    }
    res.set_header("ETag", quoted(sha));
    res.set_header("Accept-Ranges", "bytes");
    const int64_t cut = name == cut_file ? cut_after.exchange(-1) : -1;
    if (cut < 0) {
      res.set_content(content, "application/octet-stream");  // httplib applies a Range itself
      return;
    }
    // Send CUT bytes of the body, then drop the connection.
    auto shared = std::make_shared<std::string>(std::move(content));
    auto budget = std::make_shared<int64_t>(cut);
    res.set_content_provider(shared->size(), "application/octet-stream",
                             [shared, budget](size_t offset, size_t length, httplib::DataSink& sink) {
                               if (*budget <= 0) return false;
                               const size_t n = std::min<size_t>({length, 65536, static_cast<size_t>(*budget)});
                               sink.write(shared->data() + offset, n);
                               *budget -= static_cast<int64_t>(n);
                               return true;
                             });
  });

  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeHub::~FakeHub() {
  server_.stop();
  thread_.join();
}

void FakeHub::add_repo(const FakeRepo& repo) {
  FakeRepo copy = repo;
  for (auto& f : copy.files) f.etag();  // once, before any request
  std::lock_guard<std::mutex> lock(mu_);
  repos_[repo.id] = std::move(copy);
}

void FakeHub::rename(const std::string& old_id, const std::string& new_id) {
  std::lock_guard<std::mutex> lock(mu_);
  renamed_[old_id] = new_id;
}

std::string FakeHub::renamed_to(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = renamed_.find(id);
  return it == renamed_.end() ? "" : it->second;
}

const FakeRepo* FakeHub::find_repo(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = repos_.find(id);
  return it == repos_.end() ? nullptr : &it->second;
}

bool FakeHub::authorized(const FakeRepo& repo, const httplib::Request& req, httplib::Response& res) {
  if (!repo.needs_token) return true;
  const std::string auth = req.get_header_value("Authorization");
  if (auth.empty()) {
    hub_error(res, 401, "GatedRepo", "Access to model " + repo.id + " is restricted. You must be authenticated.");
    return false;
  }
  if (auth != "Bearer " + token) {
    hub_error(res, 403, "GatedRepo", "Access to model " + repo.id + " is restricted and you are not in the list.");
    return false;
  }
  return true;
}

void FakeHub::record(const httplib::Request& req) {
  std::lock_guard<std::mutex> lock(mu_);
  hits_.push_back({req.method, req.path, req.get_header_value("Range"), req.get_header_value("Authorization")});
}

std::vector<FakeHub::Hit> FakeHub::hits() {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

void FakeHub::clear_hits() {
  std::lock_guard<std::mutex> lock(mu_);
  hits_.clear();
}

int FakeHub::count(const std::string& method, const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& h : hits_) n += h.method == method && h.path.rfind(prefix, 0) == 0;
  return n;
}

}  // namespace ember::hub::testing
