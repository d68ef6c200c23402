// Safetensors: the fixture hf/ checkpoints (written by Hugging Face tools)
// hold the same tensors as the GGUFs llama.cpp converted from them, with the
// same values; a sharded checkpoint built from one opens to the same bytes;
// malformed files and indexes fail with a Status naming the file and tensor.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "format_test_util.h"
#include "tensor/fp16.h"

namespace ember::formats {
namespace {

using testing::hf_name_of;
using testing::make_safetensors;
using testing::models_dir;
using testing::raw_safetensors;
using testing::ScratchDir;
using testing::StEntry;
using testing::write_bytes;
using testing::write_text;

bool has_fixtures() { return std::filesystem::is_directory(models_dir()); }

float st_value(const SafetensorsTensor& t, size_t i) {
  uint16_t h;
  switch (t.dtype) {
    case DType::kF32: {
      float f;
      std::memcpy(&f, t.data + 4 * i, 4);
      return f;
    }
    case DType::kF16: std::memcpy(&h, t.data + 2 * i, 2); return f16_to_f32(h);
    case DType::kBF16: std::memcpy(&h, t.data + 2 * i, 2); return bf16_to_f32(h);
    default: return NAN;
  }
}
float gguf_value(const GgufTensorInfo& t, size_t i) {
  uint16_t h;
  switch (t.dtype) {
    case DType::kF32: {
      float f;
      std::memcpy(&f, t.data + 4 * i, 4);
      return f;
    }
    case DType::kF16: std::memcpy(&h, t.data + 2 * i, 2); return f16_to_f32(h);
    case DType::kBF16: std::memcpy(&h, t.data + 2 * i, 2); return bf16_to_f32(h);
    default: return NAN;
  }
}

// Names, shapes (reversed between the formats) and, when `values`, every
// value of the HF checkpoint against the GGUF converted from it.
void compare_checkpoint(const std::string& model, const std::string& gguf_file, DType hf_dtype, bool values) {
  const std::string dir = models_dir() + "/" + model;
  SCOPED_TRACE(dir);
  auto st = SafetensorsCheckpoint::open(dir + "/hf");
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  auto g = GgufFile::open(dir + "/" + gguf_file);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  ASSERT_EQ(st->tensors().size(), g->tensors().size());
  for (const GgufTensorInfo& gt : g->tensors()) {
    const std::string hf = hf_name_of(gt.name);
    ASSERT_FALSE(hf.empty()) << "no HF name for " << gt.name;
    const SafetensorsTensor* t = st->find(hf);
    ASSERT_NE(t, nullptr) << hf;
    EXPECT_EQ(t->dtype, hf_dtype) << hf;
    std::vector<int64_t> reversed(gt.shape.rbegin(), gt.shape.rend());
    EXPECT_EQ(t->shape, reversed) << hf;
    EXPECT_EQ(t->file, dir + "/hf/model.safetensors");
    if (!values) continue;
    const size_t n = static_cast<size_t>(gt.num_elements());
    ASSERT_EQ(t->bytes, n * (hf_dtype == DType::kF32 ? 4 : 2));
    if (gt.dtype == t->dtype) {
      EXPECT_EQ(std::memcmp(gt.data, t->data, t->bytes), 0) << hf << ": bytes differ";
    } else {
      size_t bad = 0;
      for (size_t i = 0; i < n; ++i) bad += st_value(*t, i) != gguf_value(gt, i);
      EXPECT_EQ(bad, 0u) << hf << ": " << bad << " of " << n << " values differ";
    }
  }
}

TEST(SafetensorsFixtures, TinyQwen2MatchesF32Gguf) {
  if (!has_fixtures()) GTEST_SKIP() << "fixtures absent: " << models_dir();
  compare_checkpoint("tiny-qwen2", "tiny-qwen2-F32.gguf", DType::kF32, true);
}

TEST(SafetensorsFixtures, TinyQwen2Hd128MatchesF32Gguf) {
  if (!has_fixtures()) GTEST_SKIP() << "fixtures absent: " << models_dir();
  compare_checkpoint("tiny-qwen2-hd128", "tiny-qwen2-hd128-F32.gguf", DType::kF32, true);
}

TEST(SafetensorsFixtures, TinyR1VocabMatchesBf16Gguf) {
  if (!has_fixtures()) GTEST_SKIP() << "fixtures absent: " << models_dir();
  // GGUF keeps norms and biases in F32: the values must still be the BF16 ones.
  compare_checkpoint("tiny-r1vocab", "tiny-r1vocab-BF16.gguf", DType::kBF16, true);
}

TEST(SafetensorsFixtures, QuantizedGgufsHaveTheSameTensorNames) {
  if (!has_fixtures()) GTEST_SKIP() << "fixtures absent: " << models_dir();
  for (const char* f : {"tiny-qwen2-F16.gguf", "tiny-qwen2-Q8_0.gguf"})
    compare_checkpoint("tiny-qwen2", f, DType::kF32, false);
  for (const char* f : {"tiny-qwen2-hd128-Q4_K_M.gguf", "tiny-qwen2-hd128-Q6_K.gguf"})
    compare_checkpoint("tiny-qwen2-hd128", f, DType::kF32, false);
}

// Two shards and an index made from the tiny-qwen2 checkpoint.
TEST(SafetensorsSharded, TwoShardsOpenAndMatchTheSingleFile) {
  if (!has_fixtures()) GTEST_SKIP() << "fixtures absent: " << models_dir();
  auto single = SafetensorsCheckpoint::open(models_dir() + "/tiny-qwen2/hf");
  ASSERT_TRUE(single.ok()) << single.status().to_string();
  std::vector<StEntry> shard[2];
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  int i = 0;
  for (const auto& [name, t] : single->tensors()) {
    const int s = i++ % 2;
    shard[s].push_back({name, t.dtype == DType::kF32 ? "F32" : "BF16", t.shape, {t.data, t.data + t.bytes}});
    weight_map[name] = s == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  write_bytes(dir.file("model-00001-of-00002.safetensors"), make_safetensors(shard[0]));
  write_bytes(dir.file("model-00002-of-00002.safetensors"), make_safetensors(shard[1]));
  write_text(dir.file("model.safetensors.index.json"),
             nlohmann::ordered_json{{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}.dump(2));

  auto sharded = SafetensorsCheckpoint::open(dir.path());
  ASSERT_TRUE(sharded.ok()) << sharded.status().to_string();
  ASSERT_EQ(sharded->tensors().size(), single->tensors().size());
  for (const auto& [name, t] : single->tensors()) {
    const SafetensorsTensor* s = sharded->find(name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_EQ(s->dtype, t.dtype);
    EXPECT_EQ(s->shape, t.shape);
    ASSERT_EQ(s->bytes, t.bytes);
    EXPECT_EQ(std::memcmp(s->data, t.data, t.bytes), 0) << name;
    EXPECT_EQ(s->file, dir.path() + "/" + weight_map[name].get<std::string>()) << name;
  }
  // One shard opened by its path alone holds its half.
  auto one = SafetensorsCheckpoint::open(dir.file("model-00002-of-00002.safetensors"));
  ASSERT_TRUE(one.ok()) << one.status().to_string();
  EXPECT_EQ(one->tensors().size(), shard[1].size());
}

// --- malformed files -------------------------------------------------------

// Opening `bytes` as a file fails with `code`, naming the file and, when
// given, the tensor.
void expect_bad(const std::vector<uint8_t>& bytes, StatusCode code, const std::string& tensor = "") {
  ScratchDir dir;
  const std::string path = dir.file("bad.safetensors");
  write_bytes(path, bytes);
  auto st = SafetensorsCheckpoint::open(path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), code) << st.status().to_string();
  EXPECT_NE(st.status().message().find(path), std::string::npos) << st.status().to_string();
  if (!tensor.empty()) {
    EXPECT_NE(st.status().message().find("'" + tensor + "'"), std::string::npos) << st.status().to_string();
  }
}

std::string one_tensor(const std::string& fields) { return R"({"w":{)" + fields + "}}"; }

TEST(SafetensorsCorrupt, ShortFileAndBadHeaderLength) {
  expect_bad({}, StatusCode::kCorrupt);
  expect_bad({1, 0, 0}, StatusCode::kCorrupt);
  const std::string h = one_tensor(R"("dtype":"F32","shape":[2],"data_offsets":[0,8])");
  expect_bad(raw_safetensors(h, 8, h.size() + 9), StatusCode::kCorrupt);      // past the end
  expect_bad(raw_safetensors(h, 8, uint64_t{1} << 63), StatusCode::kCorrupt);  // absurd
  expect_bad(raw_safetensors(h, 8, ~uint64_t{0}), StatusCode::kCorrupt);
  expect_bad(raw_safetensors(h, 8, 0), StatusCode::kCorrupt);                  // empty header
}

TEST(SafetensorsCorrupt, HeaderIsNotAJsonObject) {
  expect_bad(raw_safetensors("{\"w\": ", 0), StatusCode::kCorrupt);
  expect_bad(raw_safetensors("[1, 2, 3]", 0), StatusCode::kCorrupt);
  expect_bad(raw_safetensors("\"text\"", 0), StatusCode::kCorrupt);
  expect_bad(raw_safetensors(std::string("{\"a\":\0}", 7), 0), StatusCode::kCorrupt);
  expect_bad(raw_safetensors("{\"a\": 1e999}", 0), StatusCode::kCorrupt);
  expect_bad(raw_safetensors(std::string(5000, '[') , 0), StatusCode::kCorrupt);
}

TEST(SafetensorsCorrupt, TensorEntriesThatDoNotParse) {
  auto bad = [](const std::string& fields, size_t data, StatusCode code = StatusCode::kCorrupt) {
    SCOPED_TRACE(fields);
    expect_bad(raw_safetensors(one_tensor(fields), data), code, "w");
  };
  bad(R"("shape":[2],"data_offsets":[0,8])", 8);                         // no dtype
  bad(R"("dtype":"F32","data_offsets":[0,8])", 8);                       // no shape
  bad(R"("dtype":"F32","shape":[2])", 8);                                // no offsets
  bad(R"("dtype":32,"shape":[2],"data_offsets":[0,8])", 8);              // dtype not a string
  bad(R"("dtype":"F32","shape":2,"data_offsets":[0,8])", 8);             // shape not an array
  bad(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])", 8);          // negative dim
  bad(R"("dtype":"F32","shape":[2.5],"data_offsets":[0,8])", 8);         // fractional dim
  bad(R"("dtype":"F32","shape":["2"],"data_offsets":[0,8])", 8);         // string dim
  bad(R"("dtype":"F32","shape":[1099511627777],"data_offsets":[0,8])", 8);           // > 2^40
  bad(R"("dtype":"F32","shape":[1048576,1048576,1048576],"data_offsets":[0,8])", 8);  // 2^60 elements
  bad(R"("dtype":"F32","shape":[2],"data_offsets":[0])", 8);             // one offset
  bad(R"("dtype":"F32","shape":[2],"data_offsets":[0,8,16])", 8);        // three
  bad(R"("dtype":"F32","shape":[2],"data_offsets":[-1,7])", 8);          // negative
  bad(R"("dtype":"F32","shape":[2],"data_offsets":{"a":1})", 8);         // not an array
  bad(R"("dtype":"F32","shape":[2],"data_offsets":[8,0])", 8);           // begin > end
  bad(R"("dtype":"F32","shape":[2],"data_offsets":[0,16])", 8);          // past the data
  bad(R"("dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615])", 8);
  bad(R"("dtype":"F32","shape":[3],"data_offsets":[0,8])", 8);           // shape needs 12 bytes
  bad(R"("dtype":"F16","shape":[2],"data_offsets":[0,8])", 8);           // dtype needs 4 bytes
  bad(R"("dtype":"I64","shape":[1],"data_offsets":[0,8])", 8, StatusCode::kUnsupported);
  bad(R"("dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8])", 8, StatusCode::kUnsupported);
  expect_bad(raw_safetensors(R"({"w":[1,2]})", 8), StatusCode::kCorrupt, "w");
  expect_bad(raw_safetensors(R"({"w":"x"})", 8), StatusCode::kCorrupt, "w");
}

TEST(SafetensorsCorrupt, ValidEdgeCasesStillOpen) {
  ScratchDir dir;
  // Scalar (empty shape), zero-sized tensor, metadata only, space padding.
  const std::string h = R"({"__metadata__":{"k":"v"},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                        R"("z":{"dtype":"BF16","shape":[0,3],"data_offsets":[4,4]}}    )";
  write_bytes(dir.file("ok.safetensors"), raw_safetensors(h, 4));
  auto st = SafetensorsCheckpoint::open(dir.file("ok.safetensors"));
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  ASSERT_NE(st->find("s"), nullptr);
  EXPECT_EQ(st->find("s")->bytes, 4u);
  EXPECT_TRUE(st->find("s")->shape.empty());
  ASSERT_NE(st->find("z"), nullptr);
  EXPECT_EQ(st->find("z")->bytes, 0u);
  EXPECT_EQ(st->find("__metadata__"), nullptr);
}

