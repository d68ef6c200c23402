// Malformed GGUF input: a fixture truncated at many offsets and with header
// bytes flipped, and hand-built files with absurd counts and lengths, bad
// magic / version, unknown types, misaligned or out-of-range offsets and
// duplicate names. Every case must give a non-ok Status whose message names
// the file (and the key or tensor where there is one), never a crash. The
// bytes under test are copied into buffers of exactly their size so the
// sanitizer build catches any read past the end.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "formats/gguf.h"
#include "format_test_util.h"

namespace ember::formats {
namespace {

using testing::models_dir;
using testing::RawGguf;

constexpr const char* kName = "case.gguf";

Result<GgufFile> parse_copy(const uint8_t* data, size_t size) {
  std::vector<uint8_t> copy(data, data + size);  // exact size: overreads are heap overflows under ASan
  auto g = GgufFile::parse_bytes(kName, copy.empty() ? nullptr : copy.data(), copy.size(), nullptr);
  if (g.ok()) {
    // Touch every tensor's first and last byte: pointers must lie inside.
    unsigned sum = 0;
    for (const auto& t : g->tensors())
      if (t.bytes) sum += t.data[0] + t.data[t.bytes - 1];
    volatile unsigned sink = sum;
    (void)sink;
    return internal_error("parsed");  // the copy dies here; report success without dangling pointers
  }
  return g;
}

// `b` must fail with `code`; the message names the file and `what` (a key or
// a quoted tensor name) when given.
void expect_fails(const RawGguf& b, StatusCode code, const std::string& what = "") {
  auto g = parse_copy(b.bytes.data(), b.bytes.size());
  ASSERT_FALSE(g.ok());
  ASSERT_NE(g.status().code(), StatusCode::kInternal) << "parsed, but should have failed";
  EXPECT_EQ(g.status().code(), code) << g.status().to_string();
  EXPECT_NE(g.status().message().find(kName), std::string::npos) << g.status().to_string();
  if (!what.empty()) {
    EXPECT_NE(g.status().message().find(what), std::string::npos) << g.status().to_string();
  }
}

void expect_parses(const RawGguf& b) {
  auto g = parse_copy(b.bytes.data(), b.bytes.size());
  ASSERT_EQ(g.status().code(), StatusCode::kInternal) << g.status().to_string();
}

// A small valid file: two keys, an F32 [8] tensor at 0 and a Q8_0 [32, 2] at 32.
RawGguf base_file(uint64_t q_offset = 32) {
  RawGguf b;
  b.header(2, 2).kv_str("general.architecture", "test").kv_u32("test.n", 7);
  b.tensor("w", {8}, 0, 0).tensor("q", {32, 2}, 8, q_offset);
  b.pad();
  b.fill(q_offset + 68);
  return b;
}

TEST(GgufCorrupt, BaseFileParses) {
  expect_parses(base_file());
  std::vector<uint8_t> copy = base_file().bytes;
  auto g = GgufFile::parse_bytes(kName, copy.data(), copy.size(), nullptr);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->tensors().size(), 2u);
  EXPECT_EQ(g->find_tensor("q")->bytes, 68u);
  EXPECT_EQ(g->get_int("test.n").value(), 7);
}

TEST(GgufCorrupt, BadMagicAndVersion) {
  expect_fails(RawGguf{}, StatusCode::kCorrupt);
  RawGguf three;
  three.bytes = {'G', 'G', 'U'};
  expect_fails(three, StatusCode::kCorrupt);
  expect_fails(RawGguf().header(0, 0, 3, 0x47475546), StatusCode::kCorrupt);  // "FUGG"
  RawGguf no_version;
  no_version.put<uint32_t>(0x46554747);
  expect_fails(no_version, StatusCode::kCorrupt);
  for (uint32_t v : {0u, 1u, 4u, 0x03000000u, 0xffffffffu}) expect_fails(RawGguf().header(0, 0, v), StatusCode::kUnsupported);
  expect_parses(RawGguf().header(0, 0, 2));
  expect_parses(RawGguf().header(0, 0, 3));
}

TEST(GgufCorrupt, AbsurdCounts) {
  const uint64_t huge = uint64_t{1} << 60;
  expect_fails(RawGguf().header(0, huge).kv_u32("a", 1), StatusCode::kCorrupt, "metadata count");
  expect_fails(RawGguf().header(huge, 0).tensor("t", {8}, 0, 0), StatusCode::kCorrupt, "tensor count");
  expect_fails(RawGguf().header(~uint64_t{0}, ~uint64_t{0}), StatusCode::kCorrupt);
  // More keys announced than present: the parser runs into the end.
  expect_fails(RawGguf().header(0, 3).kv_u32("a", 1), StatusCode::kCorrupt);
  // Fewer keys announced than present: the rest is read as a tensor info.
  expect_fails(RawGguf().header(1, 0).kv_u32("a", 1).fill(64, 0), StatusCode::kCorrupt);
}

TEST(GgufCorrupt, AbsurdStringAndArrayLengths) {
  const uint64_t huge = uint64_t{1} << 60;
  // Key length.
  expect_fails(RawGguf().header(0, 1).put<uint64_t>(huge).fill(16), StatusCode::kCorrupt, "metadata key 0");
  expect_fails(RawGguf().header(0, 1).put<uint64_t>(~uint64_t{0}).fill(16), StatusCode::kCorrupt);
  // String value length.
  expect_fails(RawGguf().header(0, 1).str("k.s").put<uint32_t>(8).put<uint64_t>(huge).fill(16), StatusCode::kCorrupt,
               "'k.s'");
  // Array counts, for elements of each size.
  for (uint32_t elem : {0u, 2u, 4u, 7u, 8u, 10u, 12u}) {
    SCOPED_TRACE(elem);
    expect_fails(RawGguf().header(0, 1).str("k.a").put<uint32_t>(9).put<uint32_t>(elem).put<uint64_t>(huge).fill(64),
                 StatusCode::kCorrupt, "'k.a'");
  }
  // A string array whose element claims 2^60 bytes.
  expect_fails(RawGguf().header(0, 1).str("k.t").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(2).str("ok")
                   .put<uint64_t>(huge).fill(16),
               StatusCode::kCorrupt, "element 1 of 'k.t'");
  // Tensor name length.
  expect_fails(RawGguf().header(1, 0).put<uint64_t>(huge).fill(64), StatusCode::kCorrupt, "tensor name 0");
}

TEST(GgufCorrupt, BadValueTypes) {
  expect_fails(RawGguf().header(0, 1).str("k.x").put<uint32_t>(13).fill(16), StatusCode::kCorrupt, "'k.x'");
  expect_fails(RawGguf().header(0, 1).str("k.x").put<uint32_t>(0xffffffff).fill(16), StatusCode::kCorrupt, "'k.x'");
  expect_fails(RawGguf().header(0, 1).str("k.a").put<uint32_t>(9).put<uint32_t>(13).put<uint64_t>(1).fill(16),
               StatusCode::kCorrupt, "'k.a'");
  expect_fails(RawGguf().header(0, 1).str("k.aa").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(1).fill(16),
               StatusCode::kUnsupported, "'k.aa'");
  expect_fails(RawGguf().header(0, 1).str("k.b").put<uint32_t>(7).put<uint8_t>(2), StatusCode::kCorrupt, "'k.b'");
  expect_fails(RawGguf().header(0, 1).str("k.ab").put<uint32_t>(9).put<uint32_t>(7).put<uint64_t>(2).put<uint8_t>(1)
                   .put<uint8_t>(9),
               StatusCode::kCorrupt, "'k.ab'");
  // A value cut short, for every scalar size.
  for (uint32_t t : {0u, 3u, 5u, 6u, 10u, 12u}) {
    SCOPED_TRACE(t);
    expect_fails(RawGguf().header(0, 1).str("k.v").put<uint32_t>(t), StatusCode::kCorrupt, "'k.v'");
  }
}

TEST(GgufCorrupt, DuplicateNames) {
  expect_fails(RawGguf().header(0, 2).kv_u32("k.same", 1).kv_u32("k.same", 2), StatusCode::kCorrupt, "'k.same'");
  RawGguf b;
  b.header(2, 0).tensor("t.same", {8}, 0, 0).tensor("t.same", {8}, 0, 32).pad().fill(64);
  expect_fails(b, StatusCode::kCorrupt, "'t.same'");
}

TEST(GgufCorrupt, BadTensorInfo) {
  auto one = [](const std::vector<uint64_t>& dims, uint32_t type, uint64_t offset, size_t data = 4096) {
    RawGguf b;
    b.header(1, 0).tensor("blk.0.bad", dims, type, offset).pad().fill(data);
    return b;
  };
  const std::string name = "'blk.0.bad'";
  expect_fails(one({}, 0, 0), StatusCode::kCorrupt, name);                                  // 0 dims
  expect_fails(one({1, 1, 1, 1, 1}, 0, 0), StatusCode::kCorrupt, name);                     // 5 dims
  RawGguf many;
  many.header(1, 0).str("blk.0.bad").put<uint32_t>(0x80000000u).fill(64);
  expect_fails(many, StatusCode::kCorrupt, name);                                           // 2^31 dims
  expect_fails(one({8, 0}, 0, 0), StatusCode::kCorrupt, name);                              // zero dim
  expect_fails(one({uint64_t{1} << 62}, 0, 0), StatusCode::kCorrupt, name);                 // 2^62
  expect_fails(one({1u << 30, 1u << 30, 1u << 30}, 0, 0), StatusCode::kCorrupt, name);      // 2^90 elements
  expect_fails(one({~uint64_t{0}, 2}, 0, 0), StatusCode::kCorrupt, name);
  for (uint32_t type : {4u, 5u, 31u, 39u, 1000u, 0xffffffffu}) {                           // unknown type ids
    SCOPED_TRACE(type);
    expect_fails(one({32}, type, 0), StatusCode::kUnsupported, name);
  }
  expect_fails(one({48}, 8, 0), StatusCode::kCorrupt, name);                                // q8_0 row of 48
  expect_fails(one({128, 2}, 12, 0), StatusCode::kCorrupt, name);                           // q4_k row of 128
  expect_fails(one({8}, 0, 16), StatusCode::kCorrupt, name);                                // misaligned
  expect_fails(one({8}, 0, 1), StatusCode::kCorrupt, name);
  expect_fails(one({8}, 0, 4096), StatusCode::kCorrupt, name);                              // past the end
  expect_fails(one({8}, 0, 4096 - 16), StatusCode::kCorrupt, name);                         // straddles the end
  expect_fails(one({8}, 0, ~uint64_t{0} - 31), StatusCode::kCorrupt, name);                 // offset wraps
  expect_fails(one({1024, 1024}, 0, 0), StatusCode::kCorrupt, name);                        // 4 MiB in 4 KiB
  expect_parses(one({8}, 0, 4096 - 32));                                                    // exactly fits
  // Truncated tensor info, field by field.
  RawGguf t;
  t.header(1, 0).str("blk.0.bad").put<uint32_t>(2).put<uint64_t>(8);
  expect_fails(t, StatusCode::kCorrupt, name);
  t.put<uint64_t>(2);
  expect_fails(t, StatusCode::kCorrupt, name);
  t.put<uint32_t>(0);
  expect_fails(t, StatusCode::kCorrupt, name);
}

TEST(GgufCorrupt, Alignment) {
  auto with = [](auto&& put_alignment, uint64_t offset) {
    RawGguf b;
    b.header(1, 1);
    put_alignment(b);
    b.tensor("t", {8}, 0, offset).pad(64).fill(256);
    return b;
  };
  auto u32 = [](uint32_t a) { return [a](RawGguf& b) { b.kv_u32("general.alignment", a); }; };
  for (uint32_t a : {0u, 3u, 48u, 1u << 17, 0xffffffffu}) {
    SCOPED_TRACE(a);
    expect_fails(with(u32(a), 0), StatusCode::kCorrupt, "general.alignment");
  }
  expect_fails(with([](RawGguf& b) { b.kv_str("general.alignment", "32"); }, 0), StatusCode::kCorrupt,
               "general.alignment");
  expect_fails(with([](RawGguf& b) { b.kv_f32("general.alignment", 32.0f); }, 0), StatusCode::kCorrupt,
               "general.alignment");
  expect_parses(with(u32(64), 64));
  expect_fails(with(u32(64), 32), StatusCode::kCorrupt, "'t'");  // aligned to 32 only
  expect_parses(with(u32(1), 3));
}

// --- a real file, truncated and flipped -------------------------------------

class GgufFixtureCorrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = models_dir() + "/tiny-qwen2/tiny-qwen2-Q8_0.gguf";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture absent: " << path;
    bytes_ = testing::read_bytes(path);
    auto g = GgufFile::parse_bytes(kName, bytes_.data(), bytes_.size(), nullptr);
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    header_end_ = bytes_.size();
    for (const auto& t : g->tensors()) {
      const size_t off = static_cast<size_t>(t.data - bytes_.data());
      header_end_ = std::min(header_end_, off);
      min_valid_ = std::max(min_valid_, off + t.bytes);
    }
  }
  std::vector<uint8_t> bytes_;
  size_t header_end_ = 0;  // where the first tensor's data starts
  size_t min_valid_ = 0;   // the end of the last tensor's data
};

