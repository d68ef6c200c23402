// The block codecs against blocks built by hand from the published GGUF
// layouts (ggml's block_q8_0 / block_q4_0 / block_q4_K / block_q6_K): chosen
// scales, mins and codes, each placed where the layout says, and the exact
// floats the format defines for them. Small values keep every product exact
// in float, so the comparisons are exact.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/fp16.h"
#include "tensor/quant.h"

namespace ember {
namespace {

// f16 bit patterns of a few exact values.
constexpr uint16_t kHalf = 0x3800;       // 0.5
constexpr uint16_t kQuarter = 0x3400;    // 0.25
constexpr uint16_t kEighth = 0x3000;     // 0.125
constexpr uint16_t kSixteenth = 0x2c00;  // 0.0625
constexpr uint16_t kMinus1_5 = 0xbe00;   // -1.5
constexpr uint16_t kTwo = 0x4000;        // 2.0

TEST(QuantBlocks, HalfConstantsAreWhatTheTestsAssume) {
  EXPECT_EQ(f16_to_f32(kHalf), 0.5f);
  EXPECT_EQ(f16_to_f32(kQuarter), 0.25f);
  EXPECT_EQ(f16_to_f32(kEighth), 0.125f);
  EXPECT_EQ(f16_to_f32(kSixteenth), 0.0625f);
  EXPECT_EQ(f16_to_f32(kMinus1_5), -1.5f);
  EXPECT_EQ(f16_to_f32(kTwo), 2.0f);
}

// --- Q8_0: {f16 d; int8 qs[32]}, x[i] = d * qs[i] ----------------------------

TEST(QuantBlocks, Q8_0) {
  uint8_t raw[2 * 34];
  std::vector<float> want;
  const uint16_t ds[2] = {kSixteenth, kMinus1_5};
  for (int b = 0; b < 2; ++b) {
    uint8_t* blk = raw + 34 * b;
    std::memcpy(blk, &ds[b], 2);
    for (int i = 0; i < 32; ++i) {
      const int8_t q = static_cast<int8_t>(b == 0 ? i * 8 - 128 : 127 - i * 3);
      blk[2 + i] = static_cast<uint8_t>(q);
      want.push_back(f16_to_f32(ds[b]) * q);
    }
  }
  std::vector<float> got(64);
  dequantize_row(DType::kQ8_0, raw, got.data(), 64);
  EXPECT_EQ(got, want);
  EXPECT_EQ(got[0], -8.0f);      // 0.0625 * -128
  EXPECT_EQ(got[32], -190.5f);   // -1.5 * 127
}

// --- Q4_0: {f16 d; u8 qs[16]}, x[i] = d * (nibble - 8); element i < 16 is the
// low nibble of qs[i], element i + 16 the high nibble. ----------------------

TEST(QuantBlocks, Q4_0) {
  uint8_t raw[2 * 18];
  std::vector<float> want(64);
  const uint16_t ds[2] = {kMinus1_5, kQuarter};
  for (int b = 0; b < 2; ++b) {
    uint8_t* blk = raw + 18 * b;
    std::memcpy(blk, &ds[b], 2);
    int q[32];
    for (int i = 0; i < 32; ++i) q[i] = (i * 5 + 3 + b) & 15;
    for (int i = 0; i < 16; ++i) blk[2 + i] = static_cast<uint8_t>(q[i] | (q[i + 16] << 4));
    for (int i = 0; i < 32; ++i) want[32 * b + i] = f16_to_f32(ds[b]) * static_cast<float>(q[i] - 8);
  }
  std::vector<float> got(64);
  dequantize_row(DType::kQ4_0, raw, got.data(), 64);
  EXPECT_EQ(got, want);
  EXPECT_EQ(got[0], 7.5f);    // q = 3: -1.5 * -5
  EXPECT_EQ(got[16], 7.5f);   // element 16: q = 83 & 15 = 3
  EXPECT_EQ(got[1], 0.0f);    // q = 8
}

// --- Q4_K: {f16 d; f16 dmin; u8 scales[12]; u8 qs[128]} --------------------
// Eight sub-blocks of 32 values, each with a 6-bit scale sc[j] and min m[j]:
//   j < 4:  sc = scales[j] & 63,                 m = scales[j + 4] & 63
//   j >= 4: sc = (scales[j + 4] & 15) | (scales[j - 4] >> 6) << 4,
//           m  = (scales[j + 4] >> 4) | (scales[j] >> 6) << 4
// Values come in 4 chunks of 64 over qs[32c .. 32c + 32): value 64c + i is
// the low nibble of qs[32c + i] (sub-block 2c), value 64c + 32 + i the high
// nibble (sub-block 2c + 1). x = d * sc * q - dmin * m.

struct Q4kSpec {
  uint16_t d, dmin;
  int sc[8], m[8];
  int q[256];
};

std::vector<uint8_t> pack_q4_k(const Q4kSpec& s) {
  std::vector<uint8_t> blk(144, 0);
  std::memcpy(blk.data(), &s.d, 2);
  std::memcpy(blk.data() + 2, &s.dmin, 2);
  uint8_t* scales = blk.data() + 4;
  for (int j = 0; j < 4; ++j) {
    scales[j] = static_cast<uint8_t>(s.sc[j] | ((s.sc[j + 4] >> 4) << 6));
    scales[j + 4] = static_cast<uint8_t>(s.m[j] | ((s.m[j + 4] >> 4) << 6));
    scales[j + 8] = static_cast<uint8_t>((s.sc[j + 4] & 15) | ((s.m[j + 4] & 15) << 4));
  }
  uint8_t* qs = blk.data() + 16;
  for (int c = 0; c < 4; ++c)
    for (int i = 0; i < 32; ++i) qs[32 * c + i] = static_cast<uint8_t>(s.q[64 * c + i] | (s.q[64 * c + 32 + i] << 4));
  return blk;
}

TEST(QuantBlocks, Q4_K) {
  // Scales and mins use all six bits, so the high bits stored apart matter.
  Q4kSpec a{kHalf, kQuarter, {1, 2, 3, 63, 17, 33, 48, 5}, {0, 7, 63, 1, 16, 31, 32, 9}, {}};
  Q4kSpec b{kTwo, kEighth, {63, 62, 16, 15, 32, 31, 47, 0}, {63, 0, 48, 17, 1, 62, 15, 33}, {}};
  for (int i = 0; i < 256; ++i) {
    a.q[i] = (i * 7 + 3) % 16;
    b.q[i] = (i * 11 + i / 16) % 16;
  }
  std::vector<uint8_t> raw = pack_q4_k(a);
  const std::vector<uint8_t> second = pack_q4_k(b);
  raw.insert(raw.end(), second.begin(), second.end());
  std::vector<float> want;
  for (const Q4kSpec* s : {&a, &b}) {
    const double d = f16_to_f32(s->d), dmin = f16_to_f32(s->dmin);
    for (int i = 0; i < 256; ++i) {
      const int j = i / 32;  // sub-block of value i
      want.push_back(static_cast<float>(d * s->sc[j] * s->q[i] - dmin * s->m[j]));
    }
  }
  std::vector<float> got(512);
  dequantize_row(DType::kQ4_K, raw.data(), got.data(), 512);
  for (int i = 0; i < 512; ++i) ASSERT_EQ(got[i], want[i]) << "value " << i;
  // Spot values worked out by hand: value 0 is q = 3 in sub-block 0 (sc 1, m 0);
  // value 100 is q = 703 % 16 = 15 in sub-block 3 (sc 63, m 1).
  EXPECT_EQ(got[0], 0.5f * 1 * 3);
  EXPECT_EQ(got[100], 0.5f * 63 * 15 - 0.25f * 1);
  // value 200: q = 1403 % 16 = 11, sub-block 6 (sc 48, m 32).
  EXPECT_EQ(got[200], 0.5f * 48 * 11 - 0.25f * 32);

  // The helper that unpacks scale/min reads the same layout.
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    q4_k_scale_min(raw.data() + 4, j, &sc, &m);
    EXPECT_EQ(sc, a.sc[j]) << j;
    EXPECT_EQ(m, a.m[j]) << j;
  }
}

// --- Q6_K: {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d} -------------------
// Two halves of 128 values; in half h, value 128h + 32k + l (k = 0..3,
// l = 0..31) has the 6-bit code q = low | high << 4 where
//   low  = ql[64h + l + 32 (k & 1)], low nibble for k < 2, high for k >= 2
//   high = (qh[32h + l] >> 2k) & 3
// and scale scales[8h + 2k + l / 16]. x = d * scale * (q - 32).

TEST(QuantBlocks, Q6_K) {
  int q[256];
  int8_t sc[16] = {-128, 127, 1, -1, 5, -7, 33, -64, 100, 2, -3, 64, -32, 17, 0, 9};
  for (int i = 0; i < 256; ++i) q[i] = (i * 37 + 11 + i / 64) % 64;
  std::vector<uint8_t> blk(210, 0);
  uint8_t* ql = blk.data();
  uint8_t* qh = blk.data() + 128;
  std::memcpy(blk.data() + 192, sc, 16);
  const uint16_t d = kEighth;
  std::memcpy(blk.data() + 208, &d, 2);
  for (int h = 0; h < 2; ++h)
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) {
        const int v = q[128 * h + 32 * k + l];
        uint8_t& low = ql[64 * h + l + 32 * (k & 1)];
        low |= static_cast<uint8_t>(k < 2 ? (v & 15) : (v & 15) << 4);
        qh[32 * h + l] |= static_cast<uint8_t>((v >> 4) << (2 * k));
      }
  std::vector<float> want(256);
  for (int h = 0; h < 2; ++h)
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) {
        const int i = 128 * h + 32 * k + l;
        want[i] = static_cast<float>(0.125 * sc[8 * h + 2 * k + l / 16] * (q[i] - 32));
      }
  std::vector<float> got(256);
  dequantize_row(DType::kQ6_K, blk.data(), got.data(), 256);
  for (int i = 0; i < 256; ++i) ASSERT_EQ(got[i], want[i]) << "value " << i;
  // By hand: value 0 has q = 11, scale -128: 0.125 * -128 * -21 = 336.
  EXPECT_EQ(got[0], 336.0f);
  // value 47: k = 1, l = 15: q = (1739 + 11) % 64 = 22, scale sc[2] = 1.
  EXPECT_EQ(got[47], 0.125f * 1 * (22 - 32));
}

