// `ember serve` as a process: a repo id found in a Hugging Face cache laid
// out as huggingface-cli writes it (HF_HOME/hub/models--ORG--NAME/refs/main
// -> snapshots/<commit>/), /health after warm-up, the served name, the API
// key from EMBER_API_KEY, exit 0 on SIGTERM (promptly with an idle
// keep-alive connection open, and a request still arriving cut after a
// grace); a repo id that is not cached is a clear error.
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
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

#include "support/ember_process.h"

namespace ember::server {
namespace {

namespace fs = std::filesystem;

const std::string kEmber = test_support::ember_binary();
const std::string kModelDir = std::string(EMBER_FIXTURES_DIR) + "/models/tiny-r1vocab/hf";
const std::string kGguf = std::string(EMBER_FIXTURES_DIR) + "/models/tiny-r1vocab/tiny-r1vocab-BF16.gguf";

using test_support::free_loopback_port;
using test_support::wait_exit;

// Runs ember with `args` and extra environment; stdout+stderr to `log`.
pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& log) {
  return test_support::spawn_ember(args, env, log);
}

std::string read_all(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

bool wait_healthy(int port) {
  httplib::Client cli("127.0.0.1", port);
  for (int i = 0; i < 600; ++i) {
    auto r = cli.Get("/health");
    if (r && r->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// A raw connection to the server (what a keep-alive client holds); -1 if
// it cannot connect.
int connect_to(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(s);
    return -1;
  }
  timeval tv{10, 0};  // no read in these tests waits longer
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

bool send_all(int s, const std::string& data) {
  return ::send(s, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

// Reads one response with a Content-Length body (what /health sends).
std::string read_response(int s) {
  std::string got;
  char buf[4096];
  while (true) {
    const size_t end = got.find("\r\n\r\n");
    if (end != std::string::npos) {
      const size_t cl = got.find("Content-Length: ");
      const size_t len = cl == std::string::npos || cl > end ? 0 : std::stoul(got.substr(cl + 16));
      if (got.size() >= end + 4 + len) return got;
    }
    const ssize_t n = ::recv(s, buf, sizeof buf, 0);
    if (n <= 0) return got;
    got.append(buf, static_cast<size_t>(n));
  }
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
  // The Hugging Face cache and the chat store's default place (no
  // --data-dir: $XDG_DATA_HOME/ember) under home_, never the real home.
  std::vector<std::string> env(std::vector<std::string> extra) const {
    extra.push_back("HF_HOME=" + home_.string());
    extra.push_back("XDG_DATA_HOME=" + (home_ / "data").string());
    return extra;
  }
  fs::path home_;
};

TEST_F(ServeCliTest, RepoIdFromTheCacheServesAndExitsCleanly) {
  const int port = free_loopback_port();
  const std::string log = (home_ / "serve.log").string();
  pid_t pid = spawn({"serve", "test-org/tiny-r1", "--port", std::to_string(port), "--threads", "1",
                     "--kv-cache-memory", "16M", "--max-model-len", "256"},
                    env({"EMBER_API_KEY=k1"}), log);
  ASSERT_GT(pid, 0);
  httplib::Client cli("127.0.0.1", port);
  bool healthy = false;
  for (int i = 0; i < 600 && !healthy; ++i) {
    auto r = cli.Get("/health");
    healthy = r && r->status == 200;
    if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(healthy) << read_all(log);
  EXPECT_NE(read_all(log).find("chats are stored in " + (home_ / "data" / "ember" / "chats.db").string()),
            std::string::npos)
      << read_all(log);
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
  const int port = free_loopback_port();
  const std::string log = (home_ / "serve.log").string();
  pid_t pid = spawn({"serve", "test-org/tiny-r1-GGUF:tiny-r1vocab-BF16.gguf", "--port", std::to_string(port), "--threads",
                     "1", "--kv-cache-memory", "16M", "--max-model-len", "128", "--served-model-name", "r1"},
                    env({}), log);
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
  pid_t pid = spawn({"serve", "nobody/not-downloaded", "--port", std::to_string(free_loopback_port())},
                    env({"HF_HUB_OFFLINE=1"}), log);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(wait_exit(pid, 30), 1);
  const std::string out = read_all(log);
  EXPECT_NE(out.find("models--nobody--not-downloaded"), std::string::npos) << out;
  EXPECT_NE(out.find("ember pull"), std::string::npos) << out;
}

// SIGTERM with an idle keep-alive connection open (what the openai npm
// client or a browser leaves between requests): the server closes it and
// exits 0 promptly. httplib alone would wait out its 15 s keep-alive
// timeout; 5 s is the bound the shutdown must meet, generous for its ~0.1 s.
TEST_F(ServeCliTest, IdleKeepAliveConnectionDoesNotHoldUpTheExit) {
  const int port = free_loopback_port();
  const std::string log = (home_ / "serve.log").string();
  pid_t pid = spawn({"serve", kGguf, "--port", std::to_string(port), "--threads", "1", "--kv-cache-memory", "16M",
                     "--max-model-len", "128"},
                    env({}), log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_healthy(port)) << read_all(log);
  const int s = connect_to(port);
  ASSERT_GE(s, 0);
  ASSERT_TRUE(send_all(s, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const std::string first = read_response(s);
  ASSERT_EQ(first.rfind("HTTP/1.1 200", 0), 0u) << first;
  EXPECT_EQ(first.find("Connection: close"), std::string::npos) << first;  // kept alive
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid, 5), 0) << read_all(log);
  const std::string out = read_all(log);
  EXPECT_EQ(out.find("still open"), std::string::npos) << out;  // closed, not cut after the grace
  char c;
  EXPECT_EQ(::recv(s, &c, 1, 0), 0);  // closed by the server, nothing more sent
  ::close(s);
}

// A request still arriving at SIGTERM (its body half sent) is not waited
// for past the shutdown's grace (2 s): exit 0 within the same 5 s bound,
// and the log says what was cut.
TEST_F(ServeCliTest, UnfinishedRequestIsCutAfterTheGrace) {
  const int port = free_loopback_port();
  const std::string log = (home_ / "serve.log").string();
  pid_t pid = spawn({"serve", kGguf, "--port", std::to_string(port), "--threads", "1", "--kv-cache-memory", "16M",
                     "--max-model-len", "128"},
                    env({}), log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_healthy(port)) << read_all(log);
  const int s = connect_to(port);
  ASSERT_GE(s, 0);
  ASSERT_TRUE(send_all(s, "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          "Content-Length: 1000\r\n\r\n{\"prompt\": "));
  // The server is reading the body once the request's start is logged as busy; give it the headers.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid, 5), 0) << read_all(log);
  const std::string out = read_all(log);
  EXPECT_NE(out.find("connections still open after 2 s (1 busy"), std::string::npos) << out;
  ::close(s);
}

}  // namespace
}  // namespace ember::server
