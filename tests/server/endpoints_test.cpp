// The endpoints around the completions: auth, /health, /version,
// /v1/models, /tokenize, /detokenize, /generate, /metrics, and a client that
// goes away mid-stream.
#include <chrono>
#include <thread>

#include "chat/chat_template.h"
#include "server_fixture.h"

namespace ember::server::testing {
namespace {

class EndpointsTest : public ServerTest {};

TEST_F(EndpointsTest, ApiKey) {
  Reply r = post("/v1/completions", {{"prompt", "x"}, {"max_tokens", 1}}, /*auth=*/false);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.json()["error"]["code"], "invalid_api_key");
  EXPECT_EQ(r.json()["error"]["type"], "invalid_request_error");
  EXPECT_EQ(get("/v1/models", false).status, 401);
  EXPECT_EQ(get("/metrics", false).status, 401);
  httplib::Client cli("127.0.0.1", port());
  auto wrong = cli.Get("/v1/models", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(get("/health", false).status, 200);  // no key needed
  EXPECT_EQ(get("/v1/models").status, 200);
}

TEST_F(EndpointsTest, HealthVersionModels) {
  EXPECT_TRUE(server_->ready());
  EXPECT_EQ(get("/health").status, 200);
  Reply v = get("/version");
  EXPECT_EQ(v.status, 200);
  EXPECT_TRUE(v.json()["version"].is_string());
  Reply m = get("/v1/models");
  ASSERT_EQ(m.status, 200);
  const Json j = m.json();
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["id"], kModelName);
  EXPECT_EQ(j["data"][0]["object"], "model");
  EXPECT_EQ(j["data"][0]["root"], kModelDir);
  EXPECT_EQ(j["data"][0]["max_model_len"], engine().max_model_len());
  EXPECT_EQ(get("/no/such/route").status, 404);
}

TEST_F(EndpointsTest, TokenizeDetokenize) {
  const std::string text = "Hello, <｜User｜> world";
  Reply r = post("/tokenize", {{"prompt", text}, {"return_token_strs", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto expected = tok().encode(text);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(r.json()["tokens"].get<std::vector<int32_t>>(), *expected);
  EXPECT_EQ(r.json()["count"], expected->size());
  EXPECT_EQ(r.json()["max_model_len"], engine().max_model_len());
  EXPECT_EQ(r.json()["token_strs"].size(), expected->size());

  r = post("/tokenize", {{"prompt", text}, {"add_special_tokens", false}});
  const auto plain = tok().encode(text, {.add_special_tokens = false});
  EXPECT_EQ(r.json()["tokens"].get<std::vector<int32_t>>(), *plain);

  // messages: the chat template's rendering, special tokens parsed.
  r = post("/tokenize", {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto ids = r.json()["tokens"].get<std::vector<int32_t>>();
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), tok().bos_id());
  EXPECT_EQ(ids.back() == token_id("\n") || ids[ids.size() - 2] == token_id("<think>"), true);

  r = post("/detokenize", {{"tokens", *expected}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["prompt"], tok().decode(*expected));
  EXPECT_EQ(post("/detokenize", {{"tokens", {-1}}}).status, 400);
  EXPECT_EQ(post("/tokenize", {{"prompt", 3}}).status, 400);
}

// The chat fields reach the template: /tokenize gives the ids of the
// template's own rendering of the same input.
TEST_F(EndpointsTest, ChatTemplateFields) {
  auto source = chat::load_chat_template(kModelDir, false);
  ASSERT_TRUE(source.ok());
  auto tmpl = chat::ChatTemplate::create(*source);
  ASSERT_TRUE(tmpl.ok());
  const Json messages = {{{"role", "user"}, {"content", "Hi"}}, {{"role", "assistant"}, {"content", "Hel"}}};
  auto expected = [&](bool add_generation_prompt, bool continue_final) {
    chat::ChatRenderInput in;
    in.messages = messages;
    in.add_generation_prompt = add_generation_prompt;
    in.continue_final_message = continue_final;
    if (!tokenizer_.bos_token.empty()) in.bos_token = tokenizer_.bos_token;
    if (!tokenizer_.eos_token.empty()) in.eos_token = tokenizer_.eos_token;
    auto text = tmpl->render(in);
    EXPECT_TRUE(text.ok()) << text.status().to_string();
    return *tok().encode(*text, {.add_special_tokens = false, .parse_special = true});
  };
  Reply r = post("/tokenize", {{"messages", messages}, {"add_generation_prompt", false}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["tokens"].get<std::vector<int32_t>>(), expected(false, false));
  r = post("/tokenize", {{"messages", messages}, {"add_generation_prompt", false}, {"continue_final_message", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["tokens"].get<std::vector<int32_t>>(), expected(false, true));
  EXPECT_NE(expected(false, true), expected(false, false));
  // continue_final_message with the generation prompt is refused.
  EXPECT_EQ(post("/tokenize", {{"messages", messages}, {"continue_final_message", true}}).status, 400);
  // A continued final message generates after "Hel" (not inside reasoning).
  r = post("/v1/chat/completions", {{"messages", messages}, {"add_generation_prompt", false},
                                    {"continue_final_message", true}, {"max_tokens", 2}, {"seed", 1}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["usage"]["prompt_tokens"], expected(false, true).size());
}

TEST_F(EndpointsTest, Generate) {
  const Json req = {{"prompt", "Once"}, {"max_tokens", 5}, {"seed", 7}};
  Reply g = post("/generate", req);
  ASSERT_EQ(g.status, 200) << g.body;
  Reply c = post("/v1/completions", req);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(g.json()["response"], c.json()["choices"][0]["text"]);

  Json stream = req;
  stream["stream"] = true;
  Reply s = post("/generate", stream);
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.content_type, "application/x-ndjson");
  std::string text;
  bool done = false;
  size_t pos = 0;
  while (pos < s.body.size()) {
    const size_t nl = s.body.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    Json line = Json::parse(s.body.substr(pos, nl - pos), nullptr, false);
    ASSERT_FALSE(line.is_discarded());
    EXPECT_FALSE(done) << "a line after the last";
    text += line["response"].get<std::string>();
    if (line.value("done", false)) {
      done = true;
      EXPECT_EQ(line["finish_reason"], "length");
    }
    pos = nl + 1;
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(text, g.json()["response"]);
}

TEST_F(EndpointsTest, MetricsCountTheRequests) {
  const std::string before = get("/metrics").body;
  const std::string l = labels();
  EXPECT_GE(metric(before, "vllm:num_requests_running{" + l + "}"), 0);
  int64_t prompt = 0, generated = 0;
  for (int i = 0; i < 3; ++i) {
    Reply r = post("/v1/completions", {{"prompt", "Count " + std::to_string(i)}, {"max_tokens", 2 + i}});
    ASSERT_EQ(r.status, 200);
    prompt += r.json()["usage"]["prompt_tokens"].get<int64_t>();
    generated += r.json()["usage"]["completion_tokens"].get<int64_t>();
  }
  Reply stopped = post("/v1/completions", {{"prompt", "Count"}, {"max_tokens", 4}, {"stop_token_ids", {token_id("</think>")}},
                                           {"logit_bias", {{std::to_string(token_id("</think>")), 100}}}});
  ASSERT_EQ(stopped.status, 200);
  prompt += stopped.json()["usage"]["prompt_tokens"].get<int64_t>();
  generated += stopped.json()["usage"]["completion_tokens"].get<int64_t>();
  Reply m = get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type.rfind("text/plain", 0), 0u);
  const std::string after = m.body;
  auto delta = [&](const std::string& key) { return metric(after, key) - metric(before, key); };
  EXPECT_EQ(delta("vllm:prompt_tokens_total{" + l + "}"), prompt);
  EXPECT_EQ(delta("vllm:generation_tokens_total{" + l + "}"), generated);
  EXPECT_EQ(delta("vllm:request_success_total{" + labels("finished_reason=\"length\"") + "}"), 3);
  EXPECT_EQ(delta("vllm:request_success_total{" + labels("finished_reason=\"stop\"") + "}"), 1);
  EXPECT_EQ(delta("vllm:time_to_first_token_seconds_count{" + l + "}"), 4);
  EXPECT_EQ(delta("vllm:e2e_request_latency_seconds_count{" + l + "}"), 4);
  EXPECT_EQ(delta("vllm:request_prompt_tokens_sum{" + l + "}"), prompt);
  EXPECT_EQ(delta("vllm:request_generation_tokens_sum{" + l + "}"), generated);
  EXPECT_EQ(metric(after, "vllm:time_to_first_token_seconds_bucket{" + l + ",le=\"+Inf\"}"),
            metric(after, "vllm:time_to_first_token_seconds_count{" + l + "}"));
  // The engine's own counters, as it reports them.
  const auto stats = engine().stats().scheduler;
  EXPECT_EQ(metric(after, "vllm:prefix_cache_queries_total{" + l + "}"), stats.prefix_query_tokens);
  EXPECT_EQ(metric(after, "vllm:prefix_cache_hits_total{" + l + "}"), stats.prefix_hit_tokens);
  EXPECT_EQ(metric(after, "vllm:num_preemptions_total{" + l + "}"), stats.num_preemptions);
  EXPECT_EQ(metric(after, "vllm:num_requests_running{" + l + "}"), 0);
  EXPECT_EQ(metric(after, "vllm:num_requests_waiting{" + l + "}"), 0);
  EXPECT_GE(metric(after, "vllm:kv_cache_usage_perc{" + l + "}"), 0);
  // An HTTP request is counted as its response is logged, which can be just
  // after the client has read it: wait for the last one.
  const std::string http_2xx = "http_requests_total{handler=\"/v1/completions\",method=\"POST\",status=\"2xx\"}";
  int64_t counted = metric(after, http_2xx);
  for (int i = 0; i < 500 && counted < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    counted = metric(get("/metrics").body, http_2xx);
  }
  EXPECT_GE(counted, 4);
}

TEST_F(EndpointsTest, ClientDisconnectAbortsTheRequest) {
  const std::string before = get("/metrics").body;
  httplib::Client cli("127.0.0.1", port());
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.headers = {{"Authorization", "Bearer " + kApiKey}, {"Content-Type", "application/json"}};
  req.body = Json{{"prompt", "Go on"}, {"max_tokens", 400}, {"ignore_eos", true}, {"stream", true}}.dump();
  size_t received = 0;
  bool saw_running = false;
  req.content_receiver = [&](const char*, size_t len, uint64_t, uint64_t) {
    received += len;
    saw_running = saw_running || engine().stats().scheduler.num_running > 0;
    return received < 600;  // a few chunks, then hang up
  };
  auto res = cli.send(req);
  EXPECT_GT(received, 0u);
  EXPECT_TRUE(saw_running);
  // Aborted within a few engine steps: nothing running, no KV blocks held.
  engine::SchedulerStats s;
  for (int i = 0; i < 200; ++i) {
    s = engine().stats().scheduler;
    if (s.num_running == 0 && s.num_waiting == 0 && s.kv_blocks_used == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(s.num_running, 0);
  EXPECT_EQ(s.kv_blocks_used, 0);
  const std::string after = get("/metrics").body;
  const std::string key = "vllm:request_success_total{" + labels("finished_reason=\"abort\"") + "}";
  EXPECT_EQ(metric(after, key) - metric(before, key), 1);
  EXPECT_LT(metric(after, "vllm:generation_tokens_total{" + labels() + "}") -
                metric(before, "vllm:generation_tokens_total{" + labels() + "}"),
            400);
}

}  // namespace
}  // namespace ember::server::testing