TEST_F(GgufFixtureCorrupt, TruncatedAnywhereFails) {
  ASSERT_GT(header_end_, 1000u);
  std::vector<size_t> cuts;
  for (size_t n = 0; n < std::min<size_t>(header_end_, 4096); ++n) cuts.push_back(n);
  for (size_t n = 4096; n < header_end_; n += 7) cuts.push_back(n);
  for (size_t n = header_end_ - 40; n <= header_end_ + 40; ++n) cuts.push_back(n);
  for (size_t n = header_end_; n < min_valid_; n += (min_valid_ - header_end_) / 97 + 1) cuts.push_back(n);
  cuts.push_back(min_valid_ - 1);
  size_t failed = 0;
  for (size_t n : cuts) {
    auto g = parse_copy(bytes_.data(), n);
    ASSERT_FALSE(g.ok());
    ASSERT_NE(g.status().code(), StatusCode::kInternal) << "a file cut to " << n << " bytes parsed";
    ASSERT_NE(g.status().message().find(kName), std::string::npos) << g.status().to_string();
    ++failed;
  }
  EXPECT_GT(failed, 5000u);
  // Cut after the last tensor's data (inside the final padding): still whole.
  for (size_t n = min_valid_; n <= bytes_.size(); ++n) EXPECT_EQ(parse_copy(bytes_.data(), n).status().code(), StatusCode::kInternal);
}

