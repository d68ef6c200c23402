// Every row of fixtures/chat/public.jsonl (rendered by Python jinja2 3.1.2
// the way transformers does) must render byte-identical.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "chat/chat_template.h"

namespace ember::chat {
namespace {

std::string fixture_path(const std::string& rel) { return std::string(EMBER_FIXTURES_DIR) + "/chat/" + rel; }

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string template_file(const std::string& name) {
  static const std::map<std::string, std::string> kFiles = {
      {"deepseek-r1-distill-qwen-1.5b", "deepseek-r1-distill-qwen.jinja"},
      {"deepseek-r1-distill-qwen-1.5b@2025-01-22", "deepseek-r1-distill-qwen.2025-01-22.jinja"},
      {"qwen2.5-instruct", "qwen2.5-instruct.jinja"},
  };
  auto it = kFiles.find(name);
  return it == kFiles.end() ? std::string() : fixture_path("templates/" + it->second);
}

// Where two strings first differ, with a little context from both.
std::string describe_mismatch(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  size_t from = i > 20 ? i - 20 : 0;
  std::ostringstream ss;
  ss << "first difference at byte " << i << " (want " << want.size() << " bytes, got " << got.size()
     << ")\n  want: ..." << nlohmann::json(want.substr(from, 60)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n  got:  ..."
     << nlohmann::json(got.substr(from, 60)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return ss.str();
}

TEST(ChatFixtureTest, AllPublicRowsRenderIdentically) {
  std::ifstream in(fixture_path("public.jsonl"));
  ASSERT_TRUE(in) << "missing " << fixture_path("public.jsonl");
  std::map<std::string, ChatTemplate> templates;
  int rows = 0, identical = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++rows;
    // ordered_json: tojson must print tool schemas in their original key order.
    nlohmann::ordered_json row = nlohmann::ordered_json::parse(line);
    std::string name = row["template_name"].get<std::string>();
    std::string label = name + " / " + row["conversation"].get<std::string>() +
                        (row["add_generation_prompt"].get<bool>() ? " +gen" : "");
    auto it = templates.find(name);
    if (it == templates.end()) {
      std::string file = template_file(name);
      ASSERT_FALSE(file.empty()) << "unknown template " << name;
      Result<ChatTemplate> t = ChatTemplate::create(read_all(file));
      ASSERT_TRUE(t.ok()) << file << ": " << t.status().to_string();
      it = templates.emplace(name, std::move(*t)).first;
    }
    ChatRenderInput input;
    input.messages = row["messages"];
    if (!row["tools"].is_null()) input.tools = row["tools"];
    input.add_generation_prompt = row["add_generation_prompt"].get<bool>();
    // Like transformers' special_tokens_map: every token the tokenizer has.
    for (const auto& [k, v] : row["special_tokens"].items()) {
      if (k == "bos_token") {
        input.bos_token = v.get<std::string>();
      } else if (k == "eos_token") {
        input.eos_token = v.get<std::string>();
      } else if (k == "pad_token") {
        input.pad_token = v.get<std::string>();
      } else {
        input.extra[k] = v;
      }
    }
    Result<std::string> got = it->second.render(input);
    std::string want = row["rendered"].get<std::string>();
    if (!got.ok()) {
      ADD_FAILURE() << label << ": " << got.status().to_string();
    } else if (*got != want) {
      ADD_FAILURE() << label << ": " << describe_mismatch(want, *got);
    } else {
      ++identical;
    }
  }
  EXPECT_EQ(rows, 70);
  EXPECT_EQ(identical, rows) << identical << "/" << rows << " renders identical";
  std::printf("chat fixtures: %d/%d renders identical\n", identical, rows);
}

}  // namespace
}  // namespace ember::chat
