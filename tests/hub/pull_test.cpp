// hub::pull against the fake Hub on loopback: the cache laid out as
// huggingface_hub lays it out, nothing downloaded twice, interrupted
// transfers resumed with Range, verification, and the errors users meet.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hub/cache.h"
#include "hub/download.h"
#include "hub/resolve.h"
#include "hub/hub_test_util.h"

namespace ember::hub::testing {
namespace {

const std::vector<std::string> kModelFiles = {"config.json", "generation_config.json", "model.safetensors",
                                               "tokenizer.json", "tokenizer_config.json"};

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (!e.is_directory()) names.push_back(e.path().lexically_relative(dir).generic_string());
  std::sort(names.begin(), names.end());
  return names;
}

using PullTest = HubTestBase;

TEST_F(PullTest, FreshPullLaysOutTheCacheAsHuggingFaceHubDoes) {
  auto r = pull({"test-org/tiny-r1", ""}, "main", options());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const fs::path dir = repo_dir("test-org/tiny-r1");
  EXPECT_EQ(r->commit, kCommit);
  EXPECT_EQ(r->snapshot, (dir / "snapshots" / kCommit).string());
  EXPECT_EQ(r->path, r->snapshot);
  EXPECT_EQ(r->files_downloaded, 5);
  EXPECT_EQ(r->files_cached, 0);

  // snapshots/<commit>/<file> -> ../../blobs/<etag>, each blob the source's bytes.
  EXPECT_EQ(listing(dir / "snapshots" / kCommit), kModelFiles);
  std::vector<std::string> blobs;
  uint64_t total = 0;
  for (const auto& name : kModelFiles) {
    const FakeFile& f = file_of(tiny_repo(), name);
    const fs::path link = dir / "snapshots" / kCommit / name;
    ASSERT_TRUE(fs::is_symlink(link)) << name;
    EXPECT_EQ(fs::read_symlink(link).string(), "../../blobs/" + f.etag()) << name;
    EXPECT_EQ(read_file(link.string()), f.content) << name;
    blobs.push_back(f.etag());
    total += f.content.size();
  }
  // LFS files are named by their sha256, the others by their git blob sha1.
  EXPECT_EQ(file_of(tiny_repo(), "model.safetensors").etag(), sha256_of(read_file(kHfDir + "/model.safetensors")));
  EXPECT_EQ(file_of(tiny_repo(), "config.json").etag().size(), 40u);
  std::sort(blobs.begin(), blobs.end());
  EXPECT_EQ(listing(dir / "blobs"), blobs);  // no .incomplete left, nothing skipped was stored
  EXPECT_EQ(r->bytes_downloaded, total);
  EXPECT_EQ(read_file((dir / "refs" / "main").string()), kCommit);  // no newline, as huggingface_hub writes it
  EXPECT_TRUE(snapshot_has_safetensors_model(r->snapshot));

  // Skipped files were never asked for; LFS files came from the CDN.
  for (const char* skipped : {"README.md", "pytorch_model.bin", "figures/benchmark.jpg", ".gitattributes"})
    EXPECT_EQ(hub_.count("HEAD", "/test-org/tiny-r1/resolve/" + kCommit + "/" + skipped), 0) << skipped;
  EXPECT_EQ(hub_.count("GET", "/cdn/" + file_of(tiny_repo(), "model.safetensors").etag()), 1);
  EXPECT_EQ(hub_.count("GET", "/api/models/test-org/tiny-r1/revision/main"), 1);
  for (const auto& h : hub_.hits()) EXPECT_TRUE(h.range.empty()) << h.path;
}

TEST_F(PullTest, SecondPullDownloadsNothing) {
  ASSERT_TRUE(pull({"test-org/tiny-r1", ""}, "main", options()).ok());
  hub_.clear_hits();
  auto again = pull({"test-org/tiny-r1", ""}, "main", options());
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->files_downloaded, 0);
  EXPECT_EQ(again->files_cached, 5);
  EXPECT_EQ(again->bytes_downloaded, 0u);
  EXPECT_EQ(hub_.count("GET", "/cdn/"), 0);
  EXPECT_EQ(hub_.count("HEAD", "/test-org/"), 0);
  EXPECT_EQ(hub_.count("GET", "/test-org/"), 0);
  EXPECT_EQ(hub_.hits().size(), 1u);  // the revision's file list only
}

