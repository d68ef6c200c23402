// The `ember` binary against the fake Hub on loopback (HF_ENDPOINT) with a
// temporary HF_HOME: `ember pull` prints the snapshot path, `ember ls` lists
// it, errors exit 1 with the message, and `ember serve REPO:FILE.gguf`
// downloads what is not cached and serves it.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "hub/hub_test_util.h"
#include "support/ember_process.h"

namespace ember::hub::testing {
namespace {

const std::string kEmber = test_support::ember_binary();
using test_support::wait_exit;

struct Ran {
  int exit_code = -1;
  std::string out, err;
};

class PullCliTest : public HubTestBase {
 protected:
  void SetUp() override {
    HubTestBase::SetUp();
    if (IsSkipped()) return;
    if (!fs::exists(kEmber)) GTEST_SKIP() << "ember not built";
  }

  // The environment ahead of the inherited one (getenv takes the first),
  // so a user's HF_TOKEN or HF_HUB_OFFLINE cannot leak in; ember serve's
  // chat store ($XDG_DATA_HOME/ember) goes under tmp_ too, not the real home.
  std::vector<std::string> env() const {
    std::vector<std::string> e = {"HF_ENDPOINT=" + hub_.endpoint(), "HF_HOME=" + tmp_.string(), "HF_HUB_CACHE=",
                                  "HF_TOKEN=",  "HUGGING_FACE_HUB_TOKEN=", "HF_HUB_OFFLINE=0",
                                  "XDG_DATA_HOME=" + (tmp_ / "data").string()};
    return e;
  }

  pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& extra_env) {
    std::vector<std::string> envs = extra_env;
    for (const auto& e : env()) envs.push_back(e);
    return test_support::spawn_ember(args, envs, (tmp_ / "out.txt").string(), (tmp_ / "err.txt").string());
  }

  Ran run(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) {
    Ran r;
    pid_t pid = spawn(args, extra_env);
    if (pid <= 0) return r;
    r.exit_code = wait_exit(pid, 120);
    r.out = read_file((tmp_ / "out.txt").string());
    r.err = read_file((tmp_ / "err.txt").string());
    return r;
  }
};

TEST_F(PullCliTest, PullThenLs) {
  Ran pull = run({"pull", "test-org/tiny-r1"});
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  const std::string snapshot = (repo_dir("test-org/tiny-r1") / "snapshots" / kCommit).string();
  EXPECT_EQ(pull.out, snapshot + "\n");
  EXPECT_NE(pull.err.find("downloading model.safetensors (39.0 MB)"), std::string::npos) << pull.err;  // a line per file
  EXPECT_NE(pull.err.find("5 files downloaded"), std::string::npos) << pull.err;
  for (const char* name : {"config.json", "model.safetensors", "tokenizer.json"})
    EXPECT_EQ(read_file(snapshot + "/" + name), read_file(kHfDir + "/" + name)) << name;

  Ran again = run({"pull", "test-org/tiny-r1", "--quiet"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, snapshot + "\n");
  EXPECT_EQ(again.err, "");

  Ran gguf = run({"pull", "test-org/tiny-r1-GGUF:tiny-r1vocab-BF16.gguf", "--revision", "main"});
  ASSERT_EQ(gguf.exit_code, 0) << gguf.err;

  Ran ls = run({"ls"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_EQ(ls.out.rfind("REPO", 0), 0u) << ls.out;
  EXPECT_NE(ls.out.find("test-org/tiny-r1  "), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find(kCommit.substr(0, 12)), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("safetensors (1 weight file, 5 files)"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("gguf: tiny-r1vocab-BF16.gguf"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("main"), std::string::npos) << ls.out;
  EXPECT_NE(ls.err.find(tmp_.string() + "/hub"), std::string::npos) << ls.err;
}

TEST_F(PullCliTest, ErrorsExitOneWithTheMessage) {
  Ran missing = run({"pull", "nobody/nothing"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("ember pull: error: no model repo nobody/nothing"), std::string::npos) << missing.err;
  Ran bad = run({"pull", "not a repo"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("is not a Hugging Face repo id"), std::string::npos) << bad.err;
  hub_.clear_hits();
  Ran offline = run({"pull", "test-org/tiny-r1"}, {"HF_HUB_OFFLINE=1"});
  EXPECT_EQ(offline.exit_code, 1);
  EXPECT_NE(offline.err.find("HF_HUB_OFFLINE"), std::string::npos) << offline.err;
  EXPECT_TRUE(hub_.hits().empty());
  Ran empty_ls = run({"ls"});
  EXPECT_EQ(empty_ls.exit_code, 0);
  EXPECT_NE(empty_ls.err.find("no models in the Hugging Face cache"), std::string::npos) << empty_ls.err;
}

TEST_F(PullCliTest, ServeDownloadsWhatIsNotCached) {
  const int port = test_support::free_loopback_port();
  pid_t pid = spawn({"serve", "test-org/tiny-r1-GGUF:tiny-r1vocab-BF16.gguf", "--port", std::to_string(port),
                     "--threads", "1", "--kv-cache-memory", "16M", "--max-model-len", "128"},
                    {});
  ASSERT_GT(pid, 0);
  httplib::Client cli("127.0.0.1", port);
  bool healthy = false;
  for (int i = 0; i < 1200 && !healthy; ++i) {
    auto r = cli.Get("/health");
    healthy = r && r->status == 200;
    if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(healthy) << read_file((tmp_ / "err.txt").string());
  EXPECT_TRUE(fs::exists(tmp_ / "data" / "ember" / "chats.db"));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid, 30), 0) << read_file((tmp_ / "err.txt").string());
  const fs::path gguf = repo_dir("test-org/tiny-r1-GGUF") / "snapshots" / kGgufCommit / "tiny-r1vocab-BF16.gguf";
  EXPECT_EQ(read_file(gguf.string()), read_file(kGgufPath));
  EXPECT_EQ(hub_.count("GET", "/cdn/" + file_of(gguf_repo(), "tiny-r1vocab-BF16.gguf").etag()), 1);
}

}  // namespace
}  // namespace ember::hub::testing
