// Known answers: blocks built byte by byte, expected values worked out by hand from the
// layouts in ../shared/reference/ggml-quant-formats.md (not produced by the code under test).
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/dequantize.h"
#include "kernels/quant_blocks.h"

namespace frugal::kernels {
namespace {

constexpr uint16_t kHalfOne = 0x3c00, kHalfHalf = 0x3800, kHalfTwo = 0x4000, kHalfQuarter = 0x3400,
                   kHalfMinusOne = 0xbc00;

template <typename Block>
std::vector<float> Dequant(GgmlType type, const Block& b, int n) {
  std::vector<float> out(static_cast<size_t>(n));
  DequantizeRow(type, reinterpret_cast<const std::byte*>(&b), out.data(), n);
  return out;
}

TEST(DequantizeTest, Q8_0) {
  BlockQ8_0 b{};
  b.d = kHalfHalf;
  for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j - 16);
  auto x = Dequant(GgmlType::kQ8_0, b, 32);
  EXPECT_EQ(x[0], -8.0f);
  EXPECT_EQ(x[16], 0.0f);
  EXPECT_EQ(x[31], 7.5f);
}

TEST(DequantizeTest, Q4_0LowNibblesFirstHalf) {
  BlockQ4_0 b{};
  b.d = kHalfTwo;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  auto x = Dequant(GgmlType::kQ4_0, b, 32);
  EXPECT_EQ(x[0], -16.0f);  // 2·(0−8)
  EXPECT_EQ(x[15], 14.0f);  // 2·(15−8)
  EXPECT_EQ(x[16], 14.0f);  // high nibble of qs[0] = 15
  EXPECT_EQ(x[31], -16.0f);
}

TEST(DequantizeTest, Q4_1) {
  BlockQ4_1 b{};
  b.d = kHalfHalf;
  b.m = kHalfMinusOne;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j);
  auto x = Dequant(GgmlType::kQ4_1, b, 32);
  EXPECT_EQ(x[0], -1.0f);
  EXPECT_EQ(x[15], 6.5f);  // 0.5·15 − 1
  EXPECT_EQ(x[16], -1.0f);
}

TEST(DequantizeTest, Q5_0FifthBits) {
  BlockQ5_0 b{};
  b.d = kHalfOne;
  const uint32_t h = 0xffff0000u;  // fifth bit set for elements 16..31
  std::memcpy(b.qh, &h, 4);
  b.qs[3] = 0x21;
  auto x = Dequant(GgmlType::kQ5_0, b, 32);
  EXPECT_EQ(x[0], -16.0f);
  EXPECT_EQ(x[3], -15.0f);  // 1 − 16
  EXPECT_EQ(x[16], 0.0f);   // 16 − 16
  EXPECT_EQ(x[19], 2.0f);   // (2 | 16) − 16
}

TEST(DequantizeTest, Q5_1) {
  BlockQ5_1 b{};
  b.d = kHalfQuarter;
  b.m = kHalfTwo;
  for (auto& q : b.qs) q = 0x0f;
  const uint32_t h = 1;
  std::memcpy(b.qh, &h, 4);
  auto x = Dequant(GgmlType::kQ5_1, b, 32);
  EXPECT_EQ(x[0], 9.75f);  // 0.25·31 + 2
  EXPECT_EQ(x[1], 5.75f);  // 0.25·15 + 2
  EXPECT_EQ(x[16], 2.0f);
}

// Scales sc = 1..8, mins mn = 0..7 for the eight sub-blocks, packed by hand.
void SetScalesK4(uint8_t* scales) {
  const uint8_t s[12] = {1, 2, 3, 4, 0, 1, 2, 3, 0x45, 0x56, 0x67, 0x78};
  std::memcpy(scales, s, 12);
}

