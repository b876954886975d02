#include "kernels/act_quant.h"

#include <algorithm>
#include <cmath>

#include "kernels/quant_blocks.h"
#include "util/check.h"
#include "util/half.h"

namespace frugal::kernels {

__attribute__((target_clones("avx512f", "avx2", "default")))
void QuantizeActivations(const float* x, int64_t n, int16_t* qs, float* d) {
  for (int64_t b = 0; b < n / 32; ++b, x += 32, qs += 32) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float scale = amax / 32767.0f;
    const float inv = scale > 0 ? 1.0f / scale : 0.0f;
    d[b] = scale;
    // Round half away from zero (branch-free, so the loop vectorizes); |x·inv| ≤ 32767.
    for (int j = 0; j < 32; ++j) {
      const float v = x[j] * inv;
      qs[j] = static_cast<int16_t>(v + (v >= 0 ? 0.5f : -0.5f));
    }
  }
}

void PairOrderK(const int16_t* in, int64_t n, int16_t* out) {
  for (int64_t s = 0; s < n; s += 256, in += 256, out += 256) {
    for (int h = 0; h < 2; ++h) {
      int16_t* o = out + 128 * h;
      for (int lohi = 0; lohi < 2; ++lohi) {     // blocks 4h, 4h+2 (low nibbles), then 4h+1, 4h+3
        for (int parity = 0; parity < 2; ++parity) {  // even elements, then odd
          for (int half = 0; half < 2; ++half) {      // first block of the pair, then the second
            const int16_t* block = in + 32 * (4 * h + lohi + 2 * half);
            for (int k = 0; k < 16; ++k) *o++ = block[2 * k + parity];
          }
        }
      }
    }
  }
}

PairOrderFn PairOrderKFor(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? PairOrderKAvx512 : PairOrderK;
}

namespace {

// Σ of each block's 32 integers, and d times it.
__attribute__((target_clones("avx512f", "avx2", "default")))
void BlockSums(const int16_t* qs, const float* d, int64_t n_blocks, int32_t* sums, float* dsums) {
  for (int64_t b = 0; b < n_blocks; ++b, qs += 32) {
    int32_t s = 0;
    for (int j = 0; j < 32; ++j) s += qs[j];
    sums[b] = s;
    dsums[b] = d[b] * static_cast<float>(s);
  }
}

}  // namespace

Q16Rows::Q16Rows(const float* x, int64_t n_rows, int64_t cols, int64_t x_stride, bool pair_order) : cols_(cols) {
  if (pair_order) FRUGAL_CHECK_EQ(cols % 256, 0);
  const size_t values = static_cast<size_t>(n_rows * cols), blocks = values / 32;
  auto round64 = [](size_t bytes) { return (bytes + 63) / 64 * 64; };
  const size_t qs_bytes = round64(values * sizeof(int16_t)), block_bytes = round64(blocks * sizeof(float));
  const size_t k_bytes = round64(2 * blocks * sizeof(float));
  const size_t total = qs_bytes * (pair_order ? 2 : 1) + 3 * block_bytes + (pair_order ? k_bytes : 0);
  storage_.reset(new std::byte[total + 64]);  // uninitialized: every part is written below
  std::byte* p = storage_.get() + (64 - reinterpret_cast<uintptr_t>(storage_.get()) % 64) % 64;
  auto carve = [&p](size_t bytes) {
    std::byte* part = p;
    p += bytes;
    return part;
  };
  qs_ = reinterpret_cast<int16_t*>(carve(qs_bytes));
  d_ = reinterpret_cast<float*>(carve(block_bytes));
  sums_ = reinterpret_cast<int32_t*>(carve(block_bytes));
  dsums_ = reinterpret_cast<float*>(carve(block_bytes));
  for (int64_t i = 0; i < n_rows; ++i) QuantizeActivations(x + i * x_stride, cols, qs_ + i * cols, d_ + i * (cols / 32));
  BlockSums(qs_, d_, static_cast<int64_t>(blocks), sums_, dsums_);
  if (pair_order) {
    pairs_ = reinterpret_cast<int16_t*>(carve(qs_bytes));
    k_scales_ = reinterpret_cast<float*>(carve(k_bytes));
    const PairOrderFn order = PairOrderKFor(DetectedIsa());
    for (int64_t i = 0; i < n_rows; ++i) order(qs_ + i * cols, cols, pairs_ + i * cols);
    for (size_t sb = 0; sb < blocks / 8; ++sb) {
      std::copy_n(d_ + 8 * sb, 8, k_scales_ + 16 * sb);
      std::copy_n(dsums_ + 8 * sb, 8, k_scales_ + 16 * sb + 8);
    }
  }
}

