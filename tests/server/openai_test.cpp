// /v1/chat/completions and /v1/completions against the real engine. The
// random-weights model writes gibberish, so expected texts come from the
// engine itself (the same request as a raw completion of the chat prompt's
// ids) and tokens are forced with logit_bias.
#include <set>

#include "server_fixture.h"

namespace ember::server::testing {
namespace {

Json user_chat(const std::string& text) { return Json::array({{{"role", "user"}, {"content", text}}}); }

// The chat prompt's ids as the server renders them (via /tokenize).
std::vector<int32_t> chat_prompt_ids(const Json& messages) {
  Reply r = ServerTest::post_raw("/tokenize", Json{{"messages", messages}}.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json()["tokens"].get<std::vector<int32_t>>();
}

class OpenAiTest : public ServerTest {};

TEST_F(OpenAiTest, ChatNonStreamedWireFormat) {
  Reply r = post("/v1/chat/completions",
                 {{"model", kModelName}, {"messages", user_chat("Hello")}, {"max_tokens", 4}, {"seed", 1}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  Json j = r.json();
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(j["model"], kModelName);
  EXPECT_TRUE(j["created"].is_number_integer());
  ASSERT_EQ(j["choices"].size(), 1u);
  const Json& c = j["choices"][0];
  EXPECT_EQ(c["index"], 0);
  EXPECT_EQ(c["message"]["role"], "assistant");
  EXPECT_EQ(c["finish_reason"], "length");
  EXPECT_TRUE(c["logprobs"].is_null());
  const auto prompt = chat_prompt_ids(user_chat("Hello"));
  EXPECT_EQ(j["usage"]["prompt_tokens"], prompt.size());
  EXPECT_EQ(j["usage"]["completion_tokens"], 4);
  EXPECT_EQ(j["usage"]["total_tokens"], prompt.size() + 4);
}

TEST_F(OpenAiTest, ChatStreamedFraming) {
  Reply r = post("/v1/chat/completions", {{"messages", user_chat("Hello")},
                                          {"max_tokens", 5},
                                          {"seed", 3},
                                          {"stream", true},
                                          {"stream_options", {{"include_usage", true}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/event-stream");
  SseEvents s = parse_sse(r.body);
  EXPECT_TRUE(s.framing_ok) << r.body;
  EXPECT_TRUE(s.done);
  ASSERT_GE(s.events.size(), 3u);
  const Json& first = s.events.front();
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  std::set<std::string> ids;
  int finishes = 0;
  for (size_t i = 0; i + 1 < s.events.size(); ++i) {
    ids.insert(s.events[i]["id"].get<std::string>());
    EXPECT_EQ(s.events[i]["choices"].size(), 1u);
    EXPECT_TRUE(s.events[i]["usage"].is_null());
    if (!s.events[i]["choices"][0]["finish_reason"].is_null()) {
      ++finishes;
      EXPECT_EQ(s.events[i]["choices"][0]["finish_reason"], "length");
    }
  }
  EXPECT_EQ(finishes, 1);
  const Json& last = s.events.back();  // the usage chunk
  ids.insert(last["id"].get<std::string>());
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_TRUE(last["choices"].empty());
  EXPECT_EQ(last["usage"]["completion_tokens"], 5);
  EXPECT_EQ(last["usage"]["prompt_tokens"], chat_prompt_ids(user_chat("Hello")).size());
}

// Seeded samples with </think> made likely (not certain): the first seed
// whose raw output has text before and after one </think>.
struct ThinkCase {
  Json request;   // chat request body
  std::string raw, before, after;
};

ThinkCase find_think_case(int32_t think_id) {
  const Json messages = user_chat("Why?");
  const auto ids = chat_prompt_ids(messages);
  const std::string close = "</think>";
  for (int seed = 0; seed < 40; ++seed) {
    Json params = {{"max_tokens", 12}, {"seed", seed}, {"temperature", 1.0}, {"top_p", 1.0},
                   {"logit_bias", {{std::to_string(think_id), 10.0}}}};
    Json completion = params;
    completion["prompt"] = ids;
    completion["skip_special_tokens"] = true;
    Reply r = ServerTest::post("/v1/completions", completion);
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string raw = r.json()["choices"][0]["text"].get<std::string>();
    const size_t at = raw.find(close);
    if (at == std::string::npos || at == 0 || at + close.size() == raw.size()) continue;
    if (raw.find(close, at + close.size()) != std::string::npos) continue;
    ThinkCase t;
    t.request = params;
    t.request["messages"] = messages;
    t.raw = raw;
    t.before = raw.substr(0, at);
    t.after = raw.substr(at + close.size());
    return t;
  }
  ADD_FAILURE() << "no seed gave text around </think>";
  return {};
}

TEST_F(OpenAiTest, ReasoningSplitNonStreamed) {
  const int32_t think = token_id("</think>");
  ASSERT_GE(think, 0);
  ASSERT_TRUE(server_->reasoning_enabled());
  ThinkCase t = find_think_case(think);
  if (t.raw.empty()) return;
  Reply r = post("/v1/chat/completions", t.request);
  ASSERT_EQ(r.status, 200) << r.body;
  const Json m = r.json()["choices"][0]["message"];
  EXPECT_EQ(m["reasoning_content"], t.before);
  EXPECT_EQ(m["reasoning"], t.before);
  EXPECT_EQ(m["content"], t.after);

  // include_reasoning: false leaves the reasoning out.
  Json no_reasoning = t.request;
  no_reasoning["include_reasoning"] = false;
  r = post("/v1/chat/completions", no_reasoning);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.json()["choices"][0]["message"]["reasoning_content"].is_null());
  EXPECT_EQ(r.json()["choices"][0]["message"]["content"], t.after);
}

TEST_F(OpenAiTest, ReasoningSplitStreamed) {
  const int32_t think = token_id("</think>");
  ASSERT_GE(think, 0);
  ThinkCase t = find_think_case(think);
  if (t.raw.empty()) return;
  Json req = t.request;
  req["stream"] = true;
  Reply r = post("/v1/chat/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  SseEvents s = parse_sse(r.body);
  ASSERT_TRUE(s.framing_ok && s.done) << r.body;
  std::string reasoning, content;
  bool content_started = false;
  for (const Json& e : s.events) {
    const Json& d = e["choices"][0]["delta"];
    const bool has_r = d.contains("reasoning_content"), has_c = d.contains("content") && !d.contains("role");
    EXPECT_FALSE(has_r && has_c) << "a delta mixes reasoning and content: " << e.dump();
    if (has_r) {
      EXPECT_FALSE(content_started) << "reasoning after content";
      EXPECT_EQ(d["reasoning"], d["reasoning_content"]);
      const std::string piece = d["reasoning_content"].get<std::string>();
      EXPECT_FALSE(piece.empty());
      EXPECT_EQ(piece.find("think>"), std::string::npos);
      reasoning += piece;
    }
    if (has_c) {
      const std::string piece = d["content"].get<std::string>();
      EXPECT_EQ(piece.find("</think>"), std::string::npos);
      content_started = content_started || !piece.empty();
      content += piece;
    }
  }
  EXPECT_EQ(reasoning, t.before);
  EXPECT_EQ(content, t.after);
}

TEST_F(OpenAiTest, NoCloseTagMeansAllReasoningAndNullContent) {
  const int32_t think = token_id("</think>");
  ASSERT_GE(think, 0);
  const Json messages = user_chat("Why?");
  Json completion = {{"prompt", chat_prompt_ids(messages)}, {"max_tokens", 6}, {"seed", 5},
                     {"logit_bias", {{std::to_string(think), -100}}}};
  Reply raw = post("/v1/completions", completion);
  ASSERT_EQ(raw.status, 200) << raw.body;
  Json chat = completion;
  chat.erase("prompt");
  chat["messages"] = messages;
  Reply r = post("/v1/chat/completions", chat);
  ASSERT_EQ(r.status, 200) << r.body;
  const Json m = r.json()["choices"][0]["message"];
  EXPECT_TRUE(m["content"].is_null()) << r.body;
  EXPECT_EQ(m["reasoning_content"], raw.json()["choices"][0]["text"]);
}

// The edges of the split as vLLM's deepseek_r1 parser writes them (its
// extract_reasoning: the reasoning is always a string, "" when </think>
// comes first or nothing is generated; the content is what follows
// </think>, null when nothing does). Streamed, a delta that is only
// </think> has no chunk, so a reply that opens with it has no reasoning
// delta at all (vLLM skips that lone token the same way).
struct ChatSplit {
  Json message;                     // non-streamed
  bool streamed_reasoning = false;  // some delta carried reasoning_content
  std::string reasoning, content;   // streamed, concatenated
};

ChatSplit chat_both_ways(Json req) {
  ChatSplit out;
  req["messages"] = user_chat("Why?");
  Reply r = ServerTest::post("/v1/chat/completions", req);
  EXPECT_EQ(r.status, 200) << r.body;
  out.message = r.json()["choices"][0]["message"];
  req["stream"] = true;
  r = ServerTest::post("/v1/chat/completions", req);
  EXPECT_EQ(r.status, 200) << r.body;
  SseEvents s = parse_sse(r.body);
  EXPECT_TRUE(s.framing_ok && s.done) << r.body;
  for (const Json& e : s.events) {
    const Json& d = e["choices"][0]["delta"];
    if (d.contains("reasoning_content")) {
      out.streamed_reasoning = true;
      out.reasoning += d["reasoning_content"].get<std::string>();
    }
    if (d.contains("content")) out.content += d["content"].get<std::string>();
  }
  return out;
}

TEST_F(OpenAiTest, ReasoningSplitEdgesAsVllm) {
  const int32_t think = token_id("</think>");
  const int32_t eos = token_id(tokenizer_.eos_token);  // <｜end▁of▁sentence｜>
  ASSERT_GE(think, 0);
  ASSERT_GE(eos, 0);
  const std::string bias_think = std::to_string(think);

  // Only </think>: reasoning "", content null (vLLM: "</think>" -> ("", None)).
  ChatSplit a = chat_both_ways({{"max_tokens", 1}, {"seed", 1}, {"logit_bias", {{bias_think, 100}}}});
  EXPECT_EQ(a.message["reasoning_content"], "") << a.message.dump();
  EXPECT_EQ(a.message["reasoning"], "") << a.message.dump();
  EXPECT_TRUE(a.message["content"].is_null()) << a.message.dump();
  EXPECT_FALSE(a.streamed_reasoning);
  EXPECT_EQ(a.content, "");

  // </think> first, then text: reasoning "", the rest is content
  // (vLLM: "</think>This is the rest" -> ("", "This is the rest")).
  ChatSplit b = chat_both_ways({{"max_tokens", 3}, {"seed", 1}, {"logit_bias", {{bias_think, 100}}}});
  EXPECT_EQ(b.message["reasoning_content"], "") << b.message.dump();
  EXPECT_EQ(b.message["content"], "</think></think>") << b.message.dump();
  EXPECT_FALSE(b.streamed_reasoning);
  EXPECT_EQ(b.content, "</think></think>");

  // Nothing generated (end of sentence first): reasoning "", content null
  // (vLLM: "" -> ("", None)).
  ChatSplit c = chat_both_ways({{"max_tokens", 4}, {"seed", 1}, {"logit_bias", {{std::to_string(eos), 100}}}});
  EXPECT_EQ(c.message["reasoning_content"], "") << c.message.dump();
  EXPECT_TRUE(c.message["content"].is_null()) << c.message.dump();
  EXPECT_EQ(c.content, "");

  // Reasoning, then </think> as the last token: content null (vLLM:
  // "This is a reasoning section</think>" -> (reasoning, None)). The same
  // seed cut right after the </think> that find_think_case found.
  ThinkCase t = find_think_case(think);
  if (t.raw.empty()) return;
  Json completion = t.request;
  completion.erase("messages");
  completion["prompt"] = chat_prompt_ids(user_chat("Why?"));
  completion["logprobs"] = 0;
  completion["return_tokens_as_token_ids"] = true;
  Reply raw = post("/v1/completions", completion);
  ASSERT_EQ(raw.status, 200) << raw.body;
  const Json tokens = raw.json()["choices"][0]["logprobs"]["tokens"];
  size_t at = 0;
  while (at < tokens.size() && tokens[at] != "token_id:" + bias_think) ++at;
  ASSERT_LT(at, tokens.size()) << raw.body;
  Json cut = t.request;
  cut["max_tokens"] = at + 1;
  ChatSplit d = chat_both_ways(cut);
  EXPECT_EQ(d.message["reasoning_content"], t.before) << d.message.dump();
  EXPECT_TRUE(d.message["content"].is_null()) << d.message.dump();
  EXPECT_EQ(d.reasoning, t.before);
  EXPECT_EQ(d.content, "");
}

TEST_F(OpenAiTest, CompletionsStreamedAndNot) {
  Json req = {{"prompt", "Once upon a time"}, {"max_tokens", 6}, {"seed", 11}};
  Reply r = post("/v1/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.json();
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  const auto prompt = tok().encode("Once upon a time");
  ASSERT_TRUE(prompt.ok());
  EXPECT_EQ(j["usage"]["prompt_tokens"], prompt->size());
  EXPECT_EQ(j["usage"]["completion_tokens"], 6);
  const std::string text = j["choices"][0]["text"].get<std::string>();

  req["stream"] = true;
  req["stream_options"] = {{"include_usage", true}};
  r = post("/v1/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  SseEvents s = parse_sse(r.body);
  ASSERT_TRUE(s.framing_ok && s.done) << r.body;
  std::string streamed;
  for (size_t i = 0; i + 1 < s.events.size(); ++i) streamed += s.events[i]["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(streamed, text);  // the same seed gives the same text
  EXPECT_EQ(s.events.back()["usage"]["completion_tokens"], 6);
  EXPECT_EQ(s.events[s.events.size() - 2]["choices"][0]["finish_reason"], "length");

  // Prompts as token ids and lists of prompts.
  r = post("/v1/completions", {{"prompt", Json::array({*prompt, *prompt})}, {"max_tokens", 6}, {"seed", 11}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json()["choices"].size(), 2u);
  EXPECT_EQ(r.json()["choices"][1]["index"], 1);
  EXPECT_EQ(r.json()["choices"][0]["text"], text);
  EXPECT_EQ(r.json()["choices"][1]["text"], text);
  EXPECT_EQ(r.json()["usage"]["prompt_tokens"], 2 * prompt->size());
}

TEST_F(OpenAiTest, EchoAndLogprobs) {
  Reply r = post("/v1/completions", {{"prompt", "Hi there"}, {"max_tokens", 3}, {"echo", true}, {"seed", 2}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["choices"][0]["text"].get<std::string>().rfind("Hi there", 0), 0u);

  r = post("/v1/completions", {{"prompt", "Hi there"}, {"max_tokens", 3}, {"logprobs", 2}, {"seed", 2}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json lp = r.json()["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), 3u);
  ASSERT_EQ(lp["top_logprobs"].size(), 3u);
  EXPECT_EQ(lp["top_logprobs"][0].size(), 2u);
  std::string joined;
  for (const auto& t : lp["tokens"]) joined += t.get<std::string>();
  EXPECT_EQ(joined, r.json()["choices"][0]["text"]);

  r = post("/v1/completions", {{"prompt", "Hi there"}, {"max_tokens", 3}, {"logprobs", 0},
                               {"return_tokens_as_token_ids", true}, {"seed", 2}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["choices"][0]["logprobs"]["tokens"][0].get<std::string>().rfind("token_id:", 0), 0u);

  r = post("/v1/chat/completions",
           {{"messages", user_chat("Hi")}, {"max_tokens", 2}, {"logprobs", true}, {"top_logprobs", 3}, {"seed", 4}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json content = r.json()["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 2u);
  EXPECT_EQ(content[0]["top_logprobs"].size(), 3u);
  EXPECT_LE(content[0]["logprob"].get<double>(), 0.0);
  // bytes: the token's own bytes, which together are the reply's text.
  std::string bytes;
  for (const auto& t : content)
    for (const auto& b : t["bytes"]) bytes += static_cast<char>(b.get<int>());
  const Json m = r.json()["choices"][0]["message"];
  const std::string text = m["reasoning_content"].is_string() ? m["reasoning_content"].get<std::string>() : "";
  if (text.find("\xEF\xBF\xBD") == std::string::npos) {  // no cut UTF-8 at the end
    EXPECT_EQ(bytes, text) << r.body;
  }
}

TEST_F(OpenAiTest, NTwoAndSeedReproducibility) {
  Json req = {{"messages", user_chat("Tell me")}, {"max_tokens", 5}, {"n", 2}, {"seed", 42}};
  Reply a = post("/v1/chat/completions", req);
  Reply b = post("/v1/chat/completions", req);
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(b.status, 200) << b.body;
  ASSERT_EQ(a.json()["choices"].size(), 2u);
  EXPECT_EQ(a.json()["choices"][1]["index"], 1);
  EXPECT_EQ(a.json()["usage"]["completion_tokens"], 10);
  EXPECT_EQ(a.json()["choices"], b.json()["choices"]);

  req["stream"] = true;
  Reply s = post("/v1/chat/completions", req);
  SseEvents e = parse_sse(s.body);
  ASSERT_TRUE(e.framing_ok && e.done);
  std::set<int> roles, finished;
  for (const Json& ev : e.events) {
    const Json& c = ev["choices"][0];
    if (c["delta"].contains("role")) roles.insert(c["index"].get<int>());
    if (!c["finish_reason"].is_null()) finished.insert(c["index"].get<int>());
  }
  EXPECT_EQ(roles, (std::set<int>{0, 1}));
  EXPECT_EQ(finished, (std::set<int>{0, 1}));
}

TEST_F(OpenAiTest, StopStrings) {
  Json req = {{"prompt", "The story"}, {"max_tokens", 12}, {"seed", 9}, {"logprobs", 0}};
  Reply r = post("/v1/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string text = r.json()["choices"][0]["text"].get<std::string>();
  const Json tokens = r.json()["choices"][0]["logprobs"]["tokens"];
  // A stop string: the text of a token in the middle that decodes cleanly.
  std::string stop;
  for (size_t i = 3; i < tokens.size() && stop.empty(); ++i) {
    const std::string t = tokens[i].get<std::string>();
    if (!t.empty() && t.find("\xEF\xBF\xBD") == std::string::npos && text.find(t) != std::string::npos) stop = t;
  }
  ASSERT_FALSE(stop.empty()) << text;
  req.erase("logprobs");
  req["stop"] = stop;
  r = post("/v1/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["choices"][0]["text"], text.substr(0, text.find(stop)));
  EXPECT_EQ(r.json()["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(r.json()["choices"][0]["stop_reason"], stop);

  req["include_stop_str_in_output"] = true;
  req["stop"] = Json::array({stop});
  r = post("/v1/completions", req);
  EXPECT_EQ(r.json()["choices"][0]["text"], text.substr(0, text.find(stop) + stop.size()));

  // stop_token_ids: forced token, reported as the stop reason.
  const int32_t think = token_id("</think>");
  r = post("/v1/completions", {{"prompt", "The story"}, {"max_tokens", 12}, {"stop_token_ids", {think}},
                               {"logit_bias", {{std::to_string(think), 100}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(r.json()["choices"][0]["stop_reason"], think);
  EXPECT_EQ(r.json()["usage"]["completion_tokens"], 1);
}

TEST_F(OpenAiTest, BadRequests) {
  auto expect_400 = [](const Reply& r, const std::string& param) {
    EXPECT_EQ(r.status, 400) << r.body;
    const Json e = r.json()["error"];
    EXPECT_EQ(e["type"], "BadRequestError") << r.body;
    EXPECT_EQ(e["code"], 400);
    EXPECT_TRUE(e["message"].is_string());
    if (param.empty()) EXPECT_TRUE(e["param"].is_null()) << r.body;
    else EXPECT_EQ(e["param"], param) << r.body;
  };
  expect_400(post_raw("/v1/chat/completions", "{\"messages\": ["), "");
  expect_400(post_raw("/v1/completions", "[1, 2]"), "");
  expect_400(post("/v1/chat/completions", {{"messages", "hi"}}), "messages");
  expect_400(post("/v1/chat/completions", {{"messages", user_chat("x")}, {"temperature", "hot"}}), "temperature");
  expect_400(post("/v1/chat/completions", {{"messages", user_chat("x")}, {"temperature", -1}}), "temperature");
  expect_400(post("/v1/chat/completions", {{"messages", user_chat("x")}, {"n", 0}}), "n");
  expect_400(post("/v1/chat/completions", {{"messages", user_chat("x")}, {"stream", "yes"}}), "stream");
  expect_400(post("/v1/completions", {{"prompt", 5}}), "prompt");
  expect_400(post("/v1/completions", {{"prompt", "x"}, {"logit_bias", {{"abc", 1}}}}), "logit_bias");
  expect_400(post("/v1/completions", {{"prompt", "x"}, {"top_p", 0}}), "top_p");
  const int64_t ctx = engine().max_model_len();
  expect_400(post("/v1/completions", {{"prompt", "x"}, {"max_tokens", ctx}}), "max_tokens");
  expect_400(post("/v1/chat/completions", {{"messages", user_chat("x")}, {"max_completion_tokens", ctx}}), "max_tokens");
  expect_400(post("/v1/completions", {{"prompt", std::vector<int32_t>(static_cast<size_t>(ctx), 100)}}), "prompt");
  expect_400(post("/v1/completions", {{"prompt", {1, 2, 999999999}}}), "prompt");
  expect_400(post("/v1/completions", {{"prompt", "x"}, {"stop", std::vector<std::string>(257, "a")}}), "stop");
  // Fields that would change the output in ways not implemented: refused.
  expect_400(post("/v1/completions", {{"prompt", "x"}, {"suffix", "y"}}), "suffix");
  expect_400(post("/v1/chat/completions", {{"messages", user_chat("x")}, {"response_format", {{"type", "json_object"}}}}),
             "response_format");

  // Unknown model: 404 as vLLM answers it.
  Reply r = post("/v1/completions", {{"model", "gpt-4"}, {"prompt", "x"}});
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.json()["error"]["param"], "model");
  // Unknown fields are ignored.
  r = post("/v1/completions", {{"prompt", "x"}, {"max_tokens", 1}, {"frobnicate", {1, 2}}});
  EXPECT_EQ(r.status, 200) << r.body;
  // Default max_tokens: what fits in the context (ignore_eos, so all of it).
  const auto ids = tok().encode("x");
  ASSERT_TRUE(ids.ok());
  r = post("/v1/completions", {{"prompt", *ids}, {"ignore_eos", true}, {"temperature", 0}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["usage"]["completion_tokens"], ctx - static_cast<int64_t>(ids->size()));
  EXPECT_EQ(r.json()["choices"][0]["finish_reason"], "length");
}

}  // namespace
}  // namespace ember::server::testing
