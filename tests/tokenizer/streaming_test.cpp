// The streaming detokenizer reproduces decode() piece by piece, never
// emitting a partial character; stop strings hold back exactly what could
// still become a stop.
#include <gtest/gtest.h>

#include <random>

#include "tokenizer/incremental_decoder.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace ember::tokenizer {
namespace {

using testing::fixture;
using testing::r1_tokenizer;
using testing::read_jsonl;

TEST(IncrementalDecoder, ConcatenationEqualsDecodeForEveryFixtureCase) {
  auto tok = r1_tokenizer();
  ASSERT_TRUE(tok);
  std::vector<std::vector<int32_t>> cases;
  for (const auto& row : read_jsonl(fixture("tokenizer/public.jsonl")))
    cases.push_back(row["ids_with_special_tokens"].get<std::vector<int32_t>>());
  for (const auto& row : read_jsonl(fixture("tokenizer/decode_cases.jsonl")))
    cases.push_back(row["ids"].get<std::vector<int32_t>>());
  for (const auto& ids : cases) {
    for (bool skip : {false, true}) {
      IncrementalDecoder dec(tok, skip);
      std::string all;
      for (int32_t id : ids) {
        const std::string piece = dec.push(id);
        EXPECT_TRUE(is_valid_utf8(piece));
        all += piece;
      }
      all += dec.finish();
      EXPECT_EQ(all, tok->decode(ids, skip));
    }
  }
}

TEST(IncrementalDecoder, HoldsBackAPartialCharacter) {
  auto tok = r1_tokenizer();
  ASSERT_TRUE(tok);
  // Ids from decode_cases.jsonl: " 🚀" arrives as three byte tokens.
  IncrementalDecoder dec(tok, false);
  EXPECT_EQ(dec.push(11162), " ");
  EXPECT_EQ(dec.push(248), "");
  EXPECT_GT(dec.pending_bytes(), 0u);
  EXPECT_EQ(dec.push(222), "🚀");
  EXPECT_EQ(dec.finish(), "");
}

TEST(IncrementalDecoder, RandomIdsStayConsistent) {
  auto tok = r1_tokenizer();
  ASSERT_TRUE(tok);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> any(0, tok->vocab_size() - 1), byte_tok(0, 255);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<int32_t> ids;
    for (int i = 0; i < 40; ++i) ids.push_back(rng() % 3 ? byte_tok(rng) : any(rng));
    IncrementalDecoder dec(tok, trial % 2);
    std::string all;
    for (int32_t id : ids) all += dec.push(id);
    all += dec.finish();
    EXPECT_EQ(all, tok->decode(ids, trial % 2));
  }
}

// Runs text through the matcher in pieces of `step` bytes (at character
// boundaries) and returns the output.
std::string run_stops(const std::vector<std::string>& stops, bool include, const std::string& text, size_t step,
                      int* which) {
  StopStringMatcher m(stops, include);
  std::string out;
  size_t i = 0;
  while (i < text.size() && !m.stopped()) {
    size_t n = std::min(step, text.size() - i);
    n = utf8_boundary_before(text.substr(i), n);
    if (n == 0) n = std::min<size_t>(4, text.size() - i);
    const std::string piece = m.push(text.substr(i, n));
    EXPECT_TRUE(is_valid_utf8(piece));
    out += piece;
    i += n;
  }
  if (!m.stopped()) out += m.finish();
  *which = m.stopped_index();
  return out;
}

TEST(StopStringMatcher, CutsAtTheFirstStopWhateverThePieces) {
  const std::string text = "The answer is 42.\n\nUser: next ßtop question";
  for (size_t step = 1; step <= text.size(); ++step) {
    int which = -2;
    EXPECT_EQ(run_stops({"User:", "zzz"}, false, text, step, &which), "The answer is 42.\n\n") << step;
    EXPECT_EQ(which, 0);
    EXPECT_EQ(run_stops({"zzz", "User:"}, true, text, step, &which), "The answer is 42.\n\nUser:") << step;
    EXPECT_EQ(which, 1);
    EXPECT_EQ(run_stops({"ßtop"}, false, text, step, &which), "The answer is 42.\n\nUser: next ") << step;
    EXPECT_EQ(run_stops({"nomatch", "42!"}, false, text, step, &which), text) << step;
    EXPECT_EQ(which, -1);
    // Of two stops, the one that starts earlier in the text wins.
    EXPECT_EQ(run_stops({"question", "is"}, false, text, step, &which), "The answer ") << step;
    EXPECT_EQ(which, 1);
  }
}

TEST(StopStringMatcher, HoldsBackOnlyAPossiblePrefix) {
  StopStringMatcher m({"</answer>"}, false);
  EXPECT_EQ(m.push("x = 1 </ans"), "x = 1 ");
  EXPECT_EQ(m.push("wer? no"), "</answer? no");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.push(" </"), " ");
  EXPECT_EQ(m.finish(), "</");
}

TEST(StopStringMatcher, NoStopsPassesEverything) {
  StopStringMatcher m({}, false);
  EXPECT_EQ(m.push("abc"), "abc");
  EXPECT_EQ(m.finish(), "");
}

}  // namespace
}  // namespace ember::tokenizer
