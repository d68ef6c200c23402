// Concurrency, hostile bodies and shutdown.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "chat/chat_template.h"
#include "engine/model_defaults.h"
#include "server/loading_server.h"
#include "server_fixture.h"

namespace ember::server::testing {
namespace {

class LifecycleTest : public ServerTest {};

TEST_F(LifecycleTest, HostileBodiesGetErrorsNotCrashes) {
  const std::vector<std::string> bodies = {
      "", "null", "\"x\"", "{", "{\"messages\": null}", "{\"messages\": [1]}", "{\"messages\": [{\"role\": 1}]}",
      "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}",
      "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}], \"max_tokens\": 1}",
      "{\"messages\": [{\"role\": \"user\"}], \"max_tokens\": 1}",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 1e300}",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": 1e30}",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"seed\": 18446744073709551615, \"max_tokens\": 1}",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"logit_bias\": {\"1\": 1e39}}",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stop\": [1]}",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stop\": \"\"}",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"chat_template_kwargs\": [1]}",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stream_options\": 3}",
      "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_logprobs\": 5}",
      "{\"messages\": [{\"role\": \"assistant\", \"content\": \"x\"}], \"continue_final_message\": true}",
      "{\"prompt\": []}", "{\"prompt\": [[]]}", "{\"prompt\": [1.5]}", "{\"prompt\": [\"a\", 1]}", "{\"prompt\": {}}",
      "{\"prompt\": \"x\", \"min_tokens\": 5, \"max_tokens\": 2}", "{\"prompt\": \"x\", \"stop_token_ids\": [-1]}",
      "{\"prompt\": \"x\", \"top_k\": -2}", "{\"prompt\": \"x\", \"logprobs\": 21, \"max_tokens\": 1}", "{\"prompt\": \"\\ud800\", \"max_tokens\": 1}",
      std::string(200000, '['), "{\"prompt\": \"x\", \"echo\": true, \"logprobs\": 1, \"max_tokens\": 1}",
  };
  for (const char* path : {"/v1/chat/completions", "/v1/completions", "/generate", "/tokenize"}) {
    for (const auto& body : bodies) {
      Reply r = post_raw(path, body);
      EXPECT_TRUE(r.status == 200 || r.status == 400 || r.status == 404) << path << " " << body.substr(0, 100)
                                                                          << " -> " << r.status << " " << r.body;
      if (r.status != 200) {
        EXPECT_TRUE(r.json()["error"]["message"].is_string()) << r.body;
      }
    }
  }
  EXPECT_EQ(get("/health").status, 200);
}