// --- Encoders on inputs the format represents exactly ----------------------

TEST(QuantBlocks, Q8_0EncodesRepresentableValuesExactly) {
  // x = 0.5 k with max |k| = 127: d = 63.5 / 127 = 0.5 exactly, codes = k.
  float x[32];
  int8_t k[32];
  for (int i = 0; i < 32; ++i) {
    k[i] = static_cast<int8_t>(i == 5 ? -127 : (i * 23) % 255 - 127);
    x[i] = 0.5f * k[i];
  }
  BlockQ8_0 blk;
  quantize_row(DType::kQ8_0, x, &blk, 32);
  EXPECT_EQ(blk.d, kHalf);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(blk.qs[i], k[i]) << i;
}

TEST(QuantBlocks, Q4_0EncodesRepresentableValuesExactly) {
  // x = 0.25 (q - 8) with the largest magnitude at q = 0 (x = -2): d = -2 / -8.
  float x[32];
  int q[32];
  for (int i = 0; i < 32; ++i) {
    q[i] = i == 9 ? 0 : (i * 7 + 1) % 16;
    x[i] = 0.25f * static_cast<float>(q[i] - 8);
  }
  BlockQ4_0 blk;
  quantize_row(DType::kQ4_0, x, &blk, 32);
  EXPECT_EQ(blk.d, kQuarter);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(blk.qs[i] & 15, q[i]) << i;
    EXPECT_EQ(blk.qs[i] >> 4, q[i + 16]) << i + 16;
  }
}

