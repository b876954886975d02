#include "kernels/panel_rows.h"

#include <algorithm>
#include <cstring>

#include "kernels/act_quant.h"
#include "kernels/int8_gemm.h"
#include "kernels/int8_gemm_internal.h"
#include "kernels/quant_blocks.h"
#include "util/check.h"
#include "util/half.h"

namespace frugal::kernels {
namespace {

// Byte offset of column k's integer in a panel row (int8_gemm.h's interleaving).
int64_t QuantAt(int64_t k) { return Int8InterleavedOffset(k); }

// Q4_K panels: the byte holding column k (0..31) of sub-block b (counted over the row) in its
// low (k % 32 < 16) or high nibble, and super-block i's 16-byte header (scales, d, dmin).
int64_t NibbleByteQ4K(int64_t b, int64_t k) { return 256 * (b / 16) + 64 * (k % 16 / 4) + 4 * (b % 16) + k % 4; }
constexpr int64_t kHeaderBytesQ4K = 16;
const std::byte* HeaderQ4K(const std::byte* panel_row, int64_t cols, int64_t i) {
  return panel_row + cols / 2 + kHeaderBytesQ4K * i;
}
int NibbleQ4K(const std::byte* panel_row, int64_t b, int64_t k) {
  const auto byte = static_cast<uint8_t>(panel_row[NibbleByteQ4K(b, k)]);
  return k < 16 ? byte & 15 : byte >> 4;
}
// d·sc and dmin·mn of sub-block b.
void ScaleMinQ4K(const std::byte* panel_row, int64_t cols, int64_t b, float* scale, float* minimum) {
  const std::byte* h = HeaderQ4K(panel_row, cols, b / 8);
  uint16_t d, dmin;
  std::memcpy(&d, h + 12, 2);
  std::memcpy(&dmin, h + 14, 2);
  uint8_t sc = 0, mn = 0;
  UnpackScaleMinK4(reinterpret_cast<const uint8_t*>(h), static_cast<int>(b % 8), &sc, &mn);
  *scale = F16ToF32(d) * sc;
  *minimum = F16ToF32(dmin) * mn;
}

}  // namespace

bool PanelRowsUsable() { return DetectedIsa() == IsaLevel::kAvx512Vnni && !AmxUsable(); }

void PackQ8_0Panels(const std::byte* q8_0_row, int64_t cols, std::byte* out) {
  FRUGAL_CHECK(PanelRowsFit(cols));
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(q8_0_row);
  auto* scales = reinterpret_cast<uint16_t*>(out + cols);
  for (int64_t b = 0; b < cols / 32; ++b) {
    std::byte* group = out + 512 * (b / 16) + 4 * (b % 16);  // lane b % 16 of the group's chunks
    for (int64_t c = 0; c < 8; ++c) {
      for (int64_t i = 0; i < 4; ++i) group[64 * c + i] = static_cast<std::byte>(static_cast<uint8_t>(blocks[b].qs[4 * c + i]) ^ 0x80);  // w + 128
    }
    std::memcpy(scales + b, &blocks[b].d, sizeof(uint16_t));  // the row may be unaligned
  }
}

void PackQ4_KPanels(const std::byte* q4_k_row, int64_t cols, std::byte* out) {
  FRUGAL_CHECK(PanelRowsFit(cols));
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(q4_k_row);
  for (int64_t i = 0; i < cols / 256; ++i) {
    for (int64_t s = 0; s < 8; ++s) {
      const int64_t b = 8 * i + s;
      const uint8_t* qs = blocks[i].qs + 32 * (s / 2);
      const int shift = s % 2 == 0 ? 0 : 4;
      std::byte* lane = out + NibbleByteQ4K(b, 0);  // column k < 16 at lane + 64·(k/4) + k%4, k + 16 in the high nibble
      for (int64_t k = 0; k < 16; ++k) {
        const int low = (qs[k] >> shift) & 15, high = (qs[k + 16] >> shift) & 15;
        lane[64 * (k / 4) + k % 4] = static_cast<std::byte>(low | high << 4);
      }
    }
    std::byte* h = out + cols / 2 + kHeaderBytesQ4K * i;
    std::memcpy(h, blocks[i].scales, 12);
    std::memcpy(h + 12, &blocks[i].d, 2);
    std::memcpy(h + 14, &blocks[i].dmin, 2);
  }
}

void DequantizeQ4_KPanels(const std::byte* panel_row, int64_t cols, float* out) {
  FRUGAL_CHECK(PanelRowsFit(cols));
  for (int64_t b = 0; b < cols / 32; ++b) {
    float scale, minimum;
    ScaleMinQ4K(panel_row, cols, b, &scale, &minimum);
    for (int64_t k = 0; k < 32; ++k) out[32 * b + k] = scale * static_cast<float>(NibbleQ4K(panel_row, b, k)) - minimum;
  }
}

void DecomposePanelBlock32(GgmlType type, const std::byte* panel_row, int64_t cols, int64_t j, Block32* out) {
  FRUGAL_CHECK(HasPanelOrder(type) && j >= 0 && j < cols / 32);
  if (type == GgmlType::kQ8_0) {
    const auto* u = reinterpret_cast<const uint8_t*>(panel_row);
    for (int64_t i = 0; i < 32; ++i) out->q[i] = static_cast<int8_t>(int32_t{u[QuantAt(32 * j + i)]} - 128);
    uint16_t bits;
    std::memcpy(&bits, panel_row + cols + 2 * j, sizeof bits);
    std::fill_n(out->scale, 8, F16ToF32(bits));
    out->m = 0.0f;
    return;
  }
  for (int64_t i = 0; i < 32; ++i) out->q[i] = static_cast<int8_t>(NibbleQ4K(panel_row, j, i));
  float scale, minimum;
  ScaleMinQ4K(panel_row, cols, j, &scale, &minimum);
  std::fill_n(out->scale, 8, scale);
  out->m = -minimum;
}

void PackPanelRow(GgmlType type, const std::byte* row, int64_t cols, std::byte* out) {
  FRUGAL_CHECK(HasPanelOrder(type));
  (type == GgmlType::kQ8_0 ? PackQ8_0Panels : PackQ4_KPanels)(row, cols, out);
}

void DequantizePanelRow(GgmlType type, const std::byte* panel_row, int64_t cols, float* out) {
  FRUGAL_CHECK(HasPanelOrder(type));
  (type == GgmlType::kQ8_0 ? DequantizeQ8_0Panels : DequantizeQ4_KPanels)(panel_row, cols, out);
}

void DequantizeQ8_0Panels(const std::byte* panel_row, int64_t cols, float* out) {
  FRUGAL_CHECK(PanelRowsFit(cols));
  const auto* u = reinterpret_cast<const uint8_t*>(panel_row);
  for (int64_t b = 0; b < cols / 32; ++b) {
    uint16_t bits;
    std::memcpy(&bits, panel_row + cols + 2 * b, sizeof bits);
    const float d = F16ToF32(bits);
    for (int64_t i = 0; i < 32; ++i) out[32 * b + i] = d * static_cast<float>(int32_t{u[QuantAt(32 * b + i)]} - 128);
  }
}

void Q8PanelActivationsFromInt8Ref(const uint8_t* u, int64_t cols, int8_t* qs, int32_t* starts) {
  for (int64_t b = 0; b < cols / 32; ++b) {
    int32_t sum = 0;
    for (int64_t i = 0; i < 32; ++i) {
      const int64_t at = QuantAt(32 * b + i);
      qs[at] = static_cast<int8_t>(int32_t{u[at]} - 128);
      sum += qs[at];
    }
    starts[b] = -128 * sum;
  }
}

Q8PanelRows::Q8PanelRows(const float* x, int64_t n_rows, int64_t cols, int64_t x_stride)
    : Q8PanelRows(std::make_unique<Int8Activations>(x, n_rows, cols, x_stride), nullptr) {}

Q8PanelRows::Q8PanelRows(const Int8Activations& a) : Q8PanelRows(nullptr, &a) {}

Q8PanelRows::Q8PanelRows(std::unique_ptr<Int8Activations> owned, const Int8Activations* other)
    : owned_(std::move(owned)),
      a_(owned_ != nullptr ? *owned_ : *other),
      cols_(a_.shape().cols),
      qs_(static_cast<size_t>(a_.n_tokens() * cols_), /*zeroed=*/false),
      starts_(static_cast<size_t>(a_.n_tokens() * cols_ / 32), /*zeroed=*/false) {
  FRUGAL_CHECK(PanelRowsFit(cols_));
  const bool fast = Int8ProductsUsable();
  for (int64_t r = 0; r < a_.n_tokens(); ++r) {
    (fast ? Q8PanelActivationsFromInt8Avx512 : Q8PanelActivationsFromInt8Ref)(a_.u(r), cols_, qs_.data() + r * cols_,
                                                                               starts_.data() + r * (cols_ / 32));
  }
}

Q8PanelRows::~Q8PanelRows() = default;

Q8PanelRow Q8PanelRows::row(int64_t i) const {
  return {qs_.data() + i * cols_, starts_.data() + i * (cols_ / 32), a_.dx(i), a_.sx(i)};
}

namespace {

// Per block b: with the block as integers q, scale and offset m (DecomposePanelBlock32; value =
// scale·q + m), scale·dx·Σ q·xq + m·(dx·Σxq), the integers summed exactly and the blocks in order.
void PanelProductRef(GgmlType type, const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols, const Q8PanelRow* x,
                     int n_tokens, float* y, int64_t ys) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const std::byte* row = w + static_cast<uint64_t>(r) * row_stride;
    for (int t = 0; t < n_tokens; ++t) {
      float sum = 0;
      for (int64_t b = 0; b < cols / 32; ++b) {
        Block32 block;
        DecomposePanelBlock32(type, row, cols, b, &block);
        int32_t isum = 0;
        for (int64_t k = 0; k < 32; ++k) isum += int32_t{block.q[k]} * x[t].qs[QuantAt(32 * b + k)];
        sum += block.scale[0] * x[t].d[b] * static_cast<float>(isum) + block.m * x[t].sx[b];
      }
      y[t * ys + r] = sum;
    }
  }
}

}  // namespace

void Q8_0PanelProduct8Ref(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols, const Q8PanelRow* x,
                          int n_tokens, float* y, int64_t ys) {
  PanelProductRef(GgmlType::kQ8_0, w, row_stride, n_rows, cols, x, n_tokens, y, ys);
}

void Q4KPanelProduct8Ref(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols, const Q8PanelRow* x,
                         int n_tokens, float* y, int64_t ys) {
  PanelProductRef(GgmlType::kQ4_K, w, row_stride, n_rows, cols, x, n_tokens, y, ys);
}

}  // namespace frugal::kernels