TEST_F(LifecycleTest, ConcurrentStreamsAllComplete) {
  constexpr int kClients = 32;
  std::atomic<int> complete{0};
  std::atomic<bool> running{true};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([i, &complete] {
      Reply r = post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "n" + std::to_string(i)}}}},
                                              {"max_tokens", 6},
                                              {"ignore_eos", true},
                                              {"stream", true},
                                              {"stream_options", {{"include_usage", true}}}});
      SseEvents s = parse_sse(r.body);
      if (r.status == 200 && s.framing_ok && s.done && !s.events.empty() &&
          s.events.back()["usage"]["completion_tokens"] == 6)
        ++complete;
      else
        ADD_FAILURE() << "client " << i << ": status " << r.status << " " << r.body.substr(0, 300);
    });
  }
  double worst_health = 0;
  std::thread prober([&] {
    while (running.load()) {
      const auto t0 = std::chrono::steady_clock::now();
      EXPECT_EQ(get("/health").status, 200);
      worst_health = std::max(worst_health, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (auto& t : clients) t.join();
  running.store(false);
  prober.join();
  EXPECT_EQ(complete.load(), kClients);
  EXPECT_LT(worst_health, 0.5) << "slowest /health while streaming";
  RecordProperty("worst_health_ms", static_cast<int>(worst_health * 1000));
  EXPECT_EQ(engine().stats().scheduler.kv_blocks_used, 0);
}

// A second server on the same engine, shut down while a stream runs: the
// stream ends (abort, [DONE]), listen() returns, new requests are refused.
TEST_F(LifecycleTest, ShutdownEndsInFlightStreams) {
  ServerOptions o;
  o.port = 0;
  o.served_model_name = kModelName;
  o.http_threads = 8;
  o.max_body_bytes = 4096;
  auto server = Server::create(o, engine(), tokenizer_, engine::generation_defaults(engine().model()));
  ASSERT_TRUE(server.ok()) << server.status().to_string();
  ASSERT_TRUE((*server)->bind().ok());
  Status listen_status = internal_error("not returned");
  std::thread listener([&] { listen_status = (*server)->listen(); });
  ASSERT_TRUE((*server)->warm_up().ok());
  {
    // A body over the limit: 413, in the error format.
    httplib::Client cli("127.0.0.1", (*server)->port());
    auto big = cli.Post("/v1/completions", Json{{"prompt", std::string(8192, 'a')}}.dump(), "application/json");
    ASSERT_TRUE(big);
    EXPECT_EQ(big->status, 413);
    EXPECT_TRUE(Json::parse(big->body, nullptr, false)["error"]["message"].is_string()) << big->body;
  }

  std::atomic<bool> got_data{false};
  std::string body;
  std::thread client([&] {
    httplib::Client cli("127.0.0.1", (*server)->port());
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.headers = {{"Content-Type", "application/json"}};
    req.body = Json{{"prompt", "Go"}, {"max_tokens", 400}, {"ignore_eos", true}, {"stream", true}}.dump();
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
      body.append(data, len);
      got_data.store(true);
      return true;
    };
    (void)cli.send(req);
  });
  for (int i = 0; i < 400 && !got_data.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(got_data.load());
  (*server)->shutdown();
  listener.join();
  client.join();
  EXPECT_TRUE(listen_status.ok()) << listen_status.to_string();
  SseEvents s = parse_sse(body);
  EXPECT_TRUE(s.framing_ok) << body;
  EXPECT_TRUE(s.done) << body;
  ASSERT_FALSE(s.events.empty());
  EXPECT_EQ(s.events.back()["choices"][0]["finish_reason"], "abort");
  for (int i = 0; i < 100 && engine().stats().scheduler.num_running > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(engine().stats().scheduler.num_running, 0);
  EXPECT_FALSE((*server)->ready());
}

// A request with tools renders with the tool_use template when one is given.
TEST_F(LifecycleTest, ToolsPickTheToolTemplate) {
  ServerOptions o;
  o.port = 0;
  o.served_model_name = kModelName;
  o.http_threads = 4;
  o.chat_template = "PLAIN {{ messages[0]['content'] }}";
  o.tool_chat_template = "TOOLS {{ tools | length }} {{ messages[0]['content'] }}";
  auto server = Server::create(o, engine(), tokenizer_, std::nullopt);
  ASSERT_TRUE(server.ok()) << server.status().to_string();
  ASSERT_TRUE((*server)->bind().ok());
  std::thread listener([&] { (void)(*server)->listen(); });
  EXPECT_FALSE((*server)->reasoning_enabled());  // the template does not open <think>
  httplib::Client cli("127.0.0.1", (*server)->port());
  const Json messages = {{{"role", "user"}, {"content", "Hi"}}};
  const Json tools = {{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", Json::object()}}}}};
  auto with_tools = cli.Post("/tokenize", Json{{"messages", messages}, {"tools", tools}}.dump(), "application/json");
  auto without = cli.Post("/tokenize", Json{{"messages", messages}}.dump(), "application/json");
  ASSERT_TRUE(with_tools && without);
  auto ids = [&](const char* text) { return *tok().encode(text, {.add_special_tokens = false}); };
  EXPECT_EQ(Json::parse(with_tools->body)["tokens"].get<std::vector<int32_t>>(), ids("TOOLS 1 Hi")) << with_tools->body;
  EXPECT_EQ(Json::parse(without->body)["tokens"].get<std::vector<int32_t>>(), ids("PLAIN Hi")) << without->body;
  (*server)->shutdown();
  listener.join();
}

// While the model loads: /health 503, the API 503 in the error format;
// stop() frees the port for the real server.
TEST(LoadingServer, AnswersServiceUnavailableAndFreesThePort) {
  int port = 0;
  {
    // A free port: bind port 0, read it back, release.
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    port = ntohs(a.sin_port);
  }
  LoadingServer loading;
  ASSERT_TRUE(loading.start("127.0.0.1", port).ok());
  httplib::Client cli("127.0.0.1", port);
  auto health = cli.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  auto api = cli.Post("/v1/chat/completions", "{}", "application/json");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 503);
  EXPECT_EQ(Json::parse(api->body, nullptr, false)["error"]["code"], 503);
  LoadingServer second;
  EXPECT_FALSE(second.start("127.0.0.1", port).ok());  // in use: no SO_REUSEPORT sharing
  loading.stop();
  LoadingServer after;  // SO_REUSEADDR, as the real server binds
  EXPECT_TRUE(after.start("127.0.0.1", port).ok());
}

}  // namespace
}  // namespace ember::server::testing
