// `ember serve` as a process: a repo id found in a Hugging Face cache laid
// out as huggingface-cli writes it (HF_HOME/hub/models--ORG--NAME/refs/main
// -> snapshots/<commit>/), /health after warm-up, the served name, the API
// key from EMBER_API_KEY, exit 0 on SIGTERM; a repo id that is not cached is
// a clear error.
#include <httplib.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

extern char** environ;

namespace ember::server {
namespace {

namespace fs = std::filesystem;

const std::string kEmber = std::string(EMBER_BINARY_DIR) + "/ember";
const std::string kModelDir = std::string(EMBER_FIXTURES_DIR) + "/models/tiny-r1vocab/hf";
const std::string kGguf = std::string(EMBER_FIXTURES_DIR) + "/models/tiny-r1vocab/tiny-r1vocab-BF16.gguf";

int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

// Runs ember with `args` and extra environment; stdout+stderr to `log`.
pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& log) {
  std::vector<std::string> all = {kEmber};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> envs = env;
  for (char** e = environ; *e; ++e) envs.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, kEmber.c_str(), &fa, nullptr, argv.data(), envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int wait_exit(pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 100; ++i) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return -1;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

class ServeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModelDir + "/config.json") || !fs::exists(kGguf) || !fs::exists(kEmber))
      GTEST_SKIP() << "fixtures or ember missing";
    home_ = fs::temp_directory_path() / ("ember-serve-test-" + std::to_string(::getpid()));
    fs::remove_all(home_);
    const fs::path repo = home_ / "hub" / "models--test-org--tiny-r1";
    const std::string commit = "0123456789abcdef0123456789abcdef01234567";
    fs::create_directories(repo / "refs");
    fs::create_directories(repo / "snapshots" / commit);
    std::ofstream(repo / "refs" / "main") << commit;
    for (const auto& e : fs::directory_iterator(kModelDir))
      fs::create_symlink(e.path(), repo / "snapshots" / commit / e.path().filename());
    // A GGUF repo: one .gguf file in its snapshot, picked as REPO:FILE.
    const fs::path gguf_repo = home_ / "hub" / "models--test-org--tiny-r1-GGUF";
    fs::create_directories(gguf_repo / "refs");
    fs::create_directories(gguf_repo / "snapshots" / commit);
    std::ofstream(gguf_repo / "refs" / "main") << commit;
    fs::create_symlink(kGguf, gguf_repo / "snapshots" / commit / "tiny-r1vocab-BF16.gguf");
  }
  void TearDown() override {
    if (!home_.empty()) fs::remove_all(home_);
  }
  fs::path home_;
};

TEST_F(ServeCliTest, RepoIdFromTheCacheServesAndExitsCleanly) {
  const int port = free_port();
  const std::string log = (home_ / "serve.log").string();
  pid_t pid = spawn({"serve", "test-org/tiny-r1", "--port", std::to_string(port), "--threads", "1",
                     "--kv-cache-memory", "16M", "--max-model-len", "256"},
                    {"HF_HOME=" + home_.string(), "EMBER_API_KEY=k1"}, log);
  ASSERT_GT(pid, 0);
  httplib::Client cli("127.0.0.1", port);
  bool healthy = false;
  for (int i = 0; i < 600 && !healthy; ++i) {
    auto r = cli.Get("/health");
    healthy = r && r->status == 200;
    if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(healthy) << read_all(log);
  auto unauthorized = cli.Get("/v1/models");
  ASSERT_TRUE(unauthorized);
  EXPECT_EQ(unauthorized->status, 401);
  auto models = cli.Get("/v1/models", {{"Authorization", "Bearer k1"}});
  ASSERT_TRUE(models);
  ASSERT_EQ(models->status, 200);
  const auto j = nlohmann::json::parse(models->body);
  EXPECT_EQ(j["data"][0]["id"], "test-org/tiny-r1");  // vLLM: the model argument as given
  EXPECT_EQ(j["data"][0]["max_model_len"], 256);
  auto chat = cli.Post("/v1/chat/completions", {{"Authorization", "Bearer k1"}},
                       R"({"model": "test-org/tiny-r1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})",
                       "application/json");
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 200) << chat->body;
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid, 30), 0) << read_all(log);
}

TEST_F(ServeCliTest, GgufFileOfACachedRepo) {
  const int port = free_port();
  const std::string log = (home_ / "serve.log").string();
  pid_t pid = spawn({"serve", "test-org/tiny-r1-GGUF:tiny-r1vocab-BF16.gguf", "--port", std::to_string(port), "--threads",
                     "1", "--kv-cache-memory", "16M", "--max-model-len", "128", "--served-model-name", "r1"},
                    {"HF_HOME=" + home_.string()}, log);
  ASSERT_GT(pid, 0);
  httplib::Client cli("127.0.0.1", port);
  bool healthy = false;
  for (int i = 0; i < 600 && !healthy; ++i) {
    auto r = cli.Get("/health");
    healthy = r && r->status == 200;
    if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(healthy) << read_all(log);
  auto chat = cli.Post("/v1/chat/completions", R"({"model": "r1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})",
                       "application/json");
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 200) << chat->body;
  ::kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid, 30), 0) << read_all(log);
}

TEST_F(ServeCliTest, UncachedRepoIdIsAClearError) {
  const std::string log = (home_ / "serve.log").string();
  // Offline: a repo that is not cached would otherwise be downloaded (tests never reach the internet).
  pid_t pid = spawn({"serve", "nobody/not-downloaded", "--port", std::to_string(free_port())},
                    {"HF_HOME=" + home_.string(), "HF_HUB_OFFLINE=1"}, log);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(wait_exit(pid, 30), 1);
  const std::string out = read_all(log);
  EXPECT_NE(out.find("models--nobody--not-downloaded"), std::string::npos) << out;
  EXPECT_NE(out.find("ember pull"), std::string::npos) << out;
}

}  // namespace
}  // namespace ember::server
