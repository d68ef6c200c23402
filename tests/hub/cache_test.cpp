// The cache layout without a network: repo ids, file-name checks, which
// files a repo's listing gives, a cache as huggingface-cli leaves it, and
// `ember ls`'s listing.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hub/cache.h"
#include "hub/download.h"
#include "hub/hub_test_util.h"
#include "hub/resolve.h"

namespace ember::hub::testing {
namespace {

TEST(RepoSpecTest, ParsesRepoIdsAndRefusesPaths) {
  auto a = parse_repo_spec("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->repo, "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B");
  EXPECT_EQ(a->file, "");
  auto b = parse_repo_spec("unsloth/DeepSeek-R1-Distill-Qwen-1.5B-GGUF:DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->repo, "unsloth/DeepSeek-R1-Distill-Qwen-1.5B-GGUF");
  EXPECT_EQ(b->file, "DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf");
  auto c = parse_repo_spec("org/repo:sub/dir/file.gguf");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->file, "sub/dir/file.gguf");
  for (const char* bad : {"gpt2", "a/b/c", "../x", "org/..", "org/.hidden", "/abs/path", "org/na me", "org--x/y",
                          "org/repo:", "org/repo:../../etc/passwd", "org/repo:/abs", "org/repo:a//b", "", "/"})
    EXPECT_FALSE(parse_repo_spec(bad).ok()) << bad;
}

TEST(RepoSpecTest, NamesThatBecomePaths) {
  EXPECT_TRUE(valid_repo_file("model-00001-of-00002.safetensors"));
  EXPECT_TRUE(valid_repo_file("onnx/model.onnx"));
  for (const char* bad : {"", "/etc/passwd", "a/../b", "..", "./a", "a\\b", "a/", "a//b"})
    EXPECT_FALSE(valid_repo_file(bad)) << bad;
  EXPECT_TRUE(valid_object_name("0123456789abcdef0123456789abcdef01234567"));
  for (const char* bad : {"", "..", ".x", "a/b", "a b", "a\"b"}) EXPECT_FALSE(valid_object_name(bad)) << bad;
  EXPECT_TRUE(valid_revision("refs/pr/1"));
  EXPECT_FALSE(valid_revision("../main"));
  EXPECT_EQ(repo_folder_name("deepseek-ai/DeepSeek-R1"), "models--deepseek-ai--DeepSeek-R1");
}

TEST(CacheDirTest, FollowsHuggingFaceHubsVariables) {
  const char* keep[] = {"HF_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "HOME"};
  std::vector<std::pair<std::string, std::string>> saved;
  for (const char* k : keep) {
    const char* v = std::getenv(k);
    saved.emplace_back(k, v ? v : std::string("\x01"));
  }
  ::setenv("HOME", "/home/u", 1);
  ::unsetenv("HF_HUB_CACHE");
  ::unsetenv("HF_HOME");
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(cache_dir(), "/home/u/.cache/huggingface/hub");
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(cache_dir(), "/xdg/huggingface/hub");
  ::setenv("HF_HOME", "/hf", 1);
  EXPECT_EQ(cache_dir(), "/hf/hub");
  ::setenv("HF_HUB_CACHE", "/cache", 1);
  EXPECT_EQ(cache_dir(), "/cache");
  for (const auto& [k, v] : saved) {
    if (v == "\x01") ::unsetenv(k.c_str());
    else ::setenv(k.c_str(), v.c_str(), 1);
  }
}

TEST(SelectFilesTest, TakesWhatEmberLoadsAndNamesGgufFiles) {
  const std::vector<std::string> hf = {".gitattributes", "README.md", "config.json", "figures/fig1.png",
                                       "generation_config.json", "model.safetensors", "pytorch_model.bin",
                                       "tokenizer.json", "tokenizer_config.json", "onnx/model.safetensors"};
  auto files = select_files("o/r", hf, "");
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(*files, (std::vector<std::string>{"config.json", "generation_config.json", "tokenizer.json",
                                              "tokenizer_config.json", "model.safetensors"}));
  auto one = select_files("o/r", {"README.md", "a-Q4_K_M.gguf", "a-Q8_0.gguf"}, "a-Q8_0.gguf");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, std::vector<std::string>{"a-Q8_0.gguf"});
  auto gguf_repo = select_files("o/r", {"README.md", "a-Q4_K_M.gguf", "a-Q8_0.gguf"}, "");
  ASSERT_FALSE(gguf_repo.ok());
  EXPECT_NE(gguf_repo.status().message().find("o/r:a-Q4_K_M.gguf"), std::string::npos) << gguf_repo.status().message();
  auto bin_only = select_files("o/r", {"config.json", "pytorch_model.bin"}, "");
  ASSERT_FALSE(bin_only.ok());
  EXPECT_EQ(bin_only.status().code(), StatusCode::kUnsupported);
  auto no_config = select_files("o/r", {"model.safetensors"}, "");
  EXPECT_FALSE(no_config.ok());
}

// A cache as `huggingface-cli download` leaves it (blobs, relative links,
// refs/main), made by hand: found without any request, listed by ls.
class HuggingfaceCliCacheTest : public HubTestBase {
 protected:
  void SetUp() override {
    HubTestBase::SetUp();
    if (IsSkipped()) return;
    const fs::path dir = repo_dir("test-org/tiny-r1");
    fs::create_directories(dir / "blobs");
    fs::create_directories(dir / "refs");
    fs::create_directories(dir / "snapshots" / kCommit);
    std::ofstream(dir / "refs" / "main") << kCommit;
    for (const char* name : {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                             "tokenizer_config.json"}) {
      const FakeFile& f = file_of(tiny_repo(), name);
      std::ofstream(dir / "blobs" / f.etag(), std::ios::binary) << f.content;
      fs::create_symlink("../../blobs/" + f.etag(), dir / "snapshots" / kCommit / name);
    }
    std::ofstream(dir / "blobs" / "deadbeef.incomplete") << std::string(1234, 'z');
  }
};

TEST_F(HuggingfaceCliCacheTest, IsReusedWithoutDownloading) {
  auto path = resolve_model("test-org/tiny-r1", options());
  ASSERT_TRUE(path.ok()) << path.status().to_string();
  EXPECT_EQ(*path, (repo_dir("test-org/tiny-r1") / "snapshots" / kCommit).string());
  auto pulled = pull({"test-org/tiny-r1", ""}, "main", options());
  ASSERT_TRUE(pulled.ok()) << pulled.status().to_string();
  EXPECT_EQ(pulled->files_downloaded, 0);
  EXPECT_EQ(pulled->files_cached, 5);
  EXPECT_EQ(hub_.hits().size(), 1u);  // pull asks for the revision's files; resolve asked nothing
  // A revision given as the commit itself is found through its snapshot.
  EXPECT_TRUE(find_cached(options().cache_root, {"test-org/tiny-r1", ""}, kCommit));
  // A snapshot missing its weights is not a model.
  fs::remove(repo_dir("test-org/tiny-r1") / "snapshots" / kCommit / "model.safetensors");
  EXPECT_FALSE(find_cached(options().cache_root, {"test-org/tiny-r1", ""}, "main"));
}

TEST_F(HuggingfaceCliCacheTest, ListedWithSizeKindAndUnfinishedDownloads) {
  ASSERT_TRUE(pull({"test-org/tiny-r1-GGUF", "tiny-r1vocab-BF16.gguf"}, "main", options()).ok());
  const auto rows = list_cached(options().cache_root);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].repo, "test-org/tiny-r1");
  EXPECT_EQ(rows[0].commit, kCommit);
  EXPECT_EQ(rows[0].refs, std::vector<std::string>{"main"});
  EXPECT_EQ(rows[0].kind, "safetensors");
  EXPECT_EQ(rows[0].files.size(), 5u);
  uint64_t bytes = 0;
  for (const auto& f : rows[0].files) bytes += file_of(tiny_repo(), f).content.size();
  EXPECT_EQ(rows[0].bytes, bytes);
  EXPECT_EQ(rows[0].incomplete_bytes, 1234u);
  EXPECT_EQ(rows[1].repo, "test-org/tiny-r1-GGUF");
  EXPECT_EQ(rows[1].kind, "gguf");
  EXPECT_EQ(rows[1].files, std::vector<std::string>{"tiny-r1vocab-BF16.gguf"});
  EXPECT_EQ(rows[1].bytes, fs::file_size(kGgufPath));
  EXPECT_EQ(rows[1].incomplete_bytes, 0u);
  EXPECT_TRUE(list_cached((tmp_ / "nothing-here").string()).empty());
}

}  // namespace
}  // namespace ember::hub::testing
