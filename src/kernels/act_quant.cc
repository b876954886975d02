#include "kernels/act_quant.h"

#include <algorithm>
#include <cmath>

#include "kernels/quant_blocks.h"
#include "util/half.h"

namespace frugal::kernels {

void QuantizeActivations(const float* x, int64_t n, int16_t* qs, float* d) {
  for (int64_t b = 0; b < n / 32; ++b, x += 32, qs += 32) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float scale = amax / 32767.0f;
    const float inv = scale > 0 ? 1.0f / scale : 0.0f;
    d[b] = scale;
    // Round to nearest (ties to even); |x·inv| ≤ 32767 by construction.
    for (int j = 0; j < 32; ++j) qs[j] = static_cast<int16_t>(std::nearbyint(x[j] * inv));
  }
}

Q16Rows::Q16Rows(const float* x, int64_t n_rows, int64_t cols, int64_t x_stride)
    : cols_(cols), storage_(static_cast<size_t>(n_rows * cols + 32)), d_(static_cast<size_t>(n_rows * (cols / 32))) {
  auto addr = reinterpret_cast<uintptr_t>(storage_.data());
  qs_ = storage_.data() + ((64 - addr % 64) % 64) / sizeof(int16_t);
  for (int64_t i = 0; i < n_rows; ++i) QuantizeActivations(x + i * x_stride, cols, qs_ + i * cols, d_.data() + i * (cols / 32));
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

DotQ8x4Fn DotQ8_0x4For(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotQ8_0x4Avx512Vnni : DotQ8_0x4Ref;
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