TEST(SafetensorsCorrupt, MissingPathsAndNonFiles) {
  ScratchDir dir;
  auto missing = SafetensorsCheckpoint::open(dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir.path()), std::string::npos);
  auto nofile = SafetensorsCheckpoint::open(dir.file("nope.safetensors"));
  ASSERT_FALSE(nofile.ok());
  EXPECT_NE(nofile.status().message().find(dir.file("nope.safetensors")), std::string::npos);
}

// A valid two-shard checkpoint in `dir`, tensors a (shard 1) and b (shard 2).
struct Shards {
  ScratchDir dir;
  std::string s1 = "model-00001-of-00002.safetensors", s2 = "model-00002-of-00002.safetensors";
  std::string index() const { return dir.file("model.safetensors.index.json"); }
  Shards() {
    std::vector<uint8_t> four(16, 0x40);
    write_bytes(dir.file(s1), make_safetensors({{"a", "F32", {4}, four}}));
    write_bytes(dir.file(s2), make_safetensors({{"b", "F32", {2, 2}, four}}));
  }
  void write_index(const nlohmann::ordered_json& weight_map) const {
    write_text(index(), nlohmann::ordered_json{{"weight_map", weight_map}}.dump());
  }
};

void expect_bad_dir(const Shards& s, StatusCode code, const std::string& names_file, const std::string& tensor = "") {
  auto st = SafetensorsCheckpoint::open(s.dir.path());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), code) << st.status().to_string();
  EXPECT_NE(st.status().message().find(names_file), std::string::npos) << st.status().to_string();
  if (!tensor.empty()) {
    EXPECT_NE(st.status().message().find("'" + tensor + "'"), std::string::npos) << st.status().to_string();
  }
}

