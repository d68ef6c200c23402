// The prompt ids a chat becomes: the fixture conversations rendered by our
// template interpreter and tokenized with special tokens parsed and none
// added (as transformers' apply_chat_template(tokenize=True) does) give the
// ids Hugging Face computed, for every row that has them; and the four chats
// of tiny-r1vocab, through the template its GGUF carries.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "chat/chat_template.h"
#include "engine/tokenizer_loader.h"
#include "tokenizer/tokenizer_test_util.h"

namespace ember::engine {
namespace {

using tokenizer::testing::fixture;

Result<std::vector<int32_t>> render_ids(const chat::ChatTemplate& t, const tokenizer::Tokenizer& tok,
                                        const nlohmann::ordered_json& row) {
  chat::ChatRenderInput in;
  in.messages = row["messages"];
  if (row.contains("tools") && !row["tools"].is_null()) in.tools = row["tools"];
  in.add_generation_prompt = row.value("add_generation_prompt", false);
  for (auto [key, field] : {std::pair{"bos_token", &in.bos_token}, {"eos_token", &in.eos_token}, {"pad_token", &in.pad_token}})
    if (row["special_tokens"].contains(key)) *field = row["special_tokens"][key].get<std::string>();
  EMBER_ASSIGN_OR_RETURN(std::string text, t.render(in));
  return tok.encode(text, {.add_special_tokens = false});
}

TEST(ChatIds, PublicRowsTokenizeToHuggingFaceIds) {
  auto mt = load_model_tokenizer(fixture("tokenizer/deepseek-r1-distill-qwen-1.5b"));
  ASSERT_TRUE(mt.ok()) << mt.status().to_string();
  const std::map<std::string, std::string> files = {
      {"deepseek-r1-distill-qwen-1.5b", "deepseek-r1-distill-qwen.jinja"},
      {"deepseek-r1-distill-qwen-1.5b@2025-01-22", "deepseek-r1-distill-qwen.2025-01-22.jinja"}};
  std::ifstream in(fixture("chat/public.jsonl"));
  std::string line;
  int with_ids = 0, same = 0;
  while (std::getline(in, line)) {
    const auto row = nlohmann::ordered_json::parse(line);
    if (!row.contains("ids")) continue;
    ++with_ids;
    const auto file = files.find(row["template_name"].get<std::string>());
    ASSERT_NE(file, files.end()) << row["template_name"];
    auto source = read_file(fixture("chat/templates/" + file->second));
    ASSERT_TRUE(source.ok());
    auto t = chat::ChatTemplate::create(*source);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    auto ids = render_ids(*t, *mt->tokenizer, row);
    ASSERT_TRUE(ids.ok()) << ids.status().to_string();
    same += *ids == row["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(*ids, row["ids"].get<std::vector<int32_t>>()) << row["template_name"] << " / " << row["conversation"];
  }
  std::printf("chat/public.jsonl: %d/%d rows with ids identical\n", same, with_ids);
  EXPECT_GT(with_ids, 0);
}

TEST(ChatIds, TinyR1VocabChatsThroughTheGgufTemplate) {
  auto mt = load_model_tokenizer(fixture("models/tiny-r1vocab/tiny-r1vocab-BF16.gguf"));
  ASSERT_TRUE(mt.ok()) << mt.status().to_string();
  ASSERT_TRUE(mt->chat_template.is_string());
  auto t = chat::ChatTemplate::create(mt->chat_template.get<std::string>());
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto text = read_file(fixture("models/tiny-r1vocab/chats.json"));
  ASSERT_TRUE(text.ok());
  const auto doc = nlohmann::ordered_json::parse(*text);
  int n = 0;
  for (auto chat : doc["chats"]) {
    chat["special_tokens"] = doc["special_tokens"];
    auto ids = render_ids(*t, *mt->tokenizer, chat);
    ASSERT_TRUE(ids.ok()) << ids.status().to_string();
    EXPECT_EQ(*ids, chat["ids"].get<std::vector<int32_t>>()) << chat["name"];
    ++n;
  }
  EXPECT_EQ(n, 4);
}

}  // namespace
}  // namespace ember::engine
