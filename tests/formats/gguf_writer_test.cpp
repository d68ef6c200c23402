// GgufWriter → GgufFile round trips: every metadata type the writer offers
// (with edge values), arrays, and tensors of each dtype with 1 to 4
// dimensions come back exactly; bad tensors are refused; failed writes leave
// no file behind. The byte layout itself is checked against the spec by
// reading the header fields directly.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "formats/gguf.h"
#include "format_test_util.h"
#include "tensor/quant.h"

namespace ember::formats {
namespace {

using testing::read_bytes;
using testing::ScratchDir;

TEST(GgufWriter, EveryMetadataTypeRoundTrips) {
  ScratchDir dir;
  GgufWriter w;
  const std::string with_nul("a\0b", 3);
  w.set_string("s.plain", "qwen2");
  w.set_string("s.empty", "");
  w.set_string("s.utf8", "héllo ✓ 你好");
  w.set_string("s.nul", with_nul);
  w.set_uint32("u32.zero", 0);
  w.set_uint32("u32.max", std::numeric_limits<uint32_t>::max());
  w.set_int32("i32.min", std::numeric_limits<int32_t>::min());
  w.set_int32("i32.neg", -1);
  w.set_uint64("u64.max", std::numeric_limits<uint64_t>::max());
  w.set_uint64("u64.big", uint64_t{1} << 40);
  w.set_float32("f32.eps", 1e-6f);
  w.set_float32("f32.negzero", -0.0f);
  w.set_float32("f32.denorm", 1e-40f);
  w.set_float32("f32.inf", std::numeric_limits<float>::infinity());
  w.set_bool("b.true", true);
  w.set_bool("b.false", false);
  w.set_string_array("as.tokens", {"a", "", "ĠHello", with_nul});
  w.set_string_array("as.empty", {});
  w.set_int32_array("ai.types", {1, -2, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()});
  w.set_int32_array("ai.empty", {});
  w.set_float32_array("af.scores", {0.5f, -1.25f, 3e38f});
  const std::string path = dir.file("meta.gguf");
  ASSERT_TRUE(w.write(path).ok());

  auto g = GgufFile::open(path);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->version(), 3u);
  EXPECT_EQ(g->metadata().size(), 21u);
  EXPECT_TRUE(g->tensors().empty());
  EXPECT_EQ(g->get_string("s.plain").value(), "qwen2");
  EXPECT_EQ(g->get_string("s.empty").value(), "");
  EXPECT_EQ(g->get_string("s.utf8").value(), "héllo ✓ 你好");
  EXPECT_EQ(g->get_string("s.nul").value(), with_nul);
  EXPECT_EQ(g->get_int("u32.zero").value(), 0);
  EXPECT_EQ(g->get_int("u32.max").value(), 4294967295);
  EXPECT_EQ(g->get_int("i32.min").value(), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(g->get_int("i32.neg").value(), -1);
  EXPECT_FALSE(g->get_int("u64.max").ok());  // does not fit int64: refused, not wrapped
  EXPECT_EQ(g->get_int("u64.big").value(), int64_t{1} << 40);
  EXPECT_EQ(g->get_float("f32.eps").value(), static_cast<double>(1e-6f));
  EXPECT_TRUE(std::signbit(g->get_float("f32.negzero").value()));
  EXPECT_EQ(g->get_float("f32.denorm").value(), static_cast<double>(1e-40f));
  EXPECT_TRUE(std::isinf(g->get_float("f32.inf").value()));
  EXPECT_EQ(g->get_float("u32.max").value(), 4294967295.0);  // integers read as floats
  EXPECT_EQ(g->get_bool("b.true").value(), true);
  EXPECT_EQ(g->get_bool("b.false").value(), false);
  EXPECT_EQ(g->get_string_array("as.tokens").value(), (std::vector<std::string>{"a", "", "ĠHello", with_nul}));
  EXPECT_TRUE(g->get_string_array("as.empty").value().empty());
  EXPECT_EQ(g->get_int_array("ai.types").value(),
            (std::vector<int64_t>{1, -2, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()}));
  EXPECT_TRUE(g->get_int_array("ai.empty").value().empty());
  EXPECT_EQ(g->get_float_array("af.scores").value(), (std::vector<double>{0.5, -1.25, static_cast<double>(3e38f)}));

  // The GGUF type of each value is kept.
  EXPECT_EQ(g->find("u32.max")->type, GgufType::kUint32);
  EXPECT_EQ(g->find("i32.neg")->type, GgufType::kInt32);
  EXPECT_EQ(g->find("u64.big")->type, GgufType::kUint64);
  EXPECT_EQ(g->find("f32.eps")->type, GgufType::kFloat32);
  EXPECT_EQ(g->find("b.true")->type, GgufType::kBool);
  EXPECT_EQ(g->find("as.tokens")->elem_type, GgufType::kString);
  EXPECT_EQ(g->find("ai.types")->elem_type, GgufType::kInt32);
  EXPECT_EQ(g->find("af.scores")->elem_type, GgufType::kFloat32);

  // Wrong-kind getters fail naming the file and key.
  for (auto st : {g->get_bool("s.plain").status(), g->get_string("b.true").status(),
                  g->get_int("as.tokens").status(), g->get_float("s.plain").status(),
                  g->get_string_array("ai.types").status(), g->get_int_array("af.scores").status(),
                  g->get_float_array("as.tokens").status(), g->get_int("f32.eps").status()}) {
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.to_string();
    EXPECT_NE(st.message().find(path), std::string::npos) << st.to_string();
  }
}

TEST(GgufWriter, HeaderBytesFollowTheSpec) {
  ScratchDir dir;
  GgufWriter w;
  w.set_uint32("general.quantization_version", 2);
  const float v[3] = {1, 2, 3};
  ASSERT_TRUE(w.add_tensor("t", DType::kF32, {3}, v, sizeof v).ok());
  ASSERT_TRUE(w.write(dir.file("h.gguf")).ok());
  const auto b = read_bytes(dir.file("h.gguf"));
  ASSERT_GE(b.size(), 24u);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 4), "GGUF");
  uint32_t version;
  uint64_t n_tensors, n_kv;
  std::memcpy(&version, b.data() + 4, 4);
  std::memcpy(&n_tensors, b.data() + 8, 8);
  std::memcpy(&n_kv, b.data() + 16, 8);
  EXPECT_EQ(version, 3u);
  EXPECT_EQ(n_tensors, 1u);
  EXPECT_EQ(n_kv, 1u);
  // The data section starts 32-aligned, and the file ends with t's bytes
  // padded to 32.
  EXPECT_EQ(b.size() % 32, 0u);
  float back[3];
  std::memcpy(back, b.data() + b.size() - 32, sizeof back);
  EXPECT_EQ(back[2], 3.0f);
}

