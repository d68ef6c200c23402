// The deepseek_r1 reasoning split, streamed in pieces of every size: the
// reasoning/content concatenations do not depend on how the text arrived,
// deltas split exactly at </think>, and no tag leaks into either part.
#include <gtest/gtest.h>

#include "chat/reasoning_parser.h"

namespace ember::chat {
namespace {

struct Split {
  std::string reasoning, content;
  bool ended = false;
};

Split run(const std::string& text, size_t step, bool starts_in_reasoning = true) {
  ReasoningParser p(starts_in_reasoning);
  Split s;
  for (size_t i = 0; i < text.size(); i += step) {
    auto d = p.push(std::string_view(text).substr(i, step));
    // A delta carries reasoning or content, and both only at the split.
    EXPECT_EQ(d.reasoning.find("</think>"), std::string::npos);
    EXPECT_EQ(d.content.find("</think>"), std::string::npos);
    s.reasoning += d.reasoning;
    s.content += d.content;
  }
  auto d = p.finish();
  s.reasoning += d.reasoning;
  s.content += d.content;
  s.ended = p.reasoning_ended();
  return s;
}

TEST(ReasoningParser, SplitsAtTheClosingTagWhateverThePieces) {
  const std::string text = "Okay, 2+2 is 4 </thin not yet.\n</think>\n\nThe answer is **4**.";
  for (size_t step = 1; step <= text.size(); ++step) {
    Split s = run(text, step);
    EXPECT_EQ(s.reasoning, "Okay, 2+2 is 4 </thin not yet.\n") << step;
    EXPECT_EQ(s.content, "\n\nThe answer is **4**.") << step;
    EXPECT_TRUE(s.ended);
  }
}

TEST(ReasoningParser, WithoutAClosingTagEverythingIsReasoning) {
  for (size_t step = 1; step <= 5; ++step) {
    Split s = run("still thinking </thi", step);
    EXPECT_EQ(s.reasoning, "still thinking </thi");
    EXPECT_EQ(s.content, "");
    EXPECT_FALSE(s.ended);
  }
}

TEST(ReasoningParser, DropsARepeatedOpeningTag) {
  for (size_t step = 1; step <= 9; ++step) {
    Split s = run("<think>\nhmm</think>yes", step);
    EXPECT_EQ(s.reasoning, "\nhmm") << step;
    EXPECT_EQ(s.content, "yes") << step;
  }
}

TEST(ReasoningParser, OutputThatNeverOpensIsContentWhenNotStartedInReasoning) {
  Split a = run("Hello there", 3, false);
  EXPECT_EQ(a.reasoning, "");
  EXPECT_EQ(a.content, "Hello there");
  Split b = run("<think>x</think>y", 2, false);
  EXPECT_EQ(b.reasoning, "x");
  EXPECT_EQ(b.content, "y");
}

// reasoned(): whether the output was reasoning at all (the server's reply
// then has reasoning_content as a string, "" if empty, as vLLM's).
TEST(ReasoningParser, ReasonedOnlyWhenTheOutputWasReasoning) {
  ReasoningParser starts;  // the prompt opened <think>
  EXPECT_TRUE(starts.reasoned());
  starts.push("</think>");
  EXPECT_TRUE(starts.reasoned());
  EXPECT_TRUE(starts.reasoning_ended());

  ReasoningParser plain(false);
  plain.push("Hello");
  plain.finish();
  EXPECT_FALSE(plain.reasoned());
  EXPECT_FALSE(plain.reasoning_ended());

  ReasoningParser undecided(false);  // only whitespace: never decided
  undecided.push("  ");
  EXPECT_EQ(undecided.finish().content, "  ");
  EXPECT_FALSE(undecided.reasoned());

  ReasoningParser opens(false);
  opens.push("<think>x");
  EXPECT_TRUE(opens.reasoned());
  EXPECT_FALSE(opens.reasoning_ended());
  opens.push("</think>y");
  EXPECT_TRUE(opens.reasoned());
  EXPECT_TRUE(opens.reasoning_ended());
}

TEST(ReasoningParser, NoDeltaHoldsOnlyATag) {
  ReasoningParser p;
  EXPECT_EQ(p.push("abc").reasoning, "abc");
  auto d = p.push("</think>");
  EXPECT_TRUE(d.empty());
  EXPECT_FALSE(p.in_reasoning());
  EXPECT_EQ(p.push("def").content, "def");
}

}  // namespace
}  // namespace ember::chat
