// Fixture repos for the downloader tests: the tiny-r1vocab model as a
// safetensors repo (with files ember must skip) and as a GGUF repo, and a
// test base with a fake Hub and a temporary cache.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "hub/download.h"
#include "hub/fake_hub.h"

namespace ember::hub::testing {

namespace fs = std::filesystem;

inline const std::string kHfDir = std::string(EMBER_FIXTURES_DIR) + "/models/tiny-r1vocab/hf";
inline const std::string kGgufPath = std::string(EMBER_FIXTURES_DIR) + "/models/tiny-r1vocab/tiny-r1vocab-BF16.gguf";
inline const std::string kCommit = "4c3a2b1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b";
inline const std::string kGgufCommit = "aaaabbbbccccddddeeeeffff0000111122223333";

inline bool fixtures_present() { return fs::exists(kHfDir + "/model.safetensors") && fs::exists(kGgufPath); }

// test-org/tiny-r1: the five files ember takes, plus a README, a .bin, an
// image in a folder and .gitattributes that it must not download.
inline const FakeRepo& tiny_repo() {
  static const FakeRepo repo = [] {
    FakeRepo r;
    r.id = "test-org/tiny-r1";
    r.commit = kCommit;
    r.files = {
        {".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n", false},
        {"README.md", "# tiny-r1\n", false},
        {"config.json", read_file(kHfDir + "/config.json"), false},
        {"figures/benchmark.jpg", std::string(5000, '\x7f'), true},
        {"generation_config.json", read_file(kHfDir + "/generation_config.json"), false},
        {"model.safetensors", read_file(kHfDir + "/model.safetensors"), true},
        {"pytorch_model.bin", std::string(20000, 'b'), true},
        {"tokenizer.json", read_file(kHfDir + "/tokenizer.json"), true},
        {"tokenizer_config.json", read_file(kHfDir + "/tokenizer_config.json"), false},
    };
    for (const auto& f : r.files) f.etag();
    return r;
  }();
  return repo;
}

// test-org/tiny-r1-GGUF: two .gguf files and a README.
inline const FakeRepo& gguf_repo() {
  static const FakeRepo repo = [] {
    FakeRepo r;
    r.id = "test-org/tiny-r1-GGUF";
    r.commit = kGgufCommit;
    r.files = {
        {"README.md", "# tiny-r1 GGUF\n", false},
        {"tiny-r1vocab-BF16.gguf", read_file(kGgufPath), true},
        {"tiny-r1vocab-Q8_0.gguf", std::string(30000, 'q'), true},
    };
    for (const auto& f : r.files) f.etag();
    return r;
  }();
  return repo;
}

inline const FakeFile& file_of(const FakeRepo& repo, const std::string& name) {
  for (const auto& f : repo.files)
    if (f.name == name) return f;
  static const FakeFile none;
  ADD_FAILURE() << "no fixture file " << name;
  return none;
}

class HubTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fixtures_present()) GTEST_SKIP() << "tiny-r1vocab fixtures missing";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    tmp_ = fs::temp_directory_path() /
           ("ember-hub-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name());
    fs::remove_all(tmp_);
    fs::create_directories(tmp_);
    hub_.add_repo(tiny_repo());
    hub_.add_repo(gguf_repo());
  }
  void TearDown() override {
    if (!tmp_.empty()) fs::remove_all(tmp_);
  }

  HubOptions options() const {
    HubOptions o;
    o.endpoint = hub_.endpoint();
    o.cache_root = (tmp_ / "hub").string();
    o.progress = ProgressMode::kNone;
    o.attempts = 1;
    return o;
  }
  fs::path repo_dir(const std::string& repo) const { return tmp_ / "hub" / repo_folder_name(repo); }

  FakeHub hub_;
  fs::path tmp_;
};

}  // namespace ember::hub::testing
