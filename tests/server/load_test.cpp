// 256 concurrent streaming requests all complete with nothing lost, while
// /health and /metrics keep answering within 100 ms (the bound).
// Each stream asks for logprobs with token ids, so every generated token is
// seen in its chunks: their count must equal usage.completion_tokens and
// their decoded text the streamed text. The streams are read by one thread
// polling all their sockets (an async client), so the 2 cores go to the
// server rather than to 256 client threads.
#include <poll.h>

#include <atomic>

#include "extra_server.h"

namespace ember::server::testing {
namespace {

class LoadTest : public ServerTest {};

constexpr int kStreams = 256;
constexpr int kMaxTokens = 8;

struct StreamCheck {
  bool ok = false;
  std::string why;
};

StreamCheck check_stream(const Reply& r, const tokenizer::Tokenizer& tok) {
  StreamCheck c;
  if (r.status != 200) {
    c.why = "status " + std::to_string(r.status) + " " + r.body.substr(0, 200);
    return c;
  }
  SseEvents s = parse_sse(r.body);
  if (!s.framing_ok || !s.done || s.events.empty()) {
    c.why = "framing or [DONE] missing: " + r.body.substr(0, 300);
    return c;
  }
  std::string text, finish, id;
  std::vector<int32_t> ids;
  for (const Json& e : s.events) {
    if (id.empty()) id = e["id"].get<std::string>();
    if (e["id"] != id) {
      c.why = "chunks of different ids";
      return c;
    }
    for (const Json& ch : e["choices"]) {
      text += ch["text"].get<std::string>();
      if (ch["finish_reason"].is_string()) finish = ch["finish_reason"];
      if (ch["logprobs"].is_object())
        for (const Json& t : ch["logprobs"]["tokens"]) ids.push_back(std::stoi(t.get<std::string>().substr(9)));
    }
  }
  const Json& usage = s.events.back()["usage"];
  if (!usage.is_object() || usage["completion_tokens"] != kMaxTokens) {
    c.why = "usage " + usage.dump();
    return c;
  }
  if (static_cast<int>(ids.size()) != kMaxTokens) {
    c.why = "saw " + std::to_string(ids.size()) + " tokens in the chunks";
    return c;
  }
  if (finish != "length") {
    c.why = "finish_reason " + finish;
    return c;
  }
  if (tok.decode(ids, true) != text) {
    c.why = "streamed text is not the tokens' text";
    return c;
  }
  c.ok = true;
  return c;
}

// An HTTP/1.1 response as read until the server closed the connection:
// the status and the body (chunked transfer decoded). Status 0 if malformed.
Reply parse_response(const std::string& raw) {
  Reply r;
  const size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return r;
  const std::string head = raw.substr(0, end);
  std::string body = raw.substr(end + 4);
  if (head.find("Transfer-Encoding: chunked") != std::string::npos) {
    std::string decoded;
    size_t pos = 0;
    for (;;) {
      const size_t nl = body.find("\r\n", pos);
      if (nl == std::string::npos) return r;
      const size_t n = std::strtoul(body.substr(pos, nl - pos).c_str(), nullptr, 16);
      if (n == 0) break;
      if (nl + 2 + n > body.size()) return r;
      decoded += body.substr(nl + 2, n);
      pos = nl + 2 + n + 2;
    }
    body = std::move(decoded);
  }
  r.status = std::atoi(raw.c_str() + 9);
  r.body = std::move(body);
  return r;
}

// Sends every request on its own connection at once, then reads them all
// from this thread until each connection is closed.
std::vector<Reply> run_concurrently(int port, const std::vector<std::string>& requests) {
  std::vector<pollfd> fds;
  std::vector<std::string> raw(requests.size());
  for (const std::string& req : requests) {
    const int fd = connect_to(port);
    if (fd >= 0 && !send_all(fd, req)) {
      ::close(fd);
      fds.push_back({-1, 0, 0});
      continue;
    }
    fds.push_back({fd, POLLIN, 0});
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  size_t open = 0;
  for (const auto& p : fds) open += p.fd >= 0;
  char buf[65536];
  while (open > 0 && std::chrono::steady_clock::now() < deadline) {
    if (::poll(fds.data(), fds.size(), 1000) <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
      if (n > 0) {
        raw[i].append(buf, static_cast<size_t>(n));
        continue;
      }
      ::close(fds[i].fd);
      fds[i].fd = -1;
      --open;
    }
  }
  std::vector<Reply> out;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].fd >= 0) ::close(fds[i].fd);  // past the deadline: incomplete
    out.push_back(fds[i].fd >= 0 ? Reply{} : parse_response(raw[i]));
  }
  return out;
}

