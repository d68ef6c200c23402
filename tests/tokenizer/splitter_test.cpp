// The hand-written Qwen2 / Llama-3 pre-tokenizer splitter against Oniguruma
// running the same regex (the engine Hugging Face tokenizers uses), on the
// fixture texts and on random strings built from the characters where the
// two could disagree (letters, digits, marks, spaces, newlines, apostrophes).
#include <gtest/gtest.h>

#include <random>

#include "tokenizer/fast_splitter.h"
#include "tokenizer/onig_regex.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace ember::tokenizer {
namespace {

using testing::fixture;
using testing::read_jsonl;

std::vector<std::pair<size_t, size_t>> fast_split(const FastSplitter& f, std::string_view text) {
  std::vector<std::pair<size_t, size_t>> out;
  f.split(text, [&](size_t b, size_t e) { out.emplace_back(b, e); });
  return out;
}

// Oniguruma's matches, with the gaps between them as pieces too (the split
// behaviour Isolated keeps both).
std::vector<std::pair<size_t, size_t>> onig_split(const OnigRegex& re, std::string_view text) {
  std::vector<std::pair<size_t, size_t>> m, out;
  EXPECT_TRUE(re.find_all(text, &m).ok());
  size_t prev = 0;
  for (auto [b, e] : m) {
    if (b > prev) out.emplace_back(prev, b);
    out.emplace_back(b, e);
    prev = e;
  }
  if (prev < text.size()) out.emplace_back(prev, text.size());
  return out;
}

class SplitterTest : public ::testing::TestWithParam<std::string_view> {};

TEST_P(SplitterTest, AgreesWithOniguruma) {
  auto fast = FastSplitter::for_pattern(GetParam());
  ASSERT_TRUE(fast.has_value());
  auto re = OnigRegex::compile(GetParam());
  ASSERT_TRUE(re.ok()) << re.status().to_string();
  for (const auto& row : read_jsonl(fixture("tokenizer/public.jsonl"))) {
    const std::string text = row["text"];
    EXPECT_EQ(fast_split(*fast, text), onig_split(**re, text)) << row["id"];
  }
  const std::vector<std::string> alphabet = {"a", "Z", "é", "e\xCC\x81", "ß", "中", "ا", "1", "٣", "Ⅻ", "²",
                                             " ", "  ", "\t", "\n", "\r\n", "\xC2\xA0", "\xE3\x80\x80",
                                             "'", "'s", "'LL", "’", ".", "!?", "😀", "_", "-", "\xC2\x85"};
  std::mt19937 rng(11);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text;
    const int len = 1 + static_cast<int>(rng() % 24);
    for (int i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    EXPECT_EQ(fast_split(*fast, text), onig_split(**re, text)) << text;
  }
}

INSTANTIATE_TEST_SUITE_P(Patterns, SplitterTest, ::testing::Values(kQwen2Pattern, kLlama3Pattern));

}  // namespace
}  // namespace ember::tokenizer