float DotQ8_0Ref(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(w);
  float sum = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    int32_t s = 0;  // |Σ| ≤ 32·127·32767 < 2^31
    for (int j = 0; j < 32; ++j) s += static_cast<int32_t>(blocks[b].qs[j]) * x.qs[32 * b + j];
    sum += F16ToF32(blocks[b].d) * x.d[b] * static_cast<float>(s);
  }
  return sum;
}

void DotQ8_0x4Ref(const std::byte* w, const Q16Row* x, int64_t n, float* out) {
  for (int i = 0; i < 4; ++i) out[i] = DotQ8_0Ref(w, x[i], n);
}

namespace {

// Q4_K and Q5_K share d, dmin and the 6-bit scale/minimum packing; value(b, s, l) is element l
// of sub-block s as an unsigned integer.
template <typename Block, typename Value>
float DotK4Ref(const std::byte* w, Q16Row x, int64_t n, Value value) {
  const auto* blocks = reinterpret_cast<const Block*>(w);
  float sum = 0;
  for (int64_t i = 0; i < n / 256; ++i) {
    const Block& b = blocks[i];
    const float d = F16ToF32(b.d), dmin = F16ToF32(b.dmin);
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, mn;
      UnpackScaleMinK4(b.scales, s, &sc, &mn);
      const int16_t* xq = x.qs + 256 * i + 32 * s;
      int32_t isum = 0;
      for (int l = 0; l < 32; ++l) isum += value(b, s, l) * xq[l];
      const int64_t blk = 8 * i + s;
      sum += x.d[blk] * (d * sc * static_cast<float>(isum) - dmin * mn * static_cast<float>(x.sum[blk]));
    }
  }
  return sum;
}

inline int NibbleK4(const uint8_t* qs, int s, int l) {
  const uint8_t q = qs[32 * (s / 2) + l];
  return s % 2 ? q >> 4 : q & 15;
}

}  // namespace

float DotQ4_KRef(const std::byte* w, Q16Row x, int64_t n) {
  return DotK4Ref<BlockQ4_K>(w, x, n, [](const BlockQ4_K& b, int s, int l) { return NibbleK4(b.qs, s, l); });
}

DotQ8Fn DotQ4_KFor(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ4_KAvx512Vnni : level == IsaLevel::kAvx2 ? DotQ4_KAvx2 : DotQ4_KRef;
}

float DotQ5_KRef(const std::byte* w, Q16Row x, int64_t n) {
  return DotK4Ref<BlockQ5_K>(w, x, n, [](const BlockQ5_K& b, int s, int l) {
    return NibbleK4(b.qs, s, l) + (((b.qh[l] >> s) & 1) << 4);
  });
}

DotRowsFn DotQ4_KRowsFor(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ4_KRowsAvx512Vnni : nullptr;
}

DotRowsFn DotQ8_0RowsFor(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ8_0RowsAvx512Vnni : nullptr;
}

DotQ8x4Fn DotQ6_Kx4For(IsaLevel level) { return level == IsaLevel::kAvx512Vnni ? DotQ6_Kx4Avx512Vnni : nullptr; }

DotQ8x4Fn DotQ5_Kx4For(IsaLevel level) { return level == IsaLevel::kAvx512Vnni ? DotQ5_Kx4Avx512Vnni : nullptr; }

DotQ8Fn DotQ5_KFor(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ5_KAvx512Vnni : level == IsaLevel::kAvx2 ? DotQ5_KAvx2 : DotQ5_KRef;
}

