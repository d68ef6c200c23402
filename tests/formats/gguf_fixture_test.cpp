// Every fixture GGUF (written by llama.cpp's tools) parses, and its tensor
// directory matches the listing in the folder's tensor_types.txt (made by
// the fixture generator, not by ember): count, names, types and shapes.
// Metadata is checked against the model table of fixtures/README.md.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "formats/gguf.h"
#include "format_test_util.h"

namespace ember::formats {
namespace {

using testing::models_dir;

struct ListedTensor {
  std::string type;               // as listed: F32, Q4_K, ...
  std::vector<int64_t> ne;        // GGUF order
};
struct ListedFile {
  size_t bytes = 0;
  size_t count = 0;
  std::map<std::string, ListedTensor> tensors;
};

// tensor_types.txt: "<file>: <bytes> bytes, <n> tensors, ..." then
// "    <name>  <TYPE>  ne=[a, b]" lines.
std::map<std::string, ListedFile> read_listing(const std::string& path) {
  std::map<std::string, ListedFile> out;
  std::ifstream in(path);
  std::string line, current;
  const std::regex file_re(R"(^(\S+\.gguf): (\d+) bytes, (\d+) tensors,.*$)");
  const std::regex tensor_re(R"(^\s+(\S+)\s+(\S+)\s+ne=\[([0-9, ]+)\]\s*$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, file_re)) {
      current = m[1];
      out[current].bytes = std::stoull(m[2]);
      out[current].count = std::stoull(m[3]);
    } else if (std::regex_match(line, m, tensor_re) && !current.empty()) {
      ListedTensor t;
      t.type = m[2];
      std::stringstream dims(m[3].str());
      std::string d;
      while (std::getline(dims, d, ',')) t.ne.push_back(std::stoll(d));
      out[current].tensors[m[1]] = t;
    }
  }
  return out;
}

struct ModelRow {
  const char* dir;
  int64_t hidden, heads, head_dim, kv_heads, layers, ffn, vocab;
};
// fixtures/README.md, "models/" table.
constexpr ModelRow kModels[] = {
    {"tiny-qwen2", 128, 4, 32, 2, 2, 352, 1024},
    {"tiny-qwen2-hd128", 256, 2, 128, 1, 2, 512, 1024},
    {"tiny-r1vocab", 64, 2, 32, 1, 2, 128, 151936},
};

std::vector<std::string> ggufs_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".gguf") out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class GgufFixtures : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::is_directory(models_dir())) GTEST_SKIP() << "fixtures absent: " << models_dir();
  }
};

