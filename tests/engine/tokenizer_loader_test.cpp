// The tokenizer read from a GGUF vocabulary (llama.cpp's tokenizer.ggml.*
// keys of tiny-r1vocab, which carries the real DeepSeek-R1-Distill
// vocabulary) gives Hugging Face's ids for every fixture case.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/tokenizer_loader.h"
#include "tokenizer/tokenizer_test_util.h"

namespace ember::engine {
namespace {

using tokenizer::testing::fixture;
using tokenizer::testing::read_jsonl;

void expect_fixture_ids(const ModelTokenizer& mt, bool check_skip_special) {
  const auto rows = read_jsonl(fixture("tokenizer/public.jsonl"));
  ASSERT_EQ(rows.size(), 220u);
  int same = 0;
  for (const auto& row : rows) {
    const std::string text = row["text"];
    const auto ids = row["ids"].get<std::vector<int32_t>>();
    auto plain = mt.tokenizer->encode(text, {.add_special_tokens = false});
    auto special = mt.tokenizer->encode(text);
    ASSERT_TRUE(plain.ok() && special.ok());
    EXPECT_EQ(*plain, ids) << row["id"];
    EXPECT_EQ(*special, row["ids_with_special_tokens"].get<std::vector<int32_t>>()) << row["id"];
    EXPECT_EQ(mt.tokenizer->decode(ids), row["decoded"].get<std::string>()) << row["id"];
    if (check_skip_special) {
      EXPECT_EQ(mt.tokenizer->decode(special.value(), true), row["decoded_skip_special_tokens"].get<std::string>());
    }
    same += *plain == ids;
  }
  std::printf("%s: %d/%zu cases identical\n", mt.tokenizer->source().c_str(), same, rows.size());
}

TEST(TokenizerLoader, GgufVocabularyGivesHuggingFaceIds) {
  auto mt = load_model_tokenizer(fixture("models/tiny-r1vocab/tiny-r1vocab-BF16.gguf"));
  ASSERT_TRUE(mt.ok()) << mt.status().to_string();
  EXPECT_EQ(mt->bos_token, "<｜begin▁of▁sentence｜>");
  EXPECT_EQ(mt->eos_token, "<｜end▁of▁sentence｜>");
  ASSERT_TRUE(mt->chat_template.is_string());
  EXPECT_NE(mt->chat_template.get<std::string>().find("<｜Assistant｜>"), std::string::npos);
  // GGUF marks <｜User｜> and friends as control tokens where tokenizer.json
  // does not call them special, so skip_special_tokens is not compared.
  expect_fixture_ids(*mt, false);
}

TEST(TokenizerLoader, HuggingFaceDirectoryOfTheTinyModel) {
  auto mt = load_model_tokenizer(fixture("models/tiny-r1vocab/hf"));
  ASSERT_TRUE(mt.ok()) << mt.status().to_string();
  EXPECT_FALSE(mt->chat_template.is_null());
  expect_fixture_ids(*mt, true);
}

TEST(TokenizerLoader, MissingOrWrongPathsAreClearErrors) {
  auto a = load_model_tokenizer("/nonexistent/model");
  EXPECT_EQ(a.status().code(), StatusCode::kNotFound);
  EXPECT_NE(a.status().message().find("/nonexistent/model"), std::string::npos);
  auto b = load_model_tokenizer(fixture("models/tiny-r1vocab/tokens.txt"));
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  auto c = load_model_tokenizer(fixture("models"));  // a directory without tokenizer.json
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("tokenizer.json"), std::string::npos);
}

}  // namespace
}  // namespace ember::engine