TEST_F(PullTest, ANewCommitDownloadsOnlyTheChangedFile) {
  ASSERT_TRUE(pull({"test-org/tiny-r1", ""}, "main", options()).ok());
  FakeRepo v2 = tiny_repo();
  v2.commit = "1111111111111111111111111111111111111111";
  for (auto& f : v2.files)
    if (f.name == "generation_config.json") f = FakeFile{f.name, "{\"temperature\": 0.5}\n", false};
  hub_.add_repo(v2);
  hub_.clear_hits();
  auto r = pull({"test-org/tiny-r1", ""}, "main", options());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->files_downloaded, 1);
  EXPECT_EQ(r->files_cached, 4);  // the other blobs are shared by both snapshots
  EXPECT_EQ(hub_.count("GET", "/cdn/"), 0);
  const fs::path dir = repo_dir("test-org/tiny-r1");
  EXPECT_EQ(read_file((dir / "refs" / "main").string()), v2.commit);
  EXPECT_EQ(read_file((dir / "snapshots" / v2.commit / "generation_config.json").string()), "{\"temperature\": 0.5}\n");
  EXPECT_EQ(listing(dir / "snapshots" / kCommit), kModelFiles);  // the old snapshot is untouched
  EXPECT_EQ(listing(dir / "blobs").size(), 6u);
}

