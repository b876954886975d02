#include "kernels/q8_panels.h"

#include <cstring>

#include "kernels/act_quant.h"
#include "kernels/int8_gemm.h"
#include "kernels/quant_blocks.h"
#include "util/check.h"
#include "util/half.h"

namespace frugal::kernels {
namespace {

// Byte offset of column k's integer in a panel row (int8_gemm.h's interleaving).
int64_t QuantAt(int64_t k) { return Int8InterleavedOffset(k); }

const uint16_t* ScalesOf(const std::byte* panel_row, int64_t cols) {
  return reinterpret_cast<const uint16_t*>(panel_row + cols);
}

}  // namespace

bool Q8PanelsUsable() { return DetectedIsa() == IsaLevel::kAvx512Vnni && !AmxUsable(); }

void PackQ8_0Panels(const std::byte* q8_0_row, int64_t cols, std::byte* out) {
  FRUGAL_CHECK(Q8PanelsFit(cols));
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(q8_0_row);
  auto* scales = reinterpret_cast<uint16_t*>(out + cols);
  for (int64_t b = 0; b < cols / 32; ++b) {
    std::byte* group = out + 512 * (b / 16) + 4 * (b % 16);  // lane b % 16 of the group's chunks
    for (int64_t c = 0; c < 8; ++c) {
      for (int64_t i = 0; i < 4; ++i) group[64 * c + i] = static_cast<std::byte>(blocks[b].qs[4 * c + i] ^ 0x80);  // w + 128
    }
    std::memcpy(scales + b, &blocks[b].d, sizeof(uint16_t));  // the row may be unaligned
  }
}

void DequantizeQ8_0Panels(const std::byte* panel_row, int64_t cols, float* out) {
  FRUGAL_CHECK(Q8PanelsFit(cols));
  const auto* u = reinterpret_cast<const uint8_t*>(panel_row);
  for (int64_t b = 0; b < cols / 32; ++b) {
    uint16_t bits;
    std::memcpy(&bits, panel_row + cols + 2 * b, sizeof bits);
    const float d = F16ToF32(bits);
    for (int64_t i = 0; i < 32; ++i) out[32 * b + i] = d * static_cast<float>(int32_t{u[QuantAt(32 * b + i)]} - 128);
  }
}

Q16PanelRows::Q16PanelRows(const Q16Rows& q16, int64_t n_rows, int64_t cols)
    : cols_(cols),
      qs_(static_cast<size_t>(n_rows * cols), /*zeroed=*/false),
      d_(static_cast<size_t>(n_rows * cols / 32), /*zeroed=*/false),
      starts_(static_cast<size_t>(n_rows * cols / 16), /*zeroed=*/false) {
  FRUGAL_CHECK(Q8PanelsFit(cols));
  for (int64_t r = 0; r < n_rows; ++r) {
    const Q16Row in = q16.row(r);
    int16_t* out = qs_.data() + r * cols;
    for (int64_t g = 0; g < cols / 512; ++g) {
      for (int64_t c = 0; c < 8; ++c) {
        for (int64_t half = 0; half < 2; ++half) {
          int16_t* run = out + 512 * g + 64 * c + 32 * half;  // run[e] = block 8·half + e/4, column 4c + e%4
          for (int64_t j = 0; j < 8; ++j) std::memcpy(run + 4 * j, in.qs + 32 * (16 * g + 8 * half + j) + 4 * c, 8);
        }
      }
    }
    std::memcpy(d_.data() + r * (cols / 32), in.d, static_cast<size_t>(cols / 32) * sizeof(float));
    int32_t* starts = starts_.data() + r * (cols / 16);
    for (int64_t g = 0; g < cols / 512; ++g) {
      for (int64_t half = 0; half < 2; ++half) {
        for (int64_t k = 0; k < 16; ++k) {
          int32_t sum = 0;
          for (int64_t c = 0; c < 8; ++c) {
            const int16_t* run = out + 512 * g + 64 * c + 32 * half;
            sum += run[2 * k] + run[2 * k + 1];
          }
          starts[32 * g + 16 * half + k] = -128 * sum;
        }
      }
    }
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
    : cols_(cols),
      qs_(static_cast<size_t>(n_rows * cols), /*zeroed=*/false),
      starts_(static_cast<size_t>(n_rows * cols / 32), /*zeroed=*/false),
      d_(static_cast<size_t>(n_rows * cols / 32), /*zeroed=*/false) {
  FRUGAL_CHECK(Q8PanelsFit(cols));
  const Int8Shape shape{cols};  // no padding: cols is a multiple of 512
  const bool fast = Int8ProductsUsable();
  AlignedBuffer<uint8_t> token(Int8Activations::TokenBytes(shape), /*zeroed=*/false);
  for (int64_t r = 0; r < n_rows; ++r) {
    (fast ? QuantizeInt8TokenAvx512 : QuantizeInt8Token)(x + r * x_stride, shape, token.data());
    const int64_t b = r * (cols / 32);
    (fast ? Q8PanelActivationsFromInt8Avx512 : Q8PanelActivationsFromInt8Ref)(token.data(), cols, qs_.data() + r * cols,
                                                                               starts_.data() + b);
    std::memcpy(d_.data() + b, token.data() + cols, static_cast<size_t>(cols / 32) * sizeof(float));
  }
}

Q8PanelRows::Q8PanelRows(const Int8Activations& a)
    : cols_(a.shape().cols),
      qs_(static_cast<size_t>(a.n_tokens() * cols_), /*zeroed=*/false),
      starts_(static_cast<size_t>(a.n_tokens() * cols_ / 32), /*zeroed=*/false),
      d_(static_cast<size_t>(a.n_tokens() * cols_ / 32), /*zeroed=*/false) {
  FRUGAL_CHECK(Q8PanelsFit(cols_));
  const bool fast = Int8ProductsUsable();
  for (int64_t r = 0; r < a.n_tokens(); ++r) {
    const int64_t b = r * (cols_ / 32);
    (fast ? Q8PanelActivationsFromInt8Avx512 : Q8PanelActivationsFromInt8Ref)(a.u(r), cols_, qs_.data() + r * cols_,
                                                                               starts_.data() + b);
    std::memcpy(d_.data() + b, a.dx(r), static_cast<size_t>(cols_ / 32) * sizeof(float));
  }
}

void Q8PanelProduct16Ref(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols, const Q16PanelRow* x,
                         int n_tokens, float* y, int64_t ys) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const std::byte* row = w + static_cast<uint64_t>(r) * row_stride;
    const auto* u = reinterpret_cast<const uint8_t*>(row);
    const uint16_t* scales = ScalesOf(row, cols);
    for (int t = 0; t < n_tokens; ++t) {
      float sum = 0;
      for (int64_t g = 0; g < cols / 512; ++g) {
        int32_t block_sums[16] = {};
        for (int64_t c = 0; c < 8; ++c) {
          for (int64_t e = 0; e < 64; ++e) {  // byte e of chunk c: block e / 4, activation run (c, e / 32)
            const int64_t half = e / 32, pos = e % 32;
            block_sums[e / 4] += (int32_t{u[512 * g + 64 * c + e]} - 128) * x[t].qs[512 * g + 64 * c + 32 * half + pos];
          }
        }
        for (int64_t j = 0; j < 16; ++j) {
          uint16_t bits;
          std::memcpy(&bits, scales + 16 * g + j, sizeof bits);
          sum += F16ToF32(bits) * x[t].d[16 * g + j] * static_cast<float>(block_sums[j]);
        }
      }
      y[t * ys + r] = sum;
    }
  }
}

void Q8PanelProduct8Ref(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols, const Q8PanelRow* x,
                        int n_tokens, float* y, int64_t ys) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const std::byte* row = w + static_cast<uint64_t>(r) * row_stride;
    const auto* u = reinterpret_cast<const uint8_t*>(row);
    const uint16_t* scales = ScalesOf(row, cols);
    for (int t = 0; t < n_tokens; ++t) {
      float sum = 0;
      for (int64_t g = 0; g < cols / 512; ++g) {
        int32_t block_sums[16] = {};
        for (int64_t i = 0; i < 512; ++i) {
          const int64_t at = 512 * g + i;
          block_sums[i % 64 / 4] += (int32_t{u[at]} - 128) * x[t].qs[at];
        }
        for (int64_t j = 0; j < 16; ++j) {
          uint16_t bits;
          std::memcpy(&bits, scales + 16 * g + j, sizeof bits);
          sum += F16ToF32(bits) * x[t].d[16 * g + j] * static_cast<float>(block_sums[j]);
        }
      }
      y[t * ys + r] = sum;
    }
  }
}

}  // namespace frugal::kernels
