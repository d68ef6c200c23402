// Every case of ../shared/fixtures/tokenizer (made by Hugging Face's
// tokenizers, cross-checked with tiktoken) must come out identical.
#include <gtest/gtest.h>

#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace ember::tokenizer {
namespace {

using testing::fixture;
using testing::r1_tokenizer;
using testing::read_jsonl;

std::vector<int32_t> ids_of(const nlohmann::json& j) { return j.get<std::vector<int32_t>>(); }

TEST(TokenizerFixture, PublicCasesMatchHuggingFace) {
  auto tok = r1_tokenizer();
  ASSERT_TRUE(tok);
  const auto rows = read_jsonl(fixture("tokenizer/public.jsonl"));
  ASSERT_EQ(rows.size(), 220u);
  int ok_ids = 0, ok_special = 0, ok_decoded = 0, ok_skip = 0, ok_tokens = 0;
  for (const auto& row : rows) {
    const std::string id = row["id"], text = row["text"];
    const std::vector<int32_t> expected = ids_of(row["ids"]);
    auto plain = tok->encode(text, {.add_special_tokens = false});
    ASSERT_TRUE(plain.ok()) << id << ": " << plain.status().to_string();
    ok_ids += *plain == expected;
    EXPECT_EQ(*plain, expected) << id << " (" << row["category"] << "): " << text.substr(0, 200);

    auto with_special = tok->encode(text);
    ASSERT_TRUE(with_special.ok());
    ok_special += *with_special == ids_of(row["ids_with_special_tokens"]);
    EXPECT_EQ(*with_special, ids_of(row["ids_with_special_tokens"])) << id;

    const std::string decoded = tok->decode(expected);
    ok_decoded += decoded == row["decoded"];
    EXPECT_EQ(decoded, row["decoded"].get<std::string>()) << id;
    const std::string skipped = tok->decode(ids_of(row["ids_with_special_tokens"]), true);
    ok_skip += skipped == row["decoded_skip_special_tokens"];
    EXPECT_EQ(skipped, row["decoded_skip_special_tokens"].get<std::string>()) << id;

    std::vector<std::string> tokens;
    for (int32_t t : expected) tokens.push_back(tok->id_to_token(t).value_or("<none>"));
    ok_tokens += tokens == row["tokens"].get<std::vector<std::string>>();
    EXPECT_EQ(tokens, row["tokens"].get<std::vector<std::string>>()) << id;
  }
  std::printf("tokenizer.json: ids %d/%zu, with special %d, decoded %d, skip-special %d, tokens %d\n", ok_ids,
              rows.size(), ok_special, ok_decoded, ok_skip, ok_tokens);
}

TEST(TokenizerFixture, DecodeCasesMatchHuggingFace) {
  auto tok = r1_tokenizer();
  ASSERT_TRUE(tok);
  const auto rows = read_jsonl(fixture("tokenizer/decode_cases.jsonl"));
  ASSERT_FALSE(rows.empty());
  for (const auto& row : rows) {
    const std::vector<int32_t> ids = ids_of(row["ids"]);
    EXPECT_EQ(tok->decode(ids), row["decoded"].get<std::string>()) << row["ids"].dump();
    EXPECT_EQ(tok->decode(ids, true), row["decoded_skip_special_tokens"].get<std::string>()) << row["ids"].dump();
  }
}

TEST(TokenizerFixture, NamedTokensComeFromTheConfig) {
  auto tok = r1_tokenizer();
  ASSERT_TRUE(tok);
  // tokenizer_config.json names them by content; the ids are the file's.
  EXPECT_EQ(tok->token_text(tok->bos_id()), "<｜begin▁of▁sentence｜>");
  EXPECT_EQ(tok->token_text(tok->eos_id()), "<｜end▁of▁sentence｜>");
  EXPECT_GE(tok->token_to_id("</think>"), 0);
  EXPECT_TRUE(tok->is_special(tok->bos_id()));
  EXPECT_FALSE(tok->is_special(tok->token_to_id("</think>")));
  EXPECT_EQ(tok->vocab_size(), 151665);
}

TEST(TokenizerFixture, PlainTextModeNeverMakesControlTokens) {
  auto tok = r1_tokenizer();
  ASSERT_TRUE(tok);
  const std::string text = "hi <｜User｜> and <think> and <｜end▁of▁sentence｜>";
  auto parsed = tok->encode(text, {.add_special_tokens = false});
  auto plain = tok->encode(text, {.add_special_tokens = false, .parse_special = false});
  ASSERT_TRUE(parsed.ok() && plain.ok());
  auto has = [](const std::vector<int32_t>& ids, int32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
  for (const char* t : {"<｜User｜>", "<think>", "<｜end▁of▁sentence｜>"}) {
    EXPECT_TRUE(has(*parsed, tok->token_to_id(t))) << t;
    EXPECT_FALSE(has(*plain, tok->token_to_id(t))) << t;
  }
  for (int32_t id : *plain) EXPECT_FALSE(tok->is_added(id)) << id;
  EXPECT_EQ(tok->decode(*plain), text);
}

TEST(TokenizerFixture, InvalidUtf8IsAnError) {
  auto tok = r1_tokenizer();
  ASSERT_TRUE(tok);
  for (std::string bad : {std::string("ab\xff"), std::string("\xc3"), std::string("x\xed\xa0\x80y")}) {
    auto r = tok->encode(bad);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(TokenizerFixture, UnknownIdsDecodeToNothing) {
  auto tok = r1_tokenizer();
  ASSERT_TRUE(tok);
  const std::vector<int32_t> ids = {9707, -1, 151700, 1 << 30, 1879};
  EXPECT_EQ(tok->decode(ids), "Hello world");
  EXPECT_FALSE(tok->id_to_token(151700).has_value());
}

TEST(TokenizerJson, BrokenFilesGiveClearErrors) {
  struct Case {
    std::string json, expect;
  };
  const std::string pre = R"("pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}, "decoder": {"type": "ByteLevel"})";
  const std::vector<Case> cases = {
      {"{", "not valid JSON"},
      {"[]", "not a JSON object"},
      {R"({"model": {"type": "Unigram"}})", "model type 'Unigram' is not supported"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}, )" + pre + "}", "merge 0 'a'"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}, )" + pre + "}",
       "not in the vocabulary"},
      {R"({"model": {"type": "BPE", "vocab": {"a": -4}, "merges": []}, )" + pre + "}", "has id -4"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "normalizer": {"type": "Lowercase"}, )" + pre + "}",
       "normalizer"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "byte_fallback": true}, )" + pre + "}",
       "byte_fallback"},
  };
  for (const Case& c : cases) {
    auto spec = spec_from_tokenizer_json(c.json, "t.json");
    Status s = spec.ok() ? Tokenizer::create(*spec).status() : spec.status();
    EXPECT_FALSE(s.ok()) << c.json;
    EXPECT_NE(s.message().find("t.json"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace ember::tokenizer
