// bench-serve's stream parsing and metrics against hand-worked values of
// vLLM's benchmark_serving definitions (numpy's mean / median / std with
// ddof 0 / linear percentile).
#include "app/serve_bench.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace ember::app::servebench {
namespace {

TEST(ServeBench, PercentileIsNumpysLinearInterpolation) {
  // np.percentile([1, 2, 3, 4], q): rank q/100 * 3.
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 50), 2.5);
  EXPECT_NEAR(percentile({4, 1, 3, 2}, 99), 3.97, 1e-12);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0), 1);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 100), 4);
  EXPECT_DOUBLE_EQ(percentile({15, 20, 35, 40, 50}, 40), 29);  // numpy's docs example
  EXPECT_DOUBLE_EQ(percentile({7}, 99), 7);
  EXPECT_DOUBLE_EQ(percentile({}, 99), 0);
}

TEST(ServeBench, SummaryInMilliseconds) {
  const Summary s = summarize_ms({0.001, 0.002, 0.003, 0.004});
  EXPECT_NEAR(s.mean, 2.5, 1e-9);
  EXPECT_NEAR(s.median, 2.5, 1e-9);
  EXPECT_NEAR(s.std, std::sqrt(1.25), 1e-9);  // population std of 1..4
  EXPECT_NEAR(s.p99, 3.97, 1e-9);
  const Summary empty = summarize_ms({});
  EXPECT_EQ(empty.mean, 0);
  EXPECT_EQ(empty.p99, 0);
}

// A completions stream: a chunk per token, a usage chunk, [DONE]; fed in
// pieces that split events and lines.
TEST(ServeBench, StreamTimingsAndUsage) {
  const std::string ev1 = "data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\n";
  const std::string ev2 = "data: {\"choices\":[{\"index\":0,\"text\":\"b\"}]}\n\n";
  const std::string ev3 = "data: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}]}\n\n";
  const std::string usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":4}}\n\n";
  const std::string done = "data: [DONE]\n\n";
  StreamParser p;
  p.feed(ev1.data(), 10, 0.100);  // incomplete: no event yet
  p.feed(ev1.data() + 10, ev1.size() - 10, 0.125);
  p.feed(ev2.data(), ev2.size() - 1, 0.150);  // all but the blank line
  p.feed("\n", 1, 0.175);
  const std::string rest = ev3 + usage + done;
  p.feed(rest.data(), rest.size(), 0.250);
  RequestResult r;
  r.prompt_len = 8;
  p.finish(&r);
  EXPECT_TRUE(r.success) << r.error;
  EXPECT_DOUBLE_EQ(r.ttft, 0.125);
  EXPECT_DOUBLE_EQ(r.latency, 0.250);
  ASSERT_EQ(r.itl.size(), 2u);
  EXPECT_NEAR(r.itl[0], 0.050, 1e-12);
  EXPECT_NEAR(r.itl[1], 0.075, 1e-12);
  EXPECT_EQ(r.output_tokens, 4);  // usage, not the 2 chunks with text
}

TEST(ServeBench, StreamWithoutUsageCountsTextChunksAndCrLfFraming) {
  const std::string body =
      "data: {\"choices\":[{\"text\":\"x\"}]}\r\n\r\ndata: {\"choices\":[{\"text\":\"y\"}]}\r\n\r\ndata: [DONE]\r\n\r\n";
  StreamParser p;
  p.feed(body.data(), body.size(), 1.0);
  RequestResult r;
  p.finish(&r);
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.output_tokens, 2);
  EXPECT_EQ(r.itl, std::vector<double>{0.0});
}

TEST(ServeBench, StreamErrorsAndEmptyStreamsFail) {
  {
    const std::string body = "data: {\"choices\":[{\"text\":\"x\"}]}\n\ndata: {\"error\":{\"message\":\"boom\"}}\n\n";
    StreamParser p;
    p.feed(body.data(), body.size(), 0.5);
    RequestResult r;
    p.finish(&r);
    EXPECT_FALSE(r.success);
    EXPECT_NE(r.error.find("boom"), std::string::npos);
  }
  {
    const std::string body = "data: [DONE]\n\n";
    StreamParser p;
    p.feed(body.data(), body.size(), 0.5);
    RequestResult r;
    p.finish(&r);
    EXPECT_FALSE(r.success);
  }
  {
    const std::string body = "data: not json\n\n";
    StreamParser p;
    p.feed(body.data(), body.size(), 0.5);
    RequestResult r;
    p.finish(&r);
    EXPECT_FALSE(r.success);
  }
}