TEST(SafetensorsShardedCorrupt, GoodIndexOpens) {
  Shards s;
  s.write_index({{"a", s.s1}, {"b", s.s2}});
  auto st = SafetensorsCheckpoint::open(s.dir.path());
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_EQ(st->tensors().size(), 2u);
}

TEST(SafetensorsShardedCorrupt, MissingShard) {
  Shards s;
  s.write_index({{"a", s.s1}, {"b", s.s2}, {"c", "model-00003-of-00003.safetensors"}});
  expect_bad_dir(s, StatusCode::kIoError, s.dir.file("model-00003-of-00003.safetensors"));
}

TEST(SafetensorsShardedCorrupt, BadIndexJson) {
  Shards s;
  write_text(s.index(), "{\"weight_map\": {\"a\": ");
  expect_bad_dir(s, StatusCode::kCorrupt, s.index());
  write_text(s.index(), "[]");
  expect_bad_dir(s, StatusCode::kCorrupt, s.index());
  write_text(s.index(), "{\"weight_map\": []}");
  expect_bad_dir(s, StatusCode::kCorrupt, s.index());
  write_text(s.index(), "{\"weight_map\": {}}");
  expect_bad_dir(s, StatusCode::kCorrupt, s.index());
  // A number JSON cannot hold as a double must not escape as an exception.
  write_text(s.index(), "{\"metadata\": {\"total_size\": 1e400}, \"weight_map\": {}}");
  expect_bad_dir(s, StatusCode::kCorrupt, s.index());
  s.write_index({{"a", 7}});
  expect_bad_dir(s, StatusCode::kCorrupt, s.index(), "a");
}