TEST(DequantizeTest, Q4_K) {
  BlockQ4_K b{};
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  SetScalesK4(b.scales);
  for (auto& q : b.qs) q = 0x21;  // low nibble 1, high nibble 2
  auto x = Dequant(GgmlType::kQ4_K, b, 256);
  EXPECT_EQ(x[0], 1.0f);      // sb0: 1·1 − 0.5·0
  EXPECT_EQ(x[32], 3.5f);     // sb1: 2·2 − 0.5·1
  EXPECT_EQ(x[64], 2.0f);     // sb2: 3·1 − 0.5·2
  EXPECT_EQ(x[96], 6.5f);     // sb3: 4·2 − 0.5·3
  EXPECT_EQ(x[128], 3.0f);    // sb4: 5·1 − 0.5·4
  EXPECT_EQ(x[160], 9.5f);    // sb5: 6·2 − 0.5·5
  EXPECT_EQ(x[192], 4.0f);    // sb6: 7·1 − 0.5·6
  EXPECT_EQ(x[255], 12.5f);   // sb7: 8·2 − 0.5·7
  // High bits of sub-block 4's scale live in the top bits of scales[0]: sc4 = 5 | (2 << 4) = 37.
  b.scales[0] |= 2 << 6;
  x = Dequant(GgmlType::kQ4_K, b, 256);
  EXPECT_EQ(x[0], 1.0f);
  EXPECT_EQ(x[128], 35.0f);   // 37·1 − 0.5·4
}

TEST(DequantizeTest, Q5_K) {
  BlockQ5_K b{};
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  SetScalesK4(b.scales);
  for (auto& q : b.qs) q = 0x21;
  for (auto& h : b.qh) h = 0x01;  // bit 0: low-nibble half of chunk 0 gets +16
  auto x = Dequant(GgmlType::kQ5_K, b, 256);
  EXPECT_EQ(x[0], 17.0f);   // 1·17 − 0
  EXPECT_EQ(x[32], 3.5f);   // unchanged
  b.qh[5] = 0x08;           // bit 3 = high-nibble half of chunk 1, element 5
  x = Dequant(GgmlType::kQ5_K, b, 256);
  EXPECT_EQ(x[96 + 5], 70.5f);  // sb3: 4·(2+16) − 1.5
  EXPECT_EQ(x[5], 1.0f);        // qh[5] bit 0 now clear
}

TEST(DequantizeTest, Q6_K) {
  BlockQ6_K b{};
  b.d = kHalfHalf;
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(s + 1);
  b.ql[0] = 0x21;
  b.qh[0] = 0xe4;  // 2-bit fields 0, 1, 2, 3
  auto x = Dequant(GgmlType::kQ6_K, b, 256);
  EXPECT_EQ(x[0], -15.5f);   // q1 = 1 − 32 = −31; 0.5·1·−31
  EXPECT_EQ(x[32], -24.0f);  // q2 = 16 − 32; 0.5·3·−16
  EXPECT_EQ(x[64], 5.0f);    // q3 = (2 | 32) − 32 = 2; 0.5·5·2
  EXPECT_EQ(x[96], 56.0f);   // q4 = 48 − 32 = 16; 0.5·7·16
  EXPECT_EQ(x[1], -16.0f);   // q = −32; 0.5·1·−32
  EXPECT_EQ(x[128], -144.0f); // second half, scale 9: 0.5·9·−32
}

TEST(DequantizeTest, Q2_K) {
  BlockQ2_K b{};
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  for (auto& s : b.scales) s = 0x21;  // scale 1, min 2 → dl = 1, ml = 1
  for (auto& q : b.qs) q = 0xe4;      // 2-bit fields 0,1,2,3 by shift
  auto x = Dequant(GgmlType::kQ2_K, b, 256);
  EXPECT_EQ(x[0], -1.0f);
  EXPECT_EQ(x[32], 0.0f);
  EXPECT_EQ(x[64], 1.0f);
  EXPECT_EQ(x[96], 2.0f);
  EXPECT_EQ(x[128], -1.0f);
  EXPECT_EQ(x[255], 2.0f);
  b.scales[1] = 0x03;  // second group of 16 (elements 16..31): scale 3, min 0
  x = Dequant(GgmlType::kQ2_K, b, 256);
  EXPECT_EQ(x[16], 0.0f);
  b.qs[16] = 0x03;
  x = Dequant(GgmlType::kQ2_K, b, 256);
  EXPECT_EQ(x[16], 9.0f);  // 3·3 − 0
}