TEST(ServeBench, MetricsFollowBenchmarkServing) {
  auto done = [](int64_t out, double ttft, double latency, std::vector<double> itl) {
    RequestResult r;
    r.success = true;
    r.prompt_len = 8;
    r.output_tokens = out;
    r.ttft = ttft;
    r.latency = latency;
    r.itl = std::move(itl);
    return r;
  };
  const RequestResult a = done(5, 0.1, 0.5, {0.1, 0.1, 0.1, 0.1}), b = done(1, 0.2, 0.2, {});
  RequestResult failed;
  failed.error = "HTTP 400";
  failed.prompt_len = 8;
  const Metrics m = compute_metrics({a, b, failed}, 2.0);
  EXPECT_EQ(m.completed, 2);
  EXPECT_EQ(m.failed, 1);
  EXPECT_EQ(m.total_input, 16);  // failed requests count no input
  EXPECT_EQ(m.total_output, 6);
  EXPECT_DOUBLE_EQ(m.request_throughput, 1.0);
  EXPECT_DOUBLE_EQ(m.output_throughput, 3.0);
  EXPECT_DOUBLE_EQ(m.total_token_throughput, 11.0);
  // TPOT only over requests of more than one token: (0.5 - 0.1) / 4.
  EXPECT_NEAR(m.tpot.mean, 100.0, 1e-9);
  EXPECT_NEAR(m.tpot.std, 0.0, 1e-9);
  EXPECT_NEAR(m.ttft.mean, 150.0, 1e-9);
  EXPECT_NEAR(m.ttft.median, 150.0, 1e-9);
  EXPECT_NEAR(m.ttft.p99, 199.0, 1e-9);
  EXPECT_NEAR(m.itl.mean, 100.0, 1e-9);
  EXPECT_NEAR(m.e2el.mean, 350.0, 1e-9);
}

TEST(ServeBench, PromptsAndArrivals) {
  const auto p = random_prompts(3, 16, 5);
  ASSERT_EQ(p.size(), 3u);
  for (const auto& ids : p) {
    ASSERT_EQ(ids.size(), 16u);
    for (int32_t id : ids) {
      EXPECT_GE(id, kFirstId);
      EXPECT_LT(id, kEndId);
    }
  }
  EXPECT_EQ(random_prompts(3, 16, 5), p);  // seeded
  EXPECT_NE(random_prompts(3, 16, 6), p);
  EXPECT_EQ(arrival_times(4, INFINITY, 0), std::vector<double>(4, 0.0));
  const auto t = arrival_times(2000, 10.0, 1);
  EXPECT_EQ(t[0], 0.0);
  for (size_t i = 1; i < t.size(); ++i) EXPECT_GE(t[i], t[i - 1]);
  // Exponential gaps of mean 1/rate: 1999 gaps average 0.1 s within a few %.
  EXPECT_NEAR(t.back() / 1999.0, 0.1, 0.01);
}

TEST(ServeBench, Urls) {
  auto e = parse_url("http://127.0.0.1:8000");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 8000);
  EXPECT_EQ(e->prefix, "");
  e = parse_url("https://example.com/proxy/v1/");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->scheme, "https");
  EXPECT_EQ(e->port, 443);
  EXPECT_EQ(e->prefix, "/proxy");
  e = parse_url("localhost:9000/v1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->scheme_host_port(), "http://localhost:9000");
  EXPECT_EQ(e->prefix, "");
  e = parse_url("http://[::1]:8080");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->scheme_host_port(), "http://[::1]:8080");
  for (const char* bad : {"ftp://x", "http://", "http://h:0", "http://h:65536", "http://h:x", "http://h:", "http://[::1"})
    EXPECT_FALSE(parse_url(bad).ok()) << bad;
}

}  // namespace
}  // namespace ember::app::servebench
