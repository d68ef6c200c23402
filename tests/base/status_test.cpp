#include "base/status.h"

#include <gtest/gtest.h>

namespace ember {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return invalid_argument("x must be positive, got " + std::to_string(x));
  return x;
}

Result<int> doubled(int x) {
  EMBER_ASSIGN_OR_RETURN(int v, parse_positive(x));
  return v * 2;
}

Status check(int x) {
  EMBER_RETURN_IF_ERROR(parse_positive(x).status());
  return ok_status();
}

TEST(Status, OkAndErrors) {
  EXPECT_TRUE(ok_status().ok());
  Status s = corrupt("model.gguf: tensor 'a': truncated");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_EQ(s.to_string(), "corrupt: model.gguf: tensor 'a': truncated");
  EXPECT_EQ(s.with_context("loading").message(), "loading: model.gguf: tensor 'a': truncated");
}

TEST(Result, PropagatesValuesAndErrors) {
  auto good = doubled(4);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(check(3).ok());
  EXPECT_FALSE(check(0).ok());
}

}  // namespace
}  // namespace ember