TEST_F(PullTest, InterruptedTransferResumesWithRange) {
  const FakeFile& weights = file_of(tiny_repo(), "model.safetensors");
  const int64_t cut = 10'000'000;
  hub_.cut_after = cut;
  auto first = pull({"test-org/tiny-r1", ""}, "main", options());
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.status().message().find("run the same command again to resume"), std::string::npos)
      << first.status().message();
  const fs::path dir = repo_dir("test-org/tiny-r1");
  const fs::path partial = dir / "blobs" / (weights.etag() + ".incomplete");
  ASSERT_TRUE(fs::exists(partial));
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(partial)), cut);
  EXPECT_EQ(read_file(partial.string()), weights.content.substr(0, cut));
  EXPECT_FALSE(fs::exists(dir / "blobs" / weights.etag()));
  EXPECT_FALSE(fs::exists(dir / "snapshots" / kCommit / "model.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "refs" / "main"));  // an unfinished pull names no revision
  EXPECT_FALSE(find_cached(options().cache_root, {"test-org/tiny-r1", ""}, "main"));

  hub_.clear_hits();
  auto second = pull({"test-org/tiny-r1", ""}, "main", options());
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  std::vector<std::string> ranges;
  for (const auto& h : hub_.hits())
    if (h.path == "/cdn/" + weights.etag()) ranges.push_back(h.range);
  EXPECT_EQ(ranges, std::vector<std::string>{"bytes=" + std::to_string(cut) + "-"});
  EXPECT_EQ(second->bytes_downloaded, weights.content.size() - cut);
  EXPECT_EQ(read_file((dir / "snapshots" / kCommit / "model.safetensors").string()), weights.content);
  EXPECT_FALSE(fs::exists(partial));
}

TEST_F(PullTest, ACutTransferResumesWithinOnePull) {
  hub_.cut_after = 3'000'000;
  HubOptions o = options();
  o.attempts = 3;
  auto r = pull({"test-org/tiny-r1", ""}, "main", o);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  int ranged = 0;
  for (const auto& h : hub_.hits()) ranged += h.range == "bytes=3000000-";
  EXPECT_EQ(ranged, 1);
  for (const auto& name : kModelFiles)
    EXPECT_EQ(read_file((fs::path(r->snapshot) / name).string()), file_of(tiny_repo(), name).content) << name;
}

TEST_F(PullTest, Sha256MismatchIsAnErrorAndLeavesNoBlob) {
  hub_.corrupt_file = "model.safetensors";
  auto r = pull({"test-org/tiny-r1", ""}, "main", options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.status().message().find("sha256"), std::string::npos) << r.status().message();
  const std::string etag = file_of(tiny_repo(), "model.safetensors").etag();
  const fs::path dir = repo_dir("test-org/tiny-r1");
  EXPECT_FALSE(fs::exists(dir / "blobs" / etag));
  EXPECT_FALSE(fs::exists(dir / "blobs" / (etag + ".incomplete")));
  EXPECT_FALSE(fs::exists(dir / "snapshots" / kCommit / "model.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "refs" / "main"));
}

TEST_F(PullTest, ABadPartialFileIsDownloadedAgainFromTheStart) {
  // A kept .incomplete whose bytes are wrong: the resumed file fails its
  // sha256, so the download starts over once and then verifies.
  const FakeFile& weights = file_of(tiny_repo(), "model.safetensors");
  const fs::path blobs = repo_dir("test-org/tiny-r1") / "blobs";
  fs::create_directories(blobs);
  std::ofstream(blobs / (weights.etag() + ".incomplete"), std::ios::binary) << std::string(1000, 'x');
  auto r = pull({"test-org/tiny-r1", ""}, "main", options());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(read_file((blobs / weights.etag()).string()), weights.content);
  std::vector<std::string> ranges;
  for (const auto& h : hub_.hits())
    if (h.path == "/cdn/" + weights.etag()) ranges.push_back(h.range);
  EXPECT_EQ(ranges, (std::vector<std::string>{"bytes=1000-", ""}));
}

TEST_F(PullTest, UnknownRepoFileAndRevisionAreNamed) {
  auto repo = pull({"nobody/nothing", ""}, "main", options());
  ASSERT_FALSE(repo.ok());
  EXPECT_EQ(repo.status().code(), StatusCode::kNotFound);
  EXPECT_NE(repo.status().message().find("no model repo nobody/nothing"), std::string::npos) << repo.status().message();

  auto file = pull({"test-org/tiny-r1-GGUF", "tiny-r1vocab-Q4_K_M.gguf"}, "main", options());
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.status().message().find("no file 'tiny-r1vocab-Q4_K_M.gguf'"), std::string::npos);
  EXPECT_NE(file.status().message().find("tiny-r1vocab-BF16.gguf, tiny-r1vocab-Q8_0.gguf"), std::string::npos)
      << file.status().message();

  auto rev = pull({"test-org/tiny-r1", ""}, "v9", options());
  ASSERT_FALSE(rev.ok());
  EXPECT_NE(rev.status().message().find("no revision 'v9'"), std::string::npos) << rev.status().message();
  EXPECT_FALSE(fs::exists(repo_dir("nobody/nothing")));
}

TEST_F(PullTest, GatedRepoAsksForHfTokenAndSendsItOnlyToTheHub) {
  FakeRepo gated = tiny_repo();
  gated.id = "test-org/gated";
  gated.needs_token = true;
  hub_.add_repo(gated);
  hub_.cdn_host = "localhost";  // the CDN on another origin, as the real one is

  auto anonymous = pull({"test-org/gated", ""}, "main", options());
  ASSERT_FALSE(anonymous.ok());
  EXPECT_NE(anonymous.status().message().find("HTTP 401"), std::string::npos) << anonymous.status().message();
  EXPECT_NE(anonymous.status().message().find("set HF_TOKEN"), std::string::npos) << anonymous.status().message();

  HubOptions wrong = options();
  wrong.token = "hf_wrong";
  auto refused = pull({"test-org/gated", ""}, "main", wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("HTTP 403"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find("HF_TOKEN"), std::string::npos);

  hub_.clear_hits();
  HubOptions right = options();
  right.token = hub_.token;
  auto r = pull({"test-org/gated", ""}, "main", right);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  int hub_hits = 0, cdn_hits = 0;
  for (const auto& h : hub_.hits()) {
    if (h.path.rfind("/cdn/", 0) == 0) {
      ++cdn_hits;
      EXPECT_EQ(h.authorization, "") << "the token went to the CDN";
    } else {
      ++hub_hits;
      EXPECT_EQ(h.authorization, "Bearer " + hub_.token) << h.path;
    }
  }
  EXPECT_EQ(cdn_hits, 2);  // model.safetensors, tokenizer.json
  EXPECT_EQ(hub_hits, 1 + 5 + 3);  // the file list, a HEAD per file, a GET per small file
}

TEST_F(PullTest, OfflineUsesTheCacheOrSaysItCannotDownload) {
  HubOptions offline = options();
  offline.offline = true;
  auto missing = pull({"test-org/tiny-r1", ""}, "main", offline);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("HF_HUB_OFFLINE"), std::string::npos) << missing.status().message();
  EXPECT_NE(missing.status().message().find(repo_dir("test-org/tiny-r1").string()), std::string::npos);
  auto resolved = resolve_model("test-org/tiny-r1", offline);
  EXPECT_FALSE(resolved.ok());
  EXPECT_TRUE(hub_.hits().empty());

  ASSERT_TRUE(pull({"test-org/tiny-r1", ""}, "main", options()).ok());
  hub_.clear_hits();
  auto cached = pull({"test-org/tiny-r1", ""}, "main", offline);
  ASSERT_TRUE(cached.ok()) << cached.status().to_string();
  EXPECT_EQ(cached->path, (repo_dir("test-org/tiny-r1") / "snapshots" / kCommit).string());
  auto served = resolve_model("test-org/tiny-r1", offline);
  ASSERT_TRUE(served.ok()) << served.status().to_string();
  EXPECT_EQ(*served, cached->path);
  EXPECT_TRUE(hub_.hits().empty());
}

TEST_F(PullTest, UnreachableHubSaysWhatToDo) {
  HubOptions o = options();
  FakeHub* closed = new FakeHub();  // a port that was just listening and is closed now
  o.endpoint = closed->endpoint();
  delete closed;
  auto r = pull({"test-org/tiny-r1", ""}, "main", o);
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("cannot reach " + o.endpoint + ": "), std::string::npos) << m;
  EXPECT_NE(m.find("the model is not in the cache at " + repo_dir("test-org/tiny-r1").string()), std::string::npos) << m;
  EXPECT_NE(m.find("set HF_ENDPOINT"), std::string::npos) << m;
  EXPECT_NE(m.find("huggingface-cli"), std::string::npos) << m;
}

TEST_F(PullTest, OneGgufFileOfARepo) {
  auto r = pull({"test-org/tiny-r1-GGUF", "tiny-r1vocab-BF16.gguf"}, "main", options());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const fs::path dir = repo_dir("test-org/tiny-r1-GGUF");
  EXPECT_EQ(r->path, (dir / "snapshots" / kGgufCommit / "tiny-r1vocab-BF16.gguf").string());
  EXPECT_EQ(listing(dir / "snapshots" / kGgufCommit), std::vector<std::string>{"tiny-r1vocab-BF16.gguf"});
  EXPECT_EQ(read_file(r->path), read_file(kGgufPath));
  EXPECT_EQ(hub_.count("GET", "/cdn/" + file_of(gguf_repo(), "tiny-r1vocab-Q8_0.gguf").etag()), 0);
  EXPECT_EQ(find_cached(options().cache_root, {"test-org/tiny-r1-GGUF", "tiny-r1vocab-BF16.gguf"}, "main"), r->path);

  // The whole repo is not a safetensors model: the error says how to pick a file.
  auto whole = pull({"test-org/tiny-r1-GGUF", ""}, "main", options());
  ASSERT_FALSE(whole.ok());
  EXPECT_NE(whole.status().message().find("test-org/tiny-r1-GGUF:tiny-r1vocab-BF16.gguf"), std::string::npos)
      << whole.status().message();
}

TEST_F(PullTest, ShardedModelTakesTheShardsItsIndexNames) {
  FakeRepo sharded;
  sharded.id = "test-org/sharded";
  sharded.commit = "2222222222222222222222222222222222222222";
  sharded.files = {
      {"config.json", "{}", false},
      {"consolidated.safetensors", std::string(4000, 'c'), true},  // not in the index: skipped
      {"model-00001-of-00002.safetensors", std::string(3000, '1'), true},
      {"model-00002-of-00002.safetensors", std::string(2000, '2'), true},
      {"model.safetensors.index.json",
       R"({"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}})",
       false},
  };
  hub_.add_repo(sharded);
  auto r = pull({"test-org/sharded", ""}, "main", options());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(listing(r->snapshot), (std::vector<std::string>{"config.json", "model-00001-of-00002.safetensors",
                                                             "model-00002-of-00002.safetensors",
                                                             "model.safetensors.index.json"}));
  EXPECT_TRUE(snapshot_has_safetensors_model(r->snapshot));
}