TEST(DequantizeTest, Q3_K) {
  BlockQ3_K b{};
  b.d = kHalfOne;
  for (int i = 0; i < 8; ++i) b.scales[i] = 0x11;  // low 4 bits of all 16 scales = 1
  for (int i = 8; i < 12; ++i) b.scales[i] = 0xaa;  // high 2 bits = 2 → S = 33 → S − 32 = 1
  for (auto& q : b.qs) q = 0xe4;
  for (auto& h : b.hmask) h = 0xff;
  auto x = Dequant(GgmlType::kQ3_K, b, 256);
  EXPECT_EQ(x[0], 0.0f);
  EXPECT_EQ(x[32], 1.0f);
  EXPECT_EQ(x[64], 2.0f);
  EXPECT_EQ(x[96], 3.0f);
  b.hmask[0] = 0xfe;  // bit 0 clear: element 0 gets −4
  b.scales[8] = 0xa8; // scale 0 high bits 0 → S = 1 → S − 32 = −31
  x = Dequant(GgmlType::kQ3_K, b, 256);
  EXPECT_EQ(x[0], 124.0f);  // −31·(0 − 4)
  EXPECT_EQ(x[1], 0.0f);    // −31·0
  EXPECT_EQ(x[32], 1.0f);   // scale 2 unchanged
}

// MXFP4 against the OCP microscaling spec's definition, for every code and every E8M0 scale:
// value = (−1)^s · E2M1 · 2^(e − 127), E2M1 = 0, 0.5, 1, 1.5, 2, 3, 4, 6 for the low three bits
// (computed here in double with ldexp, not as the code under test does).
TEST(DequantizeTest, Mxfp4EveryCodeAndScale) {
  constexpr double kE2M1[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (int e = 0; e < 256; ++e) {
    BlockMxfp4 b{};
    b.e = static_cast<uint8_t>(e);
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));  // codes j and 15 − j
    const auto x = Dequant(GgmlType::kMXFP4, b, 32);
    for (int j = 0; j < 16; ++j) {
      for (const auto& [code, got] : {std::pair{j, x[static_cast<size_t>(j)]}, std::pair{15 - j, x[static_cast<size_t>(j + 16)]}}) {
        const double want = (code & 8 ? -1.0 : 1.0) * std::ldexp(kE2M1[code & 7], e - 127);
        ASSERT_EQ(got, static_cast<float>(want)) << "e " << e << " code " << code;
        // Exact wherever float holds the value; beyond (4 · 2^127 and up) ±infinity, as in ggml.
        if (std::fabs(want) <= std::numeric_limits<float>::max()) {
          ASSERT_TRUE(static_cast<double>(got) == want) << "not exact: e " << e << " code " << code;
        } else {
          ASSERT_TRUE(std::isinf(got)) << "e " << e << " code " << code;
        }
      }
    }
  }
  // Sizes: 17 bytes a block of 32; several blocks in a row.
  EXPECT_EQ(TraitsOf(GgmlType::kMXFP4).block_bytes, 17u);
  BlockMxfp4 two[2] = {};
  two[0].e = 127;  // scale 1
  two[0].qs[0] = 0x71;  // value 0: code 1 (0.5); value 16: code 7 (6)
  two[1].e = 130;  // scale 8
  two[1].qs[15] = 0xf0;  // value 15: code 0 (+0); value 31: code 15 (−6 · 8)
  std::vector<float> y(64);
  DequantizeRow(GgmlType::kMXFP4, reinterpret_cast<const std::byte*>(two), y.data(), 64);
  EXPECT_EQ(y[0], 0.5f);
  EXPECT_EQ(y[16], 6.0f);
  EXPECT_EQ(y[32 + 15], 0.0f);
  EXPECT_EQ(y[32 + 31], -48.0f);
}

TEST(DequantizeTest, FloatTypes) {
  const uint16_t halves[2] = {kHalfOne, 0xc000};
  float out[2];
  DequantizeRow(GgmlType::kF16, reinterpret_cast<const std::byte*>(halves), out, 2);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  const uint16_t bf[2] = {0x3f80, 0xc040};
  DequantizeRow(GgmlType::kBF16, reinterpret_cast<const std::byte*>(bf), out, 2);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -3.0f);
}

}  // namespace
}  // namespace frugal::kernels