TEST_F(GgufFixtures, EveryFileMatchesItsTensorListing) {
  int checked = 0;
  for (const ModelRow& row : kModels) {
    const std::string dir = models_dir() + "/" + row.dir;
    const std::string listing_path = dir + "/tensor_types.txt";
    if (!std::filesystem::exists(listing_path)) continue;
    const auto listing = read_listing(listing_path);
    ASSERT_FALSE(listing.empty()) << listing_path;
    for (const auto& [file, want] : listing) {
      const std::string path = dir + "/" + file;
      if (!std::filesystem::exists(path)) continue;  // listed but not shipped (tiny-r1vocab F32, Q8_0)
      SCOPED_TRACE(path);
      auto g = GgufFile::open(path);
      ASSERT_TRUE(g.ok()) << g.status().to_string();
      EXPECT_EQ(g->file_size(), want.bytes);
      ASSERT_EQ(g->tensors().size(), want.count);
      ASSERT_EQ(want.tensors.size(), want.count);
      for (const auto& [name, lt] : want.tensors) {
        const GgufTensorInfo* t = g->find_tensor(name);
        ASSERT_NE(t, nullptr) << name;
        auto dt = parse_dtype(lt.type);
        ASSERT_TRUE(dt.has_value()) << lt.type;
        EXPECT_EQ(t->dtype, *dt) << name;
        EXPECT_EQ(t->shape, lt.ne) << name;
        int64_t n = 1;
        for (int64_t d : lt.ne) n *= d;
        EXPECT_EQ(t->num_elements(), n);
        EXPECT_EQ(t->bytes, row_bytes(t->dtype, lt.ne[0]) * static_cast<size_t>(n / lt.ne[0])) << name;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 7);  // 6 hd128 files + the r1vocab BF16
}

TEST_F(GgufFixtures, EveryFileParsesWithConsistentDirectoryAndMetadata) {
  int files = 0;
  for (const ModelRow& row : kModels) {
    const std::string dir = models_dir() + "/" + row.dir;
    for (const std::string& file : ggufs_in(dir)) {
      const std::string path = dir + "/" + file;
      SCOPED_TRACE(path);
      auto g = GgufFile::open(path);
      ASSERT_TRUE(g.ok()) << g.status().to_string();
      ++files;
      EXPECT_EQ(g->version(), 3u);
      EXPECT_EQ(g->alignment(), 32u);
      EXPECT_EQ(g->tensors().size(), static_cast<size_t>(3 + 12 * row.layers));
      // Metadata against the README table.
      EXPECT_EQ(g->get_string("general.architecture").value(), "qwen2");
      EXPECT_EQ(g->get_int("qwen2.block_count").value(), row.layers);
      EXPECT_EQ(g->get_int("qwen2.embedding_length").value(), row.hidden);
      EXPECT_EQ(g->get_int("qwen2.feed_forward_length").value(), row.ffn);
      EXPECT_EQ(g->get_int("qwen2.attention.head_count").value(), row.heads);
      EXPECT_EQ(g->get_int("qwen2.attention.head_count_kv").value(), row.kv_heads);
      EXPECT_NEAR(g->get_float("qwen2.attention.layer_norm_rms_epsilon").value(), 1e-6, 1e-12);
      EXPECT_NEAR(g->get_float("qwen2.rope.freq_base").value(), 10000.0, 1e-3);
      auto tokens = g->get_string_array("tokenizer.ggml.tokens");
      ASSERT_TRUE(tokens.ok()) << tokens.status().to_string();
      EXPECT_EQ(static_cast<int64_t>(tokens->size()), row.vocab);
      // Typed getters refuse the wrong kind and name the key.
      auto wrong = g->get_string("qwen2.block_count");
      ASSERT_FALSE(wrong.ok());
      EXPECT_NE(wrong.status().message().find("qwen2.block_count"), std::string::npos);
      auto missing = g->get_int("no.such.key");
      ASSERT_FALSE(missing.ok());
      EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
      EXPECT_NE(missing.status().message().find(path), std::string::npos);

      // Shapes: the embedding and output are [hidden, vocab] in GGUF order.
      const GgufTensorInfo* emb = g->find_tensor("token_embd.weight");
      ASSERT_NE(emb, nullptr);
      EXPECT_EQ(emb->shape, (std::vector<int64_t>{row.hidden, row.vocab}));
      const GgufTensorInfo* q = g->find_tensor("blk.0.attn_q.weight");
      ASSERT_NE(q, nullptr);
      EXPECT_EQ(q->shape, (std::vector<int64_t>{row.hidden, row.heads * row.head_dim}));
      const GgufTensorInfo* k = g->find_tensor("blk.1.attn_k.bias");
      ASSERT_NE(k, nullptr);
      EXPECT_EQ(k->shape, (std::vector<int64_t>{row.kv_heads * row.head_dim}));

      // Data: aligned, inside the file, non-overlapping.
      const uint8_t* base = g->mapping()->data();
      std::vector<std::pair<size_t, size_t>> spans;
      for (const GgufTensorInfo& t : g->tensors()) {
        const size_t off = static_cast<size_t>(t.data - base);
        EXPECT_EQ(off % g->alignment(), 0u) << t.name;
        EXPECT_LE(off + t.bytes, g->file_size()) << t.name;
        spans.push_back({off, off + t.bytes});
      }
      std::sort(spans.begin(), spans.end());
      for (size_t i = 1; i < spans.size(); ++i) EXPECT_LE(spans[i - 1].second, spans[i].first);
    }
  }
  EXPECT_GE(files, 10);
}

}  // namespace
}  // namespace ember::formats
