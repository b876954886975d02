#include "kernels/cpu_features.h"

#include <cpuid.h>

#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace frugal::kernels {
namespace {

// F16C from CPUID leaf 1 (clang's __builtin_cpu_supports does not know "f16c").
bool HasF16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && ((c >> 29) & 1) != 0;
}

IsaLevel Detect() {
  __builtin_cpu_init();
  IsaLevel level = IsaLevel::kScalar;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && HasF16c()) {
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

bool CappedBelowAmx() {
  const char* cap = std::getenv("FRUGAL_ISA");
  return cap != nullptr && std::strcmp(cap, "amx") != 0;
}

bool DetectAmx() {
  if (DetectedIsa() != IsaLevel::kAvx512Vnni || CappedBelowAmx()) return false;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool amx_bf16 = (d >> 22) & 1, amx_tile = (d >> 24) & 1;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
  const bool avx512_bf16 = (a >> 5) & 1;
  if (!amx_bf16 || !amx_tile || !avx512_bf16) return false;
#if defined(__linux__)
  constexpr int kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

bool DetectAvx512Bf16() {
  if (DetectedIsa() != IsaLevel::kAvx512Vnni) return false;
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) && ((a >> 5) & 1) != 0;
}

}  // namespace

bool Avx512Bf16Usable() {
  static const bool usable = DetectAvx512Bf16();
  return usable;
}

bool AmxUsable() {
  static const bool usable = DetectAmx();  // the permission is per process; asked once
  return usable;
}

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
