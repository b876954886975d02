#include "kernels/q8_rows.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/int8_gemm.h"
#include "kernels/quant_blocks.h"
#include "util/half.h"

namespace frugal::kernels {

Q8Rows::Q8Rows(const float* x, int64_t n_rows, int64_t cols, int64_t x_stride)
    : cols_(cols), padded_cols_((cols + 511) / 512 * 512) {
  const int64_t blocks = padded_cols_ / 32;
  const size_t qs_bytes = static_cast<size_t>(n_rows * padded_cols_);
  const size_t block_bytes = static_cast<size_t>(n_rows * blocks) * sizeof(float);
  storage_.reset(new std::byte[qs_bytes + 2 * block_bytes + 64]);
  std::byte* base = storage_.get();
  base += (64 - reinterpret_cast<uintptr_t>(base) % 64) % 64;  // every part 64-byte aligned (multiples of 64 bytes)
  qs_ = reinterpret_cast<int8_t*>(base);
  dx_ = reinterpret_cast<float*>(base + qs_bytes);
  dsums_ = reinterpret_cast<float*>(base + qs_bytes + block_bytes);
  for (int64_t r = 0; r < n_rows; ++r) {
    int8_t* q = qs_ + r * padded_cols_;
    float* dx = dx_ + r * blocks;
    float* ds = dsums_ + r * blocks;
    std::memset(q, 0, static_cast<size_t>(padded_cols_));
    std::fill_n(dx, blocks, 0.0f);
    std::fill_n(ds, blocks, 0.0f);
    const float* xr = x + r * x_stride;
    for (int64_t b = 0; b < cols / 32; ++b) {
      int32_t sum = 0;
      dx[b] = QuantizeInt8Block(xr + 32 * b, 32, q + 32 * b, &sum);  // the int8 panels' rule
      ds[b] = dx[b] * static_cast<float>(sum);
    }
  }
}

void DotQ8_0TokensRef(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(w);
  for (int t = 0; t < n_tokens; ++t) {
    float sum = 0;
    for (int64_t b = 0; b < cols / 32; ++b) {
      int32_t s = 0;
      for (int k = 0; k < 32; ++k) s += int32_t{blocks[b].qs[k]} * x[t].qs[32 * b + k];
      sum += F16ToF32(blocks[b].d) * x[t].dx[b] * static_cast<float>(s);
    }
    out[t] = sum;
  }
}

namespace {

// Q4_K and Q5_K (the same d, dmin and 6-bit scale packing): per 32-value sub-block j
// d·sc·dx·Σ value·q − dmin·mn·dx·Σq, value(blk, j, k) the unsigned value k of sub-block j.
template <typename Block, typename ValueOf>
void ScaleMinTokensRef(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out, ValueOf value) {
  const auto* blocks = reinterpret_cast<const Block*>(w);
  for (int t = 0; t < n_tokens; ++t) {
    float sum = 0;
    for (int64_t sb = 0; sb < cols / 256; ++sb) {
      const Block& blk = blocks[sb];
      const float d = F16ToF32(blk.d), dmin = F16ToF32(blk.dmin);
      for (int j = 0; j < 8; ++j) {
        uint8_t sc = 0, mn = 0;
        UnpackScaleMinK4(blk.scales, j, &sc, &mn);
        const int64_t b = 8 * sb + j;  // the activation block
        int32_t isum = 0;
        for (int k = 0; k < 32; ++k) isum += value(blk, j, k) * x[t].qs[32 * b + k];
        const float dx = x[t].dx[b];
        sum += d * sc * dx * static_cast<float>(isum) - dmin * mn * x[t].dsums[b];
      }
    }
    out[t] = sum;
  }
}

}  // namespace

void DotQ4_KTokensRef(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  ScaleMinTokensRef<BlockQ4_K>(w, x, n_tokens, cols, out, [](const BlockQ4_K& blk, int j, int k) {
    const uint8_t byte = blk.qs[32 * (j / 2) + k];
    return j % 2 == 0 ? byte & 15 : byte >> 4;
  });
}

void DotQ4_0TokensRef(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ4_0*>(w);
  for (int t = 0; t < n_tokens; ++t) {
    float sum = 0;
    for (int64_t b = 0; b < cols / 32; ++b) {
      int32_t isum = 0;
      for (int k = 0; k < 32; ++k) {
        const uint8_t byte = blocks[b].qs[k % 16];
        isum += ((k < 16 ? byte & 15 : byte >> 4) - 8) * x[t].qs[32 * b + k];
      }
      sum += F16ToF32(blocks[b].d) * x[t].dx[b] * static_cast<float>(isum);
    }
    out[t] = sum;
  }
}

DotQ8TokensFn DotQ4_0TokensFor(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ4_0TokensAvx512Vnni : nullptr;
}

void DotQ5_KTokensRef(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  ScaleMinTokensRef<BlockQ5_K>(w, x, n_tokens, cols, out, [](const BlockQ5_K& blk, int j, int k) {
    const uint8_t byte = blk.qs[32 * (j / 2) + k];
    return (j % 2 == 0 ? byte & 15 : byte >> 4) | (((blk.qh[k] >> j) & 1) << 4);
  });
}

DotQ8TokensFn DotQ5_KTokensFor(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ5_KTokensAvx512Vnni : nullptr;
}

void DotQ6_KTokensRef(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(w);
  for (int t = 0; t < n_tokens; ++t) {
    float sum = 0;
    for (int64_t sb = 0; sb < cols / 256; ++sb) {
      const BlockQ6_K& blk = blocks[sb];
      const float d = F16ToF32(blk.d);
      for (int j = 0; j < 16; ++j) {  // sub-blocks of 16 values
        int32_t isum = 0;
        for (int i = 0; i < 16; ++i) {
          // value v of the super-block: half v / 128; within it, quarter l4 and position l
          const int v = 16 * j + i, half = v / 128, l4 = v % 128 / 32, l = v % 32;
          const uint8_t ql = blk.ql[64 * half + 32 * (l4 % 2) + l];
          const uint8_t qh = blk.qh[32 * half + l];
          const int q6 = ((l4 < 2 ? ql & 15 : ql >> 4) | (((qh >> (2 * l4)) & 3) << 4)) - 32;
          isum += q6 * x[t].qs[256 * sb + v];
        }
        sum += d * static_cast<float>(blk.scales[j]) * x[t].dx[8 * sb + j / 2] * static_cast<float>(isum);
      }
    }
    out[t] = sum;
  }
}

DotQ8TokensFn DotQ6_KTokensFor(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ6_KTokensAvx512Vnni : nullptr;
}

DotQ8TokensFn DotQ4_KTokensFor(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ4_KTokensAvx512Vnni : nullptr;
}

DotQ8TokensFn DotQ8TokensFor(GgmlType type, int64_t cols, IsaLevel level) {
  if (!Q8TokensSupport(type, cols)) return nullptr;
  switch (type) {
    case GgmlType::kQ8_0: return DotQ8_0TokensFor(level);
    case GgmlType::kQ4_0: return DotQ4_0TokensFor(level);
    case GgmlType::kQ4_K: return DotQ4_KTokensFor(level);
    case GgmlType::kQ5_K: return DotQ5_KTokensFor(level);
    case GgmlType::kQ6_K: return DotQ6_KTokensFor(level);
    default: return nullptr;
  }
}

DotQ8TokensFn DotQ8_0TokensFor(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ8_0TokensAvx512Vnni : nullptr;
}

}  // namespace frugal::kernels
