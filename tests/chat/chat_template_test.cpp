// The chat layer: transformers' template variables, continue_final_message,
// content-part flattening, template selection from tokenizer configs, and
// concurrent renders of one compiled template.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "chat/chat_template.h"

namespace ember::chat {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::ordered_json;

std::string fixture_template(const std::string& file) {
  std::ifstream in(std::string(EMBER_FIXTURES_DIR) + "/chat/templates/" + file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ChatTemplate make(const std::string& source) {
  Result<ChatTemplate> t = ChatTemplate::create(source);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  return std::move(*t);
}

std::string render_ok(const ChatTemplate& t, const ChatRenderInput& in) {
  Result<std::string> r = t.render(in);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : std::string();
}

TEST(ChatTemplateTest, VariablesAsTransformersPassesThem) {
  ChatTemplate t = make(
      "{{ messages | length }}|{{ tools is none }}|{{ documents is none }}|{{ add_generation_prompt }}|"
      "{{ bos_token is defined }}|{{ eos_token }}|{{ enable_thinking }}");
  ChatRenderInput in;
  in.messages = json::array({{{"role", "user"}, {"content", "hi"}}});
  in.eos_token = "</s>";
  in.extra = {{"enable_thinking", false}};
  EXPECT_EQ(render_ok(t, in), "1|True|True|False|False|</s>|False");

  in.tools = json::array({{{"type", "function"}, {"function", {{"name", "f"}}}}});
  in.add_generation_prompt = true;
  in.bos_token = "<s>";
  ChatTemplate t2 = make("{{ tools | tojson }}|{{ add_generation_prompt }}|{{ bos_token }}");
  EXPECT_EQ(render_ok(t2, in), R"([{"type": "function", "function": {"name": "f"}}]|True|<s>)");

  in.extra = {{"messages", json::array()}};
  EXPECT_EQ(t.render(in).status().code(), StatusCode::kInvalidArgument);
}

TEST(ChatTemplateTest, ContinueFinalMessageCutsAfterTheContent) {
  // Expected strings: transformers' algorithm applied to jinja2's renders.
  ChatRenderInput in;
  in.messages = json::array({{{"role", "user"}, {"content", "Hi"}}, {{"role", "assistant"}, {"content", "  Hello, I am "}}});
  in.continue_final_message = true;
  in.eos_token = "<|im_end|>";
  EXPECT_EQ(render_ok(make(fixture_template("qwen2.5-instruct.jinja")), in),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n  Hello, I am");
  in.bos_token = "<B>";
  in.eos_token = "<E>";
  EXPECT_EQ(render_ok(make(fixture_template("deepseek-r1-distill-qwen.jinja")), in),
            "<B><\xef\xbd\x9cUser\xef\xbd\x9c>Hi<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>  Hello, I am");

  // Parts: the last text part is the one continued.
  in.messages[1]["content"] = json::array({{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b c"}}});
  std::string out = render_ok(make(fixture_template("qwen2.5-instruct.jinja")), in);
  EXPECT_TRUE(out.size() >= 5 && out.substr(out.size() - 5) == "a\nb c") << out;
}

TEST(ChatTemplateTest, ContinueFinalMessageErrors) {
  ChatTemplate t = make(fixture_template("qwen2.5-instruct.jinja"));
  ChatRenderInput in;
  in.messages = json::array({{{"role", "user"}, {"content", "Hi"}}});
  in.continue_final_message = true;
  EXPECT_THAT(t.render(in).status().message(), HasSubstr("assistant"));
  in.messages.push_back({{"role", "assistant"}, {"content", "x"}});
  in.add_generation_prompt = true;
  EXPECT_THAT(t.render(in).status().message(), HasSubstr("not compatible"));
  in.add_generation_prompt = false;
  ChatTemplate upper = make("{% for m in messages %}{{ m.content | upper }}{% endfor %}");
  in.messages[1]["content"] = "lower text";
  EXPECT_THAT(upper.render(in).status().message(), HasSubstr("does not appear"));
}

TEST(ChatTemplateTest, ContentPartsAreFlattenedForStringTemplates) {
  ChatTemplate q = make(fixture_template("qwen2.5-instruct.jinja"));
  EXPECT_FALSE(q.expects_content_parts());
  ChatRenderInput in;
  in.messages = json::array(
      {{{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "Part one."}}, {{"type", "text"}, {"text", "Part two."}}})}}});
  in.add_generation_prompt = true;
  // Same as jinja2 rendering the joined string "Part one.\nPart two.".
  EXPECT_EQ(render_ok(q, in),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nPart one.\nPart two.<|im_end|>\n<|im_start|>assistant\n");
  // Passed through as a list, the string template fails like in Python.
  in.content_format = ContentFormat::kParts;
  EXPECT_THAT(q.render(in).status().message(), HasSubstr("can only concatenate str (not \"list\")"));

  ChatTemplate parts = make(
      "{% for m in messages %}{% if m.content is string %}{{ m.content }}{% else %}"
      "{% for p in m['content'] %}[{{ p.text }}]{% endfor %}{% endif %}{% endfor %}");
  EXPECT_TRUE(parts.expects_content_parts());
  in.content_format = ContentFormat::kAuto;
  EXPECT_EQ(render_ok(parts, in), "[Part one.][Part two.]");

  in.messages[0]["content"].push_back({{"type", "image_url"}, {"image_url", {{"url", "x"}}}});
  EXPECT_EQ(q.render(in).status().code(), StatusCode::kUnsupported);
}

TEST(ChatTemplateTest, SelectsTemplatesFromTokenizerConfig) {
  nlohmann::json plain = {{"chat_template", "T"}};
  EXPECT_EQ(*select_chat_template(plain, false), "T");
  nlohmann::json named = {{"chat_template", nlohmann::json::array({{{"name", "default"}, {"template", "D"}},
                                                                   {{"name", "tool_use"}, {"template", "U"}},
                                                                   {{"name", "rag"}, {"template", "R"}}})}};
  EXPECT_EQ(*select_chat_template(named, false), "D");
  EXPECT_EQ(*select_chat_template(named, true), "U");
  EXPECT_EQ(*select_chat_template(named, true, "rag"), "R");
  EXPECT_EQ(select_chat_template(named, false, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(select_chat_template(nlohmann::json::object(), false).status().code(), StatusCode::kNotFound);
  nlohmann::json no_default = {{"chat_template", nlohmann::json::array({{{"name", "tool_use"}, {"template", "U"}}})}};
  EXPECT_EQ(select_chat_template(no_default, false).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(select_chat_template({{"chat_template", 5}}, false).status().code(), StatusCode::kInvalidArgument);

  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("ember_chat_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  EXPECT_EQ(load_chat_template(dir.string(), false).status().code(), StatusCode::kNotFound);
  std::ofstream(dir / "tokenizer_config.json") << named.dump();
  EXPECT_EQ(*load_chat_template(dir.string(), true), "U");
  std::ofstream(dir / "chat_template.jinja") << "J";
  EXPECT_EQ(*load_chat_template(dir.string(), true), "J");
  std::ofstream(dir / "tokenizer_config.json") << "{not json";
  fs::remove(dir / "chat_template.jinja");
  EXPECT_EQ(load_chat_template(dir.string(), false).status().code(), StatusCode::kCorrupt);
  fs::remove_all(dir);
}

TEST(ChatTemplateTest, StrftimeNowUsesTheGivenTime) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  ChatTemplate t = make("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%dT%H:%M:%S') }}");
  RenderOptions options;
  options.now = 1700000000;  // 2023-11-14 22:13:20 UTC
  Result<std::string> r = t.render(ChatRenderInput(), options);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, "14 Nov 2023|2023-11-14T22:13:20");
}

TEST(ChatTemplateTest, ConcurrentRendersAgree) {
  ChatTemplate t = make(fixture_template("qwen2.5-instruct.jinja"));
  ChatRenderInput in;
  in.tools = json::array({{{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}}});
  for (int i = 0; i < 20; ++i) {
    in.messages.push_back({{"role", i % 2 ? "assistant" : "user"}, {"content", "message " + std::to_string(i)}});
  }
  in.add_generation_prompt = true;
  std::string want = render_ok(t, in);
  ASSERT_FALSE(want.empty());
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 50; ++i) {
        Result<std::string> r = t.render(in);
        if (!r.ok() || *r != want) ++mismatches[k];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < 8; ++k) EXPECT_EQ(mismatches[k], 0) << "thread " << k;
}

}  // namespace
}  // namespace ember::chat