float DotQ4_0Ref(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ4_0*>(w);
  float sum = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    int32_t s = 0;
    for (int j = 0; j < 16; ++j) {
      s += ((blocks[b].qs[j] & 15) - 8) * x.qs[32 * b + j];
      s += ((blocks[b].qs[j] >> 4) - 8) * x.qs[32 * b + j + 16];
    }
    sum += F16ToF32(blocks[b].d) * x.d[b] * static_cast<float>(s);
  }
  return sum;
}

float DotMxfp4Ref(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockMxfp4*>(w);
  float sum = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    int32_t s = 0;
    for (int j = 0; j < 16; ++j) {
      s += kMxfp4Doubled[blocks[b].qs[j] & 15] * x.qs[32 * b + j];
      s += kMxfp4Doubled[blocks[b].qs[j] >> 4] * x.qs[32 * b + j + 16];
    }
    sum += Mxfp4Scale(blocks[b].e) * x.d[b] * static_cast<float>(s);
  }
  return sum;
}

DotQ8Fn DotMxfp4For(IsaLevel level) { return level == IsaLevel::kAvx512Vnni ? DotMxfp4Avx512Vnni : DotMxfp4Ref; }

DotRowsFn DotMxfp4RowsFor(IsaLevel level) { return level == IsaLevel::kAvx512Vnni ? DotMxfp4RowsAvx512Vnni : nullptr; }

DotQ8Fn DotQ4_0For(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ4_0Avx512Vnni : level == IsaLevel::kAvx2 ? DotQ4_0Avx2 : DotQ4_0Ref;
}

// Value l (0..31) of group g (0..3) in half h of a Q6_K super-block, minus 32.
static inline int Q6Value(const BlockQ6_K& b, int h, int g, int l) {
  const uint8_t ql = b.ql[64 * h + l + 32 * (g & 1)];
  const int low = g < 2 ? ql & 15 : ql >> 4;
  const int high = (b.qh[32 * h + l] >> (2 * g)) & 3;
  return (low | (high << 4)) - 32;
}

float DotQ6_KRef(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(w);
  float sum = 0;
  for (int64_t i = 0; i < n / 256; ++i) {
    const BlockQ6_K& b = blocks[i];
    const float d = F16ToF32(b.d);
    for (int k = 0; k < 8; ++k) {  // activation block k of the super-block: half k/4, group k%4
      const int h = k / 4, g = k % 4;
      const int16_t* xq = x.qs + 256 * i + 32 * k;
      int32_t lo = 0, hi = 0;  // elements 0..15 and 16..31 have their own scales
      for (int l = 0; l < 16; ++l) lo += Q6Value(b, h, g, l) * xq[l];
      for (int l = 16; l < 32; ++l) hi += Q6Value(b, h, g, l) * xq[l];
      const int8_t* sc = b.scales + 8 * h + 2 * g;
      sum += d * x.d[8 * i + k] * (static_cast<float>(sc[0]) * static_cast<float>(lo) + static_cast<float>(sc[1]) * static_cast<float>(hi));
    }
  }
  return sum;
}

DotQ8Fn DotQ6_KFor(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ6_KAvx512Vnni : level == IsaLevel::kAvx2 ? DotQ6_KAvx2 : DotQ6_KRef;
}

void DotQ4_Kx4Ref(const std::byte* w, const Q16Row* x, int64_t n, float* out) {
  for (int i = 0; i < 4; ++i) out[i] = DotQ4_KRef(w, x[i], n);
}

DotQ8x4Fn DotQ4_Kx4For(IsaLevel level) { return level == IsaLevel::kAvx512Vnni ? DotQ4_Kx4Avx512Vnni : nullptr; }

DotQ8x4Fn DotQ8_0x4For(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ8_0x4Avx512Vnni : level == IsaLevel::kAvx2 ? DotQ8_0x4Avx2 : nullptr;
}

DotQ8Fn DotQ8_0For(IsaLevel level) {
  switch (level) {
    case IsaLevel::kAvx512Vnni: return DotQ8_0Avx512Vnni;
    case IsaLevel::kAvx2: return DotQ8_0Avx2;
    case IsaLevel::kScalar: return DotQ8_0Ref;
  }
  return DotQ8_0Ref;
}

}  // namespace frugal::kernels
