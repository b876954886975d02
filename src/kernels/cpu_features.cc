#include "kernels/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace frugal::kernels {
namespace {

IsaLevel Detect() {
  __builtin_cpu_init();
  IsaLevel level = IsaLevel::kScalar;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    level = IsaLevel::kAvx2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")) {
      level = IsaLevel::kAvx512Vnni;
    }
  }
  if (const char* cap = std::getenv("FRUGAL_ISA")) {
    IsaLevel want = level;
    if (std::strcmp(cap, "scalar") == 0) want = IsaLevel::kScalar;
    if (std::strcmp(cap, "avx2") == 0) want = IsaLevel::kAvx2;
    if (static_cast<int>(want) < static_cast<int>(level)) level = want;
  }
  return level;
}

}  // namespace

IsaLevel DetectedIsa() {
  static const IsaLevel level = Detect();  // immutable after the first call
  return level;
}

const char* IsaName(IsaLevel level) {
  switch (level) {
    case IsaLevel::kScalar: return "scalar";
    case IsaLevel::kAvx2: return "avx2";
    case IsaLevel::kAvx512Vnni: return "avx512-vnni";
  }
  return "?";
}

}  // namespace frugal::kernels
