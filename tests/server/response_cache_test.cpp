// The exact-repeat response cache: its key (every field that changes the
// output changes the key), its LRU byte bound, and the server answering a
// repeated deterministic request from it, streamed and not, with the same
// output as the engine gave the first time.
#include <functional>
#include <set>

#include "extra_server.h"
#include "server/response_cache.h"

namespace ember::server::testing {
namespace {

// --- the key -----------------------------------------------------------

struct KeyInput {
  std::string route = "completions";
  std::string model = "m";
  GenerationOptions options;
  std::vector<int32_t> prompt = {1, 2, 3};
  sampling::SamplingParams params;
  int32_t n = 1;
  std::vector<std::pair<const char*, bool>> flags = {{"logprobs", false}, {"echo", false}};
  KeyInput() { params.temperature = 0; }
  std::string key() const { return response_cache_key(route, model, options, {{&prompt, &params, n}}, flags); }
};

TEST(ResponseCacheKey, EveryOutputFieldChangesTheKey) {
  const std::string base = KeyInput().key();
  ASSERT_FALSE(base.empty());
  EXPECT_EQ(KeyInput().key(), base);  // the same request, the same key
  const std::vector<std::pair<const char*, std::function<void(KeyInput&)>>> changes = {
      {"route", [](KeyInput& k) { k.route = "chat"; }},
      {"model", [](KeyInput& k) { k.model = "other"; }},
      {"prompt", [](KeyInput& k) { k.prompt.back() = 4; }},
      {"prompt length", [](KeyInput& k) { k.prompt.push_back(3); }},
      {"n", [](KeyInput& k) { k.n = 2; }},
      {"top_k", [](KeyInput& k) { k.params.top_k = 5; }},
      {"top_p", [](KeyInput& k) { k.params.top_p = 0.5f; }},
      {"min_p", [](KeyInput& k) { k.params.min_p = 0.1f; }},
      {"repetition_penalty", [](KeyInput& k) { k.params.repetition_penalty = 1.1f; }},
      {"presence_penalty", [](KeyInput& k) { k.params.presence_penalty = 0.5f; }},
      {"frequency_penalty", [](KeyInput& k) { k.params.frequency_penalty = 0.5f; }},
      {"logit_bias", [](KeyInput& k) { k.params.logit_bias[7] = 1.0f; }},
      {"seed", [](KeyInput& k) { k.params.seed = 0; }},
      {"stop_token_ids", [](KeyInput& k) { k.params.stop_token_ids = {9}; }},
      {"max_tokens", [](KeyInput& k) { k.params.max_tokens = 17; }},
      {"min_tokens", [](KeyInput& k) { k.params.min_tokens = 2; }},
      {"ignore_eos", [](KeyInput& k) { k.params.ignore_eos = true; }},
      {"logprobs k", [](KeyInput& k) { k.params.logprobs = 0; }},
      {"stop", [](KeyInput& k) { k.options.text.stop = {"x"}; }},
      {"skip_special_tokens", [](KeyInput& k) { k.options.text.skip_special_tokens = false; }},
      {"include_stop_str_in_output", [](KeyInput& k) { k.options.text.include_stop_str_in_output = true; }},
      {"reasoning", [](KeyInput& k) { k.options.reasoning = true; }},
      {"starts_in_reasoning", [](KeyInput& k) { k.options.starts_in_reasoning = false; }},
      {"include_reasoning", [](KeyInput& k) { k.options.include_reasoning = false; }},
      {"logprobs flag", [](KeyInput& k) { k.flags[0].second = true; }},
      {"echo", [](KeyInput& k) { k.flags[1].second = true; }},
      {"return_tokens_as_token_ids", [](KeyInput& k) { k.flags.push_back({"return_tokens_as_token_ids", true}); }},
  };
  std::set<std::string> keys = {base};
  for (const auto& [name, change] : changes) {
    KeyInput k;
    change(k);
    const std::string key = k.key();
    EXPECT_FALSE(key.empty()) << name;
    EXPECT_NE(key, base) << name;
    keys.insert(key);
  }
  EXPECT_EQ(keys.size(), changes.size() + 1);  // all different from each other too
  // Stop strings are delimited: ["ab"] is not ["a", "b"].
  KeyInput a, b;
  a.options.text.stop = {"ab"};
  b.options.text.stop = {"a", "b"};
  EXPECT_NE(a.key(), b.key());
}

TEST(ResponseCacheKey, OnlyDeterministicRequests) {
  KeyInput k;
  k.params.temperature = 0.7f;
  EXPECT_EQ(k.key(), "");  // sampled without a seed: never cached
  k.params.seed = 3;
  EXPECT_NE(k.key(), "");  // a fixed seed reproduces
  k.params.seed.reset();
  k.params.temperature = 0;
  EXPECT_NE(k.key(), "");  // greedy
  // Every part must be deterministic.
  sampling::SamplingParams sampled;
  sampled.temperature = 1;
  std::vector<int32_t> p = {5};
  EXPECT_EQ(response_cache_key("completions", "m", k.options, {{&k.prompt, &k.params, 1}, {&p, &sampled, 1}}, {}), "");
  EXPECT_EQ(response_cache_key("completions", "m", k.options, {}, {}), "");
}

// --- the LRU -----------------------------------------------------------

std::shared_ptr<CachedResponse> response_of(size_t text_bytes) {
  auto r = std::make_shared<CachedResponse>();
  ChoiceDelta d;
  d.content = std::string(text_bytes, 'x');
  d.finish_reason = "stop";
  r->batches.push_back({d});
  r->num_choices = 1;
  r->reasoning_splits = {ReasoningSplit::kNone};
  r->finish_reasons = {"stop"};
  return r;
}

TEST(ResponseCache, LeastRecentlyUsedWithinTheByteBound) {
  const size_t one = response_of(1000)->bytes() + 1000;  // an entry with its key and overhead, roughly
  ResponseCache cache(3 * one);
  ASSERT_TRUE(cache.enabled());
  const std::string k1(500, '1'), k2(500, '2'), k3(500, '3'), k4(500, '4');
  cache.put(k1, response_of(1000));
  cache.put(k2, response_of(1000));
  cache.put(k3, response_of(1000));
  EXPECT_EQ(cache.stats().entries, 3);
  EXPECT_LE(cache.stats().bytes, static_cast<int64_t>(3 * one));
  ASSERT_NE(cache.get(k1), nullptr);  // k1 is now the most recent; k2 the least
  cache.put(k4, response_of(1000));
  EXPECT_EQ(cache.get(k2), nullptr);
  EXPECT_NE(cache.get(k1), nullptr);
  EXPECT_NE(cache.get(k3), nullptr);
  EXPECT_NE(cache.get(k4), nullptr);
  const ResponseCacheStats s = cache.stats();
  EXPECT_EQ(s.queries, 5);
  EXPECT_EQ(s.hits, 4);
  EXPECT_EQ(s.entries, 3);
  // Replacing a key keeps one entry.
  cache.put(k4, response_of(10));
  EXPECT_EQ(cache.stats().entries, 3);
  EXPECT_EQ(cache.get(k4)->batches[0][0].content.size(), 10u);
  // An entry larger than the whole cache is not stored (and evicts nothing).
  cache.put("big", response_of(10 * one));
  EXPECT_EQ(cache.get("big"), nullptr);
  EXPECT_EQ(cache.stats().entries, 3);
}

TEST(ResponseCache, ZeroDisables) {
  ResponseCache cache(0);
  EXPECT_FALSE(cache.enabled());
  cache.put("k", response_of(1));
  EXPECT_EQ(cache.get("k"), nullptr);
  EXPECT_EQ(cache.stats().queries, 0);  // a disabled cache counts nothing
}

TEST(ResponseCache, SizeFlag) {
  EXPECT_EQ(*parse_response_cache_size("0"), 0u);
  EXPECT_EQ(*parse_response_cache_size("64M"), 64u << 20);
  EXPECT_EQ(*parse_response_cache_size("512K"), 512u << 10);
  EXPECT_EQ(*parse_response_cache_size("1G"), 1u << 30);
  EXPECT_EQ(*parse_response_cache_size("1000"), 1000u);
  for (const char* bad : {"", "-1", "abc", "12Q", "nan", "1e30"})
    EXPECT_FALSE(parse_response_cache_size(bad).ok()) << bad;
}

// --- the server --------------------------------------------------------

class ResponseCacheServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (IsSkipped()) return;
    ServerOptions o;
    o.response_cache_bytes = 8 << 20;
    extra_ = std::make_unique<ExtraServer>(o);
    ASSERT_TRUE(extra_->ok()) << extra_->error();
  }
  double cache_metric(const std::string& name) { return metric(extra_->metrics(), name + "{" + labels() + "}"); }
  double engine_requests() {
    const std::string m = extra_->metrics();
    return metric(m, "vllm:e2e_request_latency_seconds_count{" + labels() + "}");
  }
  std::unique_ptr<ExtraServer> extra_;
};

