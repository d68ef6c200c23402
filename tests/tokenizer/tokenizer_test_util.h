// Shared by the tokenizer tests: the fixture tokenizer and JSONL reading.
#pragma once

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer_json.h"

namespace ember::tokenizer::testing {

inline std::string fixture(const std::string& rel) { return std::string(EMBER_FIXTURES_DIR) + "/" + rel; }

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// The DeepSeek-R1-Distill tokenizer from the fixtures, loaded once.
inline std::shared_ptr<const Tokenizer> r1_tokenizer() {
  static std::shared_ptr<const Tokenizer> tok = [] {
    auto t = load_tokenizer_dir(fixture("tokenizer/deepseek-r1-distill-qwen-1.5b"));
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    return t.ok() ? *t : nullptr;
  }();
  return tok;
}

}  // namespace ember::tokenizer::testing
