#include "kernels/act_quant.h"

#include <algorithm>
#include <cmath>

#include "kernels/quant_blocks.h"
#include "util/half.h"

namespace frugal::kernels {

void QuantizeActivations(const float* x, int64_t n, BlockQ16Act* out) {
  for (int64_t b = 0; b < n / 32; ++b, x += 32) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 32767.0f;
    const float id = d > 0 ? 1.0f / d : 0.0f;
    out[b].d = d;
    for (int j = 0; j < 32; ++j) out[b].qs[j] = static_cast<int16_t>(std::lrint(x[j] * id));
  }
}

float DotQ8_0Ref(const std::byte* w, const BlockQ16Act* x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(w);
  float sum = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    int32_t s = 0;  // |Σ| ≤ 32·127·32767 < 2^31
    for (int j = 0; j < 32; ++j) s += static_cast<int32_t>(blocks[b].qs[j]) * x[b].qs[j];
    sum += F16ToF32(blocks[b].d) * x[b].d * static_cast<float>(s);
  }
  return sum;
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
