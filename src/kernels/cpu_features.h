// What the CPU can do, detected once; the kernels pick their code path from it.
// The environment variable FRUGAL_ISA=scalar|avx2|avx512 caps the level (for tests and
// comparisons). Thread-safe.
#pragma once

namespace frugal::kernels {

enum class IsaLevel { kScalar = 0, kAvx2 = 1, kAvx512Vnni = 2 };

// The best level this CPU supports (AVX2+FMA+F16C; AVX-512 F/BW/VL + VNNI), capped by FRUGAL_ISA.
// Computed once per process (the CPU does not change under us).
IsaLevel DetectedIsa();
const char* IsaName(IsaLevel level);

}  // namespace frugal::kernels