TEST_F(ResponseCacheServerTest, RepeatedChatIsAnsweredFromTheCache) {
  const Json req = {{"messages", {{{"role", "user"}, {"content", "Cache me"}}}}, {"max_tokens", 6}, {"seed", 21},
                    {"n", 2}, {"logprobs", true}, {"top_logprobs", 2}};
  Reply first = extra_->post("/v1/chat/completions", req);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(cache_metric("ember:response_cache_queries_total"), 1);
  EXPECT_EQ(cache_metric("ember:response_cache_hits_total"), 0);
  EXPECT_EQ(cache_metric("ember:response_cache_entries"), 1);
  const double ran = engine_requests();

  Reply second = extra_->post("/v1/chat/completions", req);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(cache_metric("ember:response_cache_hits_total"), 1);
  EXPECT_EQ(engine_requests(), ran) << "a hit must not run the engine";
  const Json a = first.json(), b = second.json();
  EXPECT_EQ(b["choices"], a["choices"]);  // content, reasoning, logprobs, finish and stop reasons
  EXPECT_EQ(b["usage"], a["usage"]);
  EXPECT_NE(b["id"], a["id"]);  // a fresh response

  // Streamed, the hit replays the same output as chunks.
  Json sreq = req;
  sreq["stream"] = true;
  sreq["stream_options"] = {{"include_usage", true}};
  Reply streamed = extra_->post("/v1/chat/completions", sreq);
  ASSERT_EQ(streamed.status, 200);
  EXPECT_EQ(cache_metric("ember:response_cache_hits_total"), 2);
  EXPECT_EQ(engine_requests(), ran);
  SseEvents s = parse_sse(streamed.body);
  ASSERT_TRUE(s.framing_ok && s.done) << streamed.body;
  std::vector<std::string> content(2), reasoning(2), finish(2);
  std::set<std::string> ids;
  for (const Json& e : s.events) {
    ids.insert(e["id"].get<std::string>());
    EXPECT_NE(e["id"], a["id"]);
    for (const Json& c : e["choices"]) {
      const size_t i = c["index"].get<size_t>();
      if (c["delta"].contains("content") && c["delta"]["content"].is_string())
        content[i] += c["delta"]["content"].get<std::string>();
      if (c["delta"].contains("reasoning_content")) reasoning[i] += c["delta"]["reasoning_content"].get<std::string>();
      if (c["finish_reason"].is_string()) finish[i] = c["finish_reason"];
    }
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(s.events.back()["usage"], a["usage"]);
  for (size_t i = 0; i < 2; ++i) {
    const Json& m = a["choices"][i]["message"];
    EXPECT_EQ(content[i], m["content"].is_string() ? m["content"].get<std::string>() : "") << i;
    EXPECT_EQ(reasoning[i], m["reasoning_content"].is_string() ? m["reasoning_content"].get<std::string>() : "") << i;
    EXPECT_EQ(finish[i], a["choices"][i]["finish_reason"]) << i;
  }

  // Any change of what shapes the output is a miss that runs the engine.
  Json other = req;
  other["max_tokens"] = 5;
  ASSERT_EQ(extra_->post("/v1/chat/completions", other).status, 200);
  EXPECT_EQ(cache_metric("ember:response_cache_hits_total"), 2);
  EXPECT_EQ(engine_requests(), ran + 1);
  // A sampled request without a seed is not even looked up.
  const double queries = cache_metric("ember:response_cache_queries_total");
  ASSERT_EQ(extra_->post("/v1/chat/completions", {{"messages", req["messages"]}, {"max_tokens", 2}, {"temperature", 1}})
                .status,
            200);
  EXPECT_EQ(cache_metric("ember:response_cache_queries_total"), queries);
}

TEST_F(ResponseCacheServerTest, StreamedFirstThenCompletionsAndGenerateNonStreamed) {
  // The first request streamed (its recording feeds the cache), the repeat not.
  const Json req = {{"prompt", Json::array({"One prompt", "Another"})}, {"max_tokens", 5}, {"temperature", 0},
                    {"echo", true}};
  Json sreq = req;
  sreq["stream"] = true;
  Reply streamed = extra_->post("/v1/completions", sreq);
  ASSERT_EQ(streamed.status, 200) << streamed.body;
  SseEvents s = parse_sse(streamed.body);
  ASSERT_TRUE(s.done);
  std::vector<std::string> text(2);
  for (const Json& e : s.events)
    for (const Json& c : e["choices"]) text[c["index"].get<size_t>()] += c["text"].get<std::string>();
  const double ran = engine_requests();
  Reply plain = extra_->post("/v1/completions", req);
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(cache_metric("ember:response_cache_hits_total"), 1);
  EXPECT_EQ(engine_requests(), ran);
  ASSERT_EQ(plain.json()["choices"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(plain.json()["choices"][i]["text"], text[i]) << i;
  // Without echo it is another request (the engine runs again, and the
  // generated part is what the engine gave the first time: greedy).
  Json no_echo = req;
  no_echo["echo"] = false;
  Reply r = extra_->post("/v1/completions", no_echo);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(cache_metric("ember:response_cache_hits_total"), 1);
  EXPECT_EQ(engine_requests(), ran + 2);  // two prompts, two engine requests
  EXPECT_EQ("One prompt" + r.json()["choices"][0]["text"].get<std::string>(), text[0]);

  // /generate, non-streamed then streamed.
  const Json g = {{"prompt", "Generate once"}, {"max_tokens", 4}, {"seed", 5}};
  Reply g1 = extra_->post("/generate", g);
  ASSERT_EQ(g1.status, 200);
  Json gs = g;
  gs["stream"] = true;
  Reply g2 = extra_->post("/generate", gs);
  ASSERT_EQ(g2.status, 200);
  EXPECT_EQ(cache_metric("ember:response_cache_hits_total"), 2);
  std::string streamed_text;
  size_t pos = 0;
  while (pos < g2.body.size()) {
    const size_t nl = g2.body.find('\n', pos);
    Json line = Json::parse(g2.body.substr(pos, nl - pos), nullptr, false);
    if (line.is_object()) streamed_text += line["response"].get<std::string>();
    pos = nl == std::string::npos ? g2.body.size() : nl + 1;
  }
  EXPECT_EQ(streamed_text, g1.json()["response"]);
}

}  // namespace
}  // namespace ember::server::testing
