#include <cstring>

#include "kernels/amx_matmul.h"
#include "kernels/float_dot.h"
#include "kernels/matmul.h"
#include "util/half.h"

namespace frugal::kernels {

namespace {

template <float (*Convert)(uint16_t)>
float DotHalfRef(const std::byte* w, const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, w + 2 * i, 2);
    s += static_cast<double>(Convert(h)) * x[i];
  }
  return static_cast<float>(s);
}

}  // namespace

float DotF16Ref(const std::byte* w, const float* x, int64_t n) { return DotHalfRef<F16ToF32>(w, x, n); }
float DotBF16Ref(const std::byte* w, const float* x, int64_t n) { return DotHalfRef<Bf16ToF32>(w, x, n); }

void F16ToF32Ref(const std::byte* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = F16ToF32(h);
  }
}

void BF16ToF32Ref(const std::byte* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = Bf16ToF32(h);
  }
}

void SplitBf16(float f, uint16_t* hi, uint16_t* lo) {  // declared in amx_matmul.h; compiled for any CPU
  *hi = F32ToBf16(f);
  *lo = F32ToBf16(f - Bf16ToF32(*hi));
}

HalfToFloatFn HalfToFloatFor(GgmlType type, IsaLevel level) {
  const bool avx512 = level == IsaLevel::kAvx512Vnni, avx2 = level == IsaLevel::kAvx2;
  if (type == GgmlType::kF16) return avx512 ? F16ToF32Avx512 : avx2 ? F16ToF32Avx2 : F16ToF32Ref;
  if (type == GgmlType::kBF16) return avx512 ? BF16ToF32Avx512 : avx2 ? BF16ToF32Avx2 : BF16ToF32Ref;
  return nullptr;
}

FloatDotFn DotF16For(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotF16Avx512 : level == IsaLevel::kAvx2 ? DotF16Avx2 : DotF16Ref;
}

FloatDotFn DotBF16For(IsaLevel level) {
  return level == IsaLevel::kAvx512Vnni ? DotBF16Avx512 : level == IsaLevel::kAvx2 ? DotBF16Avx2 : DotBF16Ref;
}

}  // namespace frugal::kernels