TEST(SafetensorsShardedCorrupt, ShardNamesMustBePlainSafetensorsFiles) {
  Shards s;
  s.write_index({{"a", "../" + s.s1}});
  expect_bad_dir(s, StatusCode::kCorrupt, s.index());
  s.write_index({{"a", "/etc/passwd"}});
  expect_bad_dir(s, StatusCode::kCorrupt, s.index());
  write_text(s.dir.file("notes.txt"), "hello");
  s.write_index({{"a", "notes.txt"}});
  expect_bad_dir(s, StatusCode::kCorrupt, s.dir.file("notes.txt"));
}

TEST(SafetensorsShardedCorrupt, IndexAndShardsDisagree) {
  Shards s;
  // The index names a tensor no shard holds.
  s.write_index({{"a", s.s1}, {"b", s.s2}, {"ghost", s.s2}});
  expect_bad_dir(s, StatusCode::kCorrupt, s.index(), "ghost");
  // The index puts a tensor in the wrong shard.
  s.write_index({{"a", s.s2}, {"b", s.s2}});
  expect_bad_dir(s, StatusCode::kCorrupt, s.index(), "a");
  // The same tensor in two shards.
  std::vector<uint8_t> four(16, 0x40);
  write_bytes(s.dir.file(s.s2), make_safetensors({{"b", "F32", {4}, four}, {"a", "F32", {4}, four}}));
  s.write_index({{"a", s.s1}, {"b", s.s2}});
  expect_bad_dir(s, StatusCode::kCorrupt, s.dir.file(s.s2), "a");
}

TEST(SafetensorsShardedCorrupt, BadShardContentsNameTheShard) {
  Shards s;
  s.write_index({{"a", s.s1}, {"b", s.s2}});
  auto bytes = testing::read_bytes(s.dir.file(s.s2));
  bytes.resize(bytes.size() - 4);  // truncated data
  write_bytes(s.dir.file(s.s2), bytes);
  expect_bad_dir(s, StatusCode::kCorrupt, s.dir.file(s.s2), "b");
}

}  // namespace
}  // namespace ember::formats
