// The server's operations features: CORS (--allowed-origins), a client that
// hangs up on a non-streamed request, one log line per request (text and
// JSON), and the /metrics values against the requests made.
#include <cmath>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "base/log.h"
#include "extra_server.h"
#include "server/cors.h"

namespace ember::server::testing {
namespace {

class OpsTest : public ServerTest {};

// --- CORS --------------------------------------------------------------

TEST(CorsPolicy, Parse) {
  EXPECT_FALSE(CorsPolicy::parse("")->enabled());
  EXPECT_FALSE(CorsPolicy::parse("  ")->enabled());
  auto any = CorsPolicy::parse("*");
  ASSERT_TRUE(any.ok());
  EXPECT_TRUE(any->allows("https://anything.example"));
  EXPECT_FALSE(any->allows(""));  // no Origin: not a CORS request
  auto list = CorsPolicy::parse("https://a.example, http://localhost:3000");
  ASSERT_TRUE(list.ok()) << list.status().to_string();
  EXPECT_TRUE(list->allows("https://a.example"));
  EXPECT_TRUE(list->allows("http://localhost:3000"));
  EXPECT_FALSE(list->allows("http://localhost:3001"));
  EXPECT_FALSE(list->allows("https://a.example.evil"));
  for (const char* bad : {",", "https://a.example,", "a.example", "https://a.example/", "https://a b.example"})
    EXPECT_FALSE(CorsPolicy::parse(bad).ok()) << bad;
  ServerOptions o;
  o.served_model_name = "m";
  o.allowed_origins = "not an origin";
  EXPECT_FALSE(o.validate().ok());
}

TEST_F(OpsTest, NoCorsHeadersByDefault) {
  httplib::Client cli("127.0.0.1", port());
  auto r = cli.Get("/v1/models", {{"Authorization", "Bearer " + kApiKey}, {"Origin", "https://a.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  EXPECT_FALSE(r->has_header("Vary"));
  auto pre = cli.Options("/v1/models", {{"Origin", "https://a.example"}, {"Access-Control-Request-Method", "GET"}});
  ASSERT_TRUE(pre);
  EXPECT_NE(pre->status, 204);
  EXPECT_FALSE(pre->has_header("Access-Control-Allow-Origin"));
}

TEST_F(OpsTest, AllowedOriginsGetCorsHeadersAndPreflights) {
  ServerOptions o;
  o.allowed_origins = "https://ui.example,http://localhost:3000";
  ExtraServer s(o);
  ASSERT_TRUE(s.ok()) << s.error();
  httplib::Client cli = s.client();

  // A preflight needs no API key.
  auto pre = cli.Options("/v1/chat/completions", {{"Origin", "https://ui.example"},
                                                  {"Access-Control-Request-Method", "POST"},
                                                  {"Access-Control-Request-Headers", "authorization,content-type,x-stainless-os"}});
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Origin"), "https://ui.example");
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Methods").find("POST"), std::string::npos);
  const std::string allowed = pre->get_header_value("Access-Control-Allow-Headers");
  EXPECT_NE(allowed.find("Authorization"), std::string::npos);
  EXPECT_NE(allowed.find("Content-Type"), std::string::npos);
  EXPECT_NE(allowed.find("x-stainless-os"), std::string::npos);
  EXPECT_EQ(pre->get_header_value("Vary"), "Origin");

  auto denied = cli.Options("/v1/chat/completions", {{"Origin", "https://evil.example"},
                                                     {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  EXPECT_FALSE(denied->has_header("Access-Control-Allow-Origin"));

  // Actual requests: the allowed origin echoed (on errors too, so a page can
  // read them), another origin or none gets no Allow-Origin.
  Reply ok = s.post("/v1/completions", {{"prompt", "Hi"}, {"max_tokens", 1}}, {{"Origin", "http://localhost:3000"}});
  EXPECT_EQ(ok.status, 200);
  auto r = cli.Get("/v1/models", {{"Authorization", "Bearer " + kApiKey}, {"Origin", "http://localhost:3000"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "http://localhost:3000");
  EXPECT_EQ(r->get_header_value("Vary"), "Origin");
  auto unauthorized = cli.Get("/v1/models", {{"Origin", "http://localhost:3000"}});
  ASSERT_TRUE(unauthorized);
  EXPECT_EQ(unauthorized->status, 401);
  EXPECT_EQ(unauthorized->get_header_value("Access-Control-Allow-Origin"), "http://localhost:3000");
  auto other = cli.Get("/v1/models", {{"Authorization", "Bearer " + kApiKey}, {"Origin", "https://evil.example"}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_FALSE(other->has_header("Access-Control-Allow-Origin"));
  auto none = cli.Get("/v1/models", {{"Authorization", "Bearer " + kApiKey}});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_header("Access-Control-Allow-Origin"));
}

TEST_F(OpsTest, AnyOrigin) {
  ServerOptions o;
  o.allowed_origins = "*";
  ExtraServer s(o);
  ASSERT_TRUE(s.ok()) << s.error();
  auto r = s.client().Get("/health", {{"Origin", "https://whoever.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "https://whoever.example");
}

// --- a client that hangs up --------------------------------------------

double counter(const std::string& text, const std::string& key) {
  const double v = ServerTest::metric(text, key);
  return v < 0 ? 0 : v;  // not written yet: nothing counted
}

TEST_F(OpsTest, NonStreamedClientDisconnectAbortsTheRequest) {
  ServerOptions o;
  o.response_cache_bytes = 1 << 20;  // an aborted generation must not be cached
  ExtraServer s(o);
  ASSERT_TRUE(s.ok()) << s.error();
  const std::string before = s.metrics();
  const std::string l = labels();
  const int fd = connect_to(s.port());
  ASSERT_GE(fd, 0);
  const Json body = {{"prompt", "Keep going"}, {"max_tokens", 480}, {"ignore_eos", true}, {"temperature", 0}};
  ASSERT_TRUE(send_all(fd, http_post_text("/v1/completions", body.dump(), false)));
  EXPECT_TRUE(eventually([] { return engine().stats().scheduler.num_running > 0; })) << "the request never ran";
  EXPECT_GT(engine().stats().scheduler.kv_blocks_used, 0);
  ::close(fd);
  // Aborted within a few engine steps: nothing running, no KV blocks held.
  EXPECT_TRUE(eventually([] {
    const auto st = engine().stats().scheduler;
    return st.num_running == 0 && st.num_waiting == 0 && st.kv_blocks_used == 0;
  })) << "running " << engine().stats().scheduler.num_running << ", blocks " << engine().stats().scheduler.kv_blocks_used;
  const std::string abort_key = "vllm:request_success_total{" + labels("finished_reason=\"abort\"") + "}";
  const std::string http_4xx = "http_requests_total{handler=\"/v1/completions\",method=\"POST\",status=\"4xx\"}";
  std::string after;
  EXPECT_TRUE(eventually([&] {
    after = s.metrics();
    return counter(after, http_4xx) - counter(before, http_4xx) == 1;  // logged 499 once the handler returned
  }));
  EXPECT_EQ(counter(after, abort_key) - counter(before, abort_key), 1);
  EXPECT_LT(counter(after, "vllm:generation_tokens_total{" + l + "}") -
                counter(before, "vllm:generation_tokens_total{" + l + "}"),
            480);
  EXPECT_EQ(metric(after, "vllm:kv_cache_usage_perc{" + l + "}"), 0);
  EXPECT_EQ(metric(after, "ember:response_cache_entries{" + l + "}"), 0);
}

// --- one log line per request ------------------------------------------

std::vector<Json> json_lines(const std::string& text, bool* all_json) {
  std::vector<Json> out;
  *all_json = true;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    Json j = Json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("time") || !j.contains("level") || !j.contains("msg")) *all_json = false;
    else out.push_back(std::move(j));
  }
  return out;
}

TEST_F(OpsTest, OneJsonLogLinePerRequest) {
  ServerOptions o;
  o.response_cache_bytes = 1 << 20;
  ExtraServer s(o);
  ASSERT_TRUE(s.ok()) << s.error();
  const Json body = {{"prompt", "Log me"}, {"max_tokens", 3}, {"seed", 1}, {"ignore_eos", true}};
  set_log_format(LogFormat::kJson);
  ::testing::internal::CaptureStderr();
  // Read until the server closes each connection: its log line is written by then.
  const std::string reply = exchange_until_close(s.port(), http_post_text("/v1/completions", body.dump(), true));
  (void)exchange_until_close(s.port(), http_post_text("/v1/completions", body.dump(), true));  // a cache hit
  (void)exchange_until_close(s.port(), "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  LOG_WARN("a line with \"quotes\"\nand a newline");
  const std::string err = ::testing::internal::GetCapturedStderr();
  set_log_format(LogFormat::kText);

  const size_t json_start = reply.find("\r\n\r\n");
  ASSERT_NE(json_start, std::string::npos) << reply;
  const Json usage = Json::parse(reply.substr(json_start + 4), nullptr, false)["usage"];
  ASSERT_TRUE(usage.is_object()) << reply;
  bool all_json = false;
  const std::vector<Json> lines = json_lines(err, &all_json);
  EXPECT_TRUE(all_json) << err;
  std::vector<Json> completions, health;
  bool warned = false;
  for (const Json& j : lines) {
    if (j["msg"] == "request" && j["path"] == "/v1/completions") completions.push_back(j);
    if (j["msg"] == "request" && j["path"] == "/health") health.push_back(j);
    if (j["level"] == "warning" && j["msg"] == "a line with \"quotes\"\nand a newline") warned = true;
  }
  EXPECT_TRUE(warned) << err;
  ASSERT_EQ(completions.size(), 2u) << err;
  ASSERT_EQ(health.size(), 1u) << err;
  for (const Json& c : completions) {
    EXPECT_EQ(c["level"], "info");
    EXPECT_EQ(c["method"], "POST");
    EXPECT_EQ(c["status"], 200);
    EXPECT_EQ(c["id"].get<std::string>().rfind("cmpl-", 0), 0u);
    EXPECT_EQ(c["prompt_tokens"], usage["prompt_tokens"]);
    EXPECT_EQ(c["completion_tokens"], 3);
    EXPECT_EQ(c["finish_reason"], "length");
    EXPECT_GE(c["total_ms"].get<double>(), 0);
  }
  const Json& first = completions[0];
  EXPECT_EQ(first["response_cache"], "miss");
  ASSERT_TRUE(first.contains("queue_ms") && first.contains("ttft_ms")) << first.dump();
  EXPECT_GE(first["queue_ms"].get<double>(), 0);
  EXPECT_GE(first["ttft_ms"].get<double>(), first["queue_ms"].get<double>());
  EXPECT_GE(first["total_ms"].get<double>(), first["ttft_ms"].get<double>());
  EXPECT_EQ(first["cached_tokens"].get<int64_t>() >= 0, true);
  EXPECT_EQ(completions[1]["response_cache"], "hit");
  EXPECT_NE(completions[1]["id"], first["id"]);
  EXPECT_EQ(health[0]["status"], 200);
  EXPECT_EQ(health[0]["method"], "GET");
  EXPECT_FALSE(health[0].contains("prompt_tokens"));
}

TEST_F(OpsTest, TextLogLine) {
  ::testing::internal::CaptureStderr();
  (void)exchange_until_close(port(), "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find(" I request method=GET path=/health status=200 total_ms="), std::string::npos) << err;
}

// --- /metrics against the requests made -------------------------------

TEST_F(OpsTest, MetricsMatchTheRequestsMade) {
  ExtraServer s(ServerOptions{});
  ASSERT_TRUE(s.ok()) << s.error();
  const std::string l = labels();
  const std::string before = s.metrics();
  const auto t0 = std::chrono::steady_clock::now();
  int64_t prompt = 0, generated = 0, itl = 0, tpot = 0;
  auto count = [&](const Json& usage) {
    prompt += usage["prompt_tokens"].get<int64_t>();
    const int64_t g = usage["completion_tokens"].get<int64_t>();
    generated += g;
    itl += g - 1;  // one inter-token gap per token after the first (n = 1)
    tpot += g > 1 ? 1 : 0;
  };
  for (int i = 0; i < 3; ++i) {
    Reply r = s.post("/v1/completions",
                     {{"prompt", "Metric " + std::to_string(i)}, {"max_tokens", 3 + i}, {"ignore_eos", true}});
    ASSERT_EQ(r.status, 200) << r.body;
    count(r.json()["usage"]);
  }
  Reply chat = s.post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "Streamed"}}}},
                                               {"max_tokens", 4},
                                               {"ignore_eos", true},
                                               {"stream", true},
                                               {"stream_options", {{"include_usage", true}}}});
  ASSERT_EQ(chat.status, 200);
  SseEvents sse = parse_sse(chat.body);
  ASSERT_TRUE(sse.done && !sse.events.empty());
  count(sse.events.back()["usage"]);
  const int32_t think = token_id("</think>");
  Reply stopped = s.post("/v1/completions", {{"prompt", "Stop"}, {"max_tokens", 4}, {"stop_token_ids", {think}},
                                             {"logit_bias", {{std::to_string(think), 100}}}});
  ASSERT_EQ(stopped.status, 200);
  EXPECT_EQ(stopped.json()["choices"][0]["finish_reason"], "stop");
  count(stopped.json()["usage"]);
  EXPECT_EQ(s.post("/v1/completions", {{"prompt", "x"}, {"max_tokens", -1}}).status, 400);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  constexpr int kRequests = 5;

  // The HTTP counters are taken as each response is logged (just after it
  // was written, so possibly after the client read it): wait for them.
  const std::string cmpl_2xx = "http_requests_total{handler=\"/v1/completions\",method=\"POST\",status=\"2xx\"}";
  const std::string cmpl_4xx = "http_requests_total{handler=\"/v1/completions\",method=\"POST\",status=\"4xx\"}";
  const std::string chat_2xx = "http_requests_total{handler=\"/v1/chat/completions\",method=\"POST\",status=\"2xx\"}";
  std::string after;
  auto delta = [&](const std::string& key) { return counter(after, key) - counter(before, key); };
  EXPECT_TRUE(eventually([&] {
    after = s.metrics();
    return delta(cmpl_2xx) >= 4 && delta(chat_2xx) >= 1 && delta(cmpl_4xx) >= 1;
  }));
  EXPECT_EQ(delta(cmpl_2xx), 4);
  EXPECT_EQ(delta(chat_2xx), 1);
  EXPECT_EQ(delta(cmpl_4xx), 1);
  EXPECT_GE(delta("http_requests_total{handler=\"/metrics\",method=\"GET\",status=\"2xx\"}"), 1);

  // Tokens and requests: exact.
  EXPECT_EQ(delta("vllm:prompt_tokens_total{" + l + "}"), prompt);
  EXPECT_EQ(delta("vllm:generation_tokens_total{" + l + "}"), generated);
  EXPECT_EQ(delta("vllm:request_success_total{" + labels("finished_reason=\"length\"") + "}"), 4);
  EXPECT_EQ(delta("vllm:request_success_total{" + labels("finished_reason=\"stop\"") + "}"), 1);
  EXPECT_EQ(delta("vllm:request_success_total{" + labels("finished_reason=\"abort\"") + "}"), 0);
  for (const char* h : {"vllm:time_to_first_token_seconds", "vllm:e2e_request_latency_seconds",
                        "vllm:request_queue_time_seconds", "vllm:request_inference_time_seconds",
                        "vllm:request_prefill_time_seconds", "vllm:request_decode_time_seconds",
                        "vllm:request_prompt_tokens", "vllm:request_generation_tokens"}) {
    const std::string name = h;
    EXPECT_EQ(delta(name + "_count{" + l + "}"), kRequests) << name;
    EXPECT_EQ(metric(after, name + "_bucket{" + l + ",le=\"+Inf\"}"), metric(after, name + "_count{" + l + "}")) << name;
  }
  EXPECT_EQ(delta("vllm:inter_token_latency_seconds_count{" + l + "}"), itl);
  EXPECT_EQ(delta("vllm:time_per_output_token_seconds_count{" + l + "}"), tpot);
  EXPECT_EQ(delta("vllm:request_prompt_tokens_sum{" + l + "}"), prompt);
  EXPECT_EQ(delta("vllm:request_generation_tokens_sum{" + l + "}"), generated);

  // Times: plausible, and consistent with one another as vLLM defines them
  // (queue + prefill = TTFT, TTFT + decode = e2e, queue + inference = e2e).
  const double queue = delta("vllm:request_queue_time_seconds_sum{" + l + "}");
  const double prefill = delta("vllm:request_prefill_time_seconds_sum{" + l + "}");
  const double ttft = delta("vllm:time_to_first_token_seconds_sum{" + l + "}");
  const double decode = delta("vllm:request_decode_time_seconds_sum{" + l + "}");
  const double inference = delta("vllm:request_inference_time_seconds_sum{" + l + "}");
  const double e2e = delta("vllm:e2e_request_latency_seconds_sum{" + l + "}");
  EXPECT_GE(queue, 0);
  EXPECT_GT(ttft, 0);
  EXPECT_LE(ttft, e2e);
  EXPECT_LE(e2e, wall * kRequests);
  EXPECT_NEAR(queue + prefill, ttft, 1e-6);
  EXPECT_NEAR(ttft + decode, e2e, 1e-6);
  EXPECT_NEAR(queue + inference, e2e, 1e-6);

  // Every name the dashboards use, with vLLM's labels.
  for (const char* name :
       {"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
        "vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:num_preemptions_total",
        "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "ember:response_cache_queries_total",
        "ember:response_cache_hits_total"})
    EXPECT_GE(metric(after, std::string(name) + "{" + l + "}"), 0) << name;
  for (const char* name :
       {"vllm:time_to_first_token_seconds", "vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds",
        "vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds", "vllm:request_prefill_time_seconds",
        "vllm:request_decode_time_seconds", "vllm:request_prompt_tokens", "vllm:request_generation_tokens"}) {
    EXPECT_NE(after.find(std::string("# TYPE ") + name + " histogram\n"), std::string::npos) << name;
    EXPECT_GE(metric(after, std::string(name) + "_count{" + l + "}"), 0) << name;
  }
  for (const char* reason : {"stop", "length", "abort"})
    EXPECT_GE(metric(after, "vllm:request_success_total{" + labels(std::string("finished_reason=\"") + reason + "\"") + "}"), 0);
  EXPECT_EQ(metric(after, "vllm:num_requests_running{" + l + "}"), 0);
}

// --- docs/: the Grafana dashboard and the Prometheus config -------------

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Every metric a dashboard query names is one the server exports, every
// panel has a unique id and a place, and the variables used are defined.
TEST_F(OpsTest, GrafanaDashboardUsesExportedMetrics) {
  const std::string text = read_text(std::string(EMBER_SOURCE_DIR) + "/docs/grafana/ember-dashboard.json");
  ASSERT_FALSE(text.empty());
  const Json d = Json::parse(text, nullptr, false);
  ASSERT_TRUE(d.is_object()) << "not JSON";
  EXPECT_EQ(d["uid"], "ember-serve");
  std::set<std::string> variables;
  for (const Json& v : d["templating"]["list"]) variables.insert(v["name"].get<std::string>());
  EXPECT_TRUE(variables.count("datasource") && variables.count("model_name"));

  const std::string exported = get("/metrics").body;
  const std::regex name_re("(vllm|ember):[a-z0-9_]+|http_requests_total");
  const std::regex var_re("\\$\\{?([a-z_]+)");
  std::set<int> ids;
  std::set<std::string> used;
  int queries = 0;
  for (const Json& p : d["panels"]) {
    EXPECT_TRUE(ids.insert(p["id"].get<int>()).second) << "duplicate panel id " << p["id"];
    EXPECT_TRUE(p["gridPos"].contains("w") && p["gridPos"].contains("h")) << p["title"];
    if (p["type"] == "row") continue;
    EXPECT_FALSE(p["title"].get<std::string>().empty());
    for (const Json& t : p["targets"]) {
      const std::string expr = t["expr"].get<std::string>();
      ++queries;
      for (std::sregex_iterator it(expr.begin(), expr.end(), name_re), end; it != end; ++it) {
        // A histogram's series (_bucket, _sum, _count) are under its name.
        const std::string name = std::regex_replace(it->str(), std::regex("_(bucket|sum|count)$"), "");
        used.insert(name);
        const bool found = exported.find("# TYPE " + name + " ") != std::string::npos ||
                           exported.find("# TYPE " + it->str() + " ") != std::string::npos;
        EXPECT_TRUE(found) << p["title"] << ": " << it->str();
      }
      for (std::sregex_iterator it(expr.begin(), expr.end(), var_re), end; it != end; ++it) {
        const std::string v = (*it)[1];
        if (v.rfind("__", 0) != 0) {
          EXPECT_TRUE(variables.count(v)) << p["title"] << ": $" << v;
        }
      }
    }
  }
  EXPECT_GE(queries, 20);
  // The panels the issue asks for.
  for (const char* name :
       {"vllm:e2e_request_latency_seconds", "vllm:time_to_first_token_seconds", "vllm:inter_token_latency_seconds",
        "vllm:time_per_output_token_seconds", "vllm:prompt_tokens_total", "vllm:generation_tokens_total",
        "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
        "vllm:prefix_cache_hits_total", "vllm:prefix_cache_queries_total", "vllm:num_preemptions_total",
        "vllm:request_success_total"})
    EXPECT_TRUE(used.count(name)) << "no panel uses " << name;
}

TEST(Docs, PrometheusConfigScrapesTheServer) {
  const std::string text = read_text(std::string(EMBER_SOURCE_DIR) + "/docs/prometheus.yml");
  EXPECT_NE(text.find("metrics_path: /metrics"), std::string::npos);
  EXPECT_NE(text.find("\"127.0.0.1:8000\""), std::string::npos);
  EXPECT_NE(text.find("# authorization:"), std::string::npos);  // bearer auth, commented out
  EXPECT_EQ(text.find('\t'), std::string::npos);  // YAML: no tabs
}

}  // namespace
}  // namespace ember::server::testing