TEST_F(GgufFixtureCorrupt, FlippedHeaderBytesNeverCrash) {
  std::vector<uint8_t> mutated(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(min_valid_));
  auto check = [&](size_t pos, uint8_t mask) {
    mutated[pos] ^= mask;
    auto g = parse_copy(mutated.data(), mutated.size());
    if (g.status().code() != StatusCode::kInternal) {  // failed: must say where
      EXPECT_NE(g.status().message().find(kName), std::string::npos) << g.status().to_string();
    }
    mutated[pos] ^= mask;
  };
  // Every bit of the fixed header and the first key-values, then random
  // positions and masks over the rest of the header.
  for (size_t pos = 0; pos < 256; ++pos)
    for (int bit = 0; bit < 8; ++bit) check(pos, static_cast<uint8_t>(1u << bit));
  std::mt19937 rng(1234);
  std::uniform_int_distribution<size_t> where(0, header_end_ - 1);
  std::uniform_int_distribution<int> mask(1, 255);
  for (int i = 0; i < 3000; ++i) check(where(rng), static_cast<uint8_t>(mask(rng)));
  // Overwrite 8-byte fields with absurd values at random places.
  for (int i = 0; i < 500; ++i) {
    const size_t pos = where(rng) & ~size_t{7};
    if (pos + 8 > header_end_) continue;
    uint64_t saved;
    std::memcpy(&saved, mutated.data() + pos, 8);
    const uint64_t absurd = (i % 3 == 0) ? ~uint64_t{0} : (i % 3 == 1) ? uint64_t{1} << 60 : uint64_t{1} << 33;
    std::memcpy(mutated.data() + pos, &absurd, 8);
    auto g = parse_copy(mutated.data(), mutated.size());
    if (g.status().code() != StatusCode::kInternal) {
      EXPECT_NE(g.status().message().find(kName), std::string::npos) << g.status().to_string();
    }
    std::memcpy(mutated.data() + pos, &saved, 8);
  }
}

}  // namespace
}  // namespace ember::formats
