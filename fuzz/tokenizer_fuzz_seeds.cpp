// Writes each "text" of a JSONL file to <out>/seed_NNN, for the tokenizer
// fuzzer to start from.  Usage: tokenizer_fuzz_seeds IN.jsonl OUT_DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: tokenizer_fuzz_seeds IN.jsonl OUT_DIR\n");
    return 2;
  }
  std::filesystem::create_directories(argv[2]);
  std::ifstream in(argv[1]);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("text") || !j["text"].is_string()) continue;
    char name[32];
    std::snprintf(name, sizeof name, "/seed_%03d", n++);
    std::ofstream out(std::string(argv[2]) + name, std::ios::binary);
    const std::string text = j["text"];
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  return n > 0 ? 0 : 1;
}