TEST_F(LoadTest, ManyConcurrentStreamsWhileHealthAndMetricsAnswer) {
  ServerOptions o;  // the default http_threads (512): a thread per stream, and to spare
  ExtraServer s(o);
  ASSERT_TRUE(s.ok()) << s.error();
  ASSERT_GE(s.server().options().http_threads, kStreams + 16);
  const std::string before = s.metrics();

  std::atomic<int> complete{0};
  std::vector<std::string> failures;
  std::atomic<bool> running{true};
  // Probes: a new connection each time, as a monitor would open.
  std::atomic<int> probes{0};
  double worst_health = 0, worst_metrics = 0;
  const auto start = std::chrono::steady_clock::now();
  std::string slow;  // probes over 50 ms, for the failure message
  int64_t peak = 0;  // requests in the engine at once
  std::thread prober([&] {
    while (running.load()) {
      const auto st = engine().stats().scheduler;
      peak = std::max(peak, st.num_running + st.num_waiting);
      for (const char* path : {"/health", "/metrics"}) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = s.client().Get(path, {{"Authorization", "Bearer " + kApiKey}});
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        EXPECT_TRUE(r && r->status == 200) << path;
        double& worst = std::string(path) == "/health" ? worst_health : worst_metrics;
        worst = std::max(worst, dt);
        if (dt > 0.05) {
          char note[96];
          std::snprintf(note, sizeof note, " %s %.1f ms at %.2f s;", path, dt * 1e3,
                        std::chrono::duration<double>(t0 - start).count());
          slow += note;
        }
        ++probes;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });

  std::vector<std::string> requests;
  for (int i = 0; i < kStreams; ++i)
    requests.push_back(http_post_text("/v1/completions",
                                      Json{{"prompt", "Stream " + std::to_string(i)},
                                           {"max_tokens", kMaxTokens},
                                           {"ignore_eos", true},
                                           {"temperature", 0},
                                           {"logprobs", 0},
                                           {"return_tokens_as_token_ids", true},
                                           {"stream", true},
                                           {"stream_options", {{"include_usage", true}}}}
                                          .dump(),
                                      /*close=*/true));
  const std::vector<Reply> replies = run_concurrently(s.port(), requests);
  for (size_t i = 0; i < replies.size(); ++i) {
    StreamCheck c = check_stream(replies[i], tok());
    if (c.ok) ++complete;
    else failures.push_back("stream " + std::to_string(i) + ": " + c.why);
  }
  running.store(false);
  prober.join();

  EXPECT_EQ(complete.load(), kStreams);
  for (size_t i = 0; i < failures.size() && i < 5; ++i) ADD_FAILURE() << failures[i];
  EXPECT_GT(probes.load(), 2);
  EXPECT_GE(peak, kStreams / 2) << "the streams did not run concurrently";
  EXPECT_LT(worst_health, 0.100) << "slowest /health during the load; slow probes:" << slow;
  EXPECT_LT(worst_metrics, 0.100) << "slowest /metrics during the load; slow probes:" << slow;
  RecordProperty("worst_health_ms", static_cast<int>(worst_health * 1000));
  RecordProperty("worst_metrics_ms", static_cast<int>(worst_metrics * 1000));
  std::printf("%d streams (at most %lld in the engine at once): worst /health %.1f ms, worst /metrics %.1f ms over %d "
              "probes\n",
              kStreams, static_cast<long long>(peak), worst_health * 1e3, worst_metrics * 1e3, probes.load());

  // The server counted them all, and nothing is left running.
  const std::string after = s.metrics();
  const std::string key = "vllm:request_success_total{" + labels("finished_reason=\"length\"") + "}";
  EXPECT_EQ(metric(after, key) - metric(before, key), kStreams);
  EXPECT_TRUE(eventually([] { return engine().stats().scheduler.kv_blocks_used == 0; }));
  EXPECT_EQ(engine().stats().scheduler.num_running, 0);
}

}  // namespace
}  // namespace ember::server::testing