// Random bytes of a valid tensor of `dtype`: random floats encoded by the
// codec, so quantized blocks hold realistic scales.
std::vector<uint8_t> tensor_bytes(DType dtype, const std::vector<int64_t>& shape, std::mt19937& rng) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (auto& v : x) v = normal(rng);
  std::vector<uint8_t> out(row_bytes(dtype, shape[0]) * static_cast<size_t>(n / shape[0]));
  quantize_row(dtype, x.data(), out.data(), n);
  return out;
}

TEST(GgufWriter, TensorsOfEveryDtypeRoundTrip) {
  ScratchDir dir;
  std::mt19937 rng(7);
  struct Case {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
  };
  const std::vector<Case> cases = {
      {"f32.1d", DType::kF32, {5}},
      {"f32.4d", DType::kF32, {3, 2, 2, 2}},
      {"f16.2d", DType::kF16, {7, 3}},
      {"bf16.3d", DType::kBF16, {9, 2, 3}},
      {"q8_0", DType::kQ8_0, {64, 3}},
      {"q4_0", DType::kQ4_0, {96, 2}},
      {"q4_k", DType::kQ4_K, {256, 3}},
      {"q6_k.3d", DType::kQ6_K, {512, 1, 2}},
  };
  GgufWriter w;
  std::vector<std::vector<uint8_t>> payload;
  for (const Case& c : cases) {
    payload.push_back(tensor_bytes(c.dtype, c.shape, rng));
    ASSERT_TRUE(w.add_tensor(c.name, c.dtype, c.shape, payload.back().data(), payload.back().size()).ok()) << c.name;
  }
  // A type ember can describe but not multiply still round-trips as bytes.
  std::vector<uint8_t> q4_1(20 * 2, 0x5a);
  ASSERT_TRUE(w.add_tensor("q4_1", DType::kQ4_1, {64}, q4_1.data(), q4_1.size()).ok());
  w.set_string("general.architecture", "test");
  const std::string path = dir.file("t.gguf");
  ASSERT_TRUE(w.write(path).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  auto g = GgufFile::open(path);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  ASSERT_EQ(g->tensors().size(), cases.size() + 1);
  for (size_t i = 0; i < cases.size(); ++i) {
    const GgufTensorInfo& t = g->tensors()[i];  // directory order is add order
    EXPECT_EQ(t.name, cases[i].name);
    EXPECT_EQ(t.dtype, cases[i].dtype) << t.name;
    EXPECT_EQ(t.shape, cases[i].shape) << t.name;
    ASSERT_EQ(t.bytes, payload[i].size()) << t.name;
    EXPECT_EQ(std::memcmp(t.data, payload[i].data(), t.bytes), 0) << t.name;
    EXPECT_EQ((t.data - g->mapping()->data()) % 32, 0) << t.name;
    EXPECT_EQ(g->find_tensor(cases[i].name), &t);
  }
  const GgufTensorInfo* q = g->find_tensor("q4_1");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->dtype, DType::kQ4_1);
  EXPECT_EQ(std::memcmp(q->data, q4_1.data(), q4_1.size()), 0);
  EXPECT_EQ(g->find_tensor("nope"), nullptr);
}