TEST_F(PullTest, ARenamedRepoFollowsTheHubsRelativeRedirects) {
  hub_.rename("old-org/tiny-r1", "test-org/tiny-r1");
  auto r = pull({"old-org/tiny-r1", ""}, "main", options());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  // Stored under the name asked for, as huggingface_hub does.
  EXPECT_EQ(r->snapshot, (repo_dir("old-org/tiny-r1") / "snapshots" / kCommit).string());
  EXPECT_EQ(read_file(r->snapshot + "/model.safetensors"), file_of(tiny_repo(), "model.safetensors").content);
  EXPECT_EQ(hub_.count("HEAD", "/old-org/tiny-r1/resolve/"), 5);
  EXPECT_EQ(hub_.count("HEAD", "/test-org/tiny-r1/resolve/"), 5);
}

TEST_F(PullTest, ResolveModelDownloadsWhatIsNotCached) {
  auto local = resolve_model(kHfDir, options());
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(*local, kHfDir);
  EXPECT_TRUE(hub_.hits().empty());

  auto downloaded = resolve_model("test-org/tiny-r1-GGUF:tiny-r1vocab-BF16.gguf", options());
  ASSERT_TRUE(downloaded.ok()) << downloaded.status().to_string();
  EXPECT_EQ(read_file(*downloaded), read_file(kGgufPath));
  hub_.clear_hits();
  auto cached = resolve_model("test-org/tiny-r1-GGUF:tiny-r1vocab-BF16.gguf", options());
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(*cached, *downloaded);
  EXPECT_TRUE(hub_.hits().empty());  // the cache answers without the network

  auto bad = resolve_model("no-such-dir/../x", options());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("neither a local model directory"), std::string::npos);
  auto typo = resolve_model("models/r1-q4_k_m.gguf", options());  // a missing local file, not a repo
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().message(), "models/r1-q4_k_m.gguf: no such file");
  EXPECT_TRUE(hub_.hits().empty());
}

}  // namespace
}  // namespace ember::hub::testing
