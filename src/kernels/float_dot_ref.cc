#include <cstring>

#include "kernels/float_dot.h"
#include "kernels/matmul.h"
#include "util/half.h"

namespace frugal::kernels {

float DotF16Ref(const std::byte* w, const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, w + 2 * i, 2);
    s += static_cast<double>(F16ToF32(h)) * x[i];
  }
  return static_cast<float>(s);
}

float DotBF16Ref(const std::byte* w, const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, w + 2 * i, 2);
    s += static_cast<double>(Bf16ToF32(h)) * x[i];
  }
  return static_cast<float>(s);
}

FloatDotFn DotF16For(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotF16Avx512 : level == IsaLevel::kAvx2 ? DotF16Avx2 : DotF16Ref;
}

FloatDotFn DotBF16For(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotBF16Avx512 : level == IsaLevel::kAvx2 ? DotBF16Avx2 : DotBF16Ref;
}

}  // namespace frugal::kernels