TEST(GgufWriter, BadTensorsAreRefusedNamingTheTensor) {
  GgufWriter w;
  std::vector<uint8_t> buf(4096);
  auto refused = [&](const std::string& name, DType dt, std::vector<int64_t> shape, size_t bytes) {
    Status s = w.add_tensor(name, dt, shape, buf.data(), bytes);
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.to_string();
    EXPECT_NE(s.message().find("'" + name + "'"), std::string::npos) << s.to_string();
  };
  refused("no_dims", DType::kF32, {}, 0);
  refused("five_dims", DType::kF32, {1, 1, 1, 1, 1}, 4);
  refused("zero_dim", DType::kF32, {4, 0}, 0);
  refused("neg_dim", DType::kF32, {-4}, 16);
  refused("short", DType::kF32, {4}, 12);
  refused("long", DType::kF16, {4}, 12);
  refused("partial_block", DType::kQ8_0, {48}, 51);
  refused("q4k_rows", DType::kQ4_K, {128}, 72);
  refused("huge", DType::kF32, {int64_t{1} << 40, int64_t{1} << 40}, 16);
  refused("unknown_type", static_cast<DType>(99), {4}, 0);
  ASSERT_TRUE(w.add_tensor("dup", DType::kF32, {2}, buf.data(), 8).ok());
  refused("dup", DType::kF32, {2}, 8);
}

TEST(GgufWriter, SettingAKeyTwiceKeepsTheLastValue) {
  // A file with a repeated key is one every GGUF reader rejects, so the
  // writer replaces instead of appending.
  ScratchDir dir;
  GgufWriter w;
  w.set_uint32("k", 1);
  w.set_string("s", "first");
  w.set_uint32("k", 2);
  w.set_string("s", "second");
  w.set_float32("k2", 1.0f);
  w.set_int32_array("k2", {3});
  ASSERT_TRUE(w.write(dir.file("d.gguf")).ok());
  auto g = GgufFile::open(dir.file("d.gguf"));
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->metadata().size(), 3u);
  EXPECT_EQ(g->get_int("k").value(), 2);
  EXPECT_EQ(g->get_string("s").value(), "second");
  EXPECT_EQ(g->get_int_array("k2").value(), std::vector<int64_t>{3});
}

TEST(GgufWriter, UnwritablePathFailsAndLeavesNothing) {
  ScratchDir dir;
  GgufWriter w;
  w.set_uint32("k", 1);
  Status s = w.write(dir.file("missing_dir/x.gguf"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("missing_dir/x.gguf"), std::string::npos) << s.to_string();
  // The target is a directory: the temporary is written, the rename fails,
  // and the temporary is removed.
  std::filesystem::create_directory(dir.file("adir"));
  std::filesystem::create_directory(dir.file("adir/inner"));
  s = w.write(dir.file("adir"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_FALSE(std::filesystem::exists(dir.file("adir.tmp")));
}

// set_value copies metadata as GgufFile read it (how `ember make-random
// --tokenizer` takes a real tokenizer): the tiny-r1vocab fixture's
// tokenizer.* keys (the DeepSeek vocabulary and merges, token types, ids,
// chat template) come back identical; arrays the writer cannot write are refused.
TEST(GgufWriter, SetValueCopiesAnotherFilesMetadata) {
  auto src = GgufFile::open(testing::models_dir() + "/tiny-r1vocab/tiny-r1vocab-BF16.gguf");
  ASSERT_TRUE(src.ok()) << src.status().to_string();
  ScratchDir dir;
  GgufWriter w;
  size_t copied = 0;
  for (const auto& [key, value] : src->metadata())
    if (key.rfind("tokenizer.", 0) == 0) {
      ASSERT_TRUE(w.set_value(key, value).ok()) << key;
      ++copied;
    }
  ASSERT_GE(copied, 5u);
  ASSERT_TRUE(w.write(dir.file("copy.gguf")).ok());
  auto back = GgufFile::open(dir.file("copy.gguf"));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  for (const auto& [key, value] : src->metadata()) {
    if (key.rfind("tokenizer.", 0) != 0) continue;
    const GgufValue* got = back->find(key);
    ASSERT_NE(got, nullptr) << key;
    EXPECT_EQ(got->type, value.type) << key;
    EXPECT_EQ(got->scalar, value.scalar) << key;
    EXPECT_EQ(got->strings, value.strings) << key;
    EXPECT_EQ(got->ints, value.ints) << key;
    EXPECT_EQ(got->floats, value.floats) << key;
  }
  GgufValue u8s;
  u8s.type = GgufType::kArray;
  u8s.elem_type = GgufType::kUint8;
  u8s.ints = {1, 2};
  EXPECT_FALSE(w.set_value("x.bytes", u8s).ok());
}

}  // namespace
}  // namespace ember::formats