TEST(QuantBlocks, Q8_KEncodesWithBlockSums) {
  // Q8_K: {f32 d; i8 qs[256]; i16 bsums[16]}, bsums[g] = Σ qs[16g .. 16g + 16).
  float x[256];
  for (int i = 0; i < 256; ++i) x[i] = static_cast<float>((i * 29) % 255 - 127) / 4.0f;
  BlockQ8_K blk;
  quantize_row(DType::kQ8_K, x, &blk, 256);
  EXPECT_EQ(std::fabs(blk.d), 0.25f);  // max |x| = 31.75 = 127 d
  for (int i = 0; i < 256; ++i) EXPECT_EQ(blk.d * blk.qs[i], x[i]) << i;
  for (int g = 0; g < 16; ++g) {
    int sum = 0;
    for (int i = 0; i < 16; ++i) sum += blk.qs[16 * g + i];
    EXPECT_EQ(blk.bsums[g], sum) << g;
  }
  std::vector<float> back(256);
  dequantize_row(DType::kQ8_K, &blk, back.data(), 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(back[i], x[i]);
}

TEST(QuantBlocks, FloatRows) {
  const uint16_t h[4] = {0x3c00, 0xc000, 0x7bff, 0x0001};  // 1, -2, 65504, 2^-24
  float f[4];
  dequantize_row(DType::kF16, h, f, 4);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[1], -2.0f);
  EXPECT_EQ(f[2], 65504.0f);
  EXPECT_EQ(f[3], std::ldexp(1.0f, -24));
  const uint16_t b[3] = {0x3f80, 0xc040, 0x0001};  // 1, -3, smallest bf16 subnormal
  dequantize_row(DType::kBF16, b, f, 3);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[1], -3.0f);
  EXPECT_EQ(f[2], std::ldexp(1.0f, -133));
  uint16_t back[3];
  quantize_row(DType::kBF16, f, back, 3);
  EXPECT_EQ(std::vector<uint16_t>(back, back + 3), std::vector<uint16_t>(b, b + 3));
}

}  // namespace
}  // namespace ember
