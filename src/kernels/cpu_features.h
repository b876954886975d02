// What the CPU can do, detected once; the kernels pick their code path from it.
// The environment variable FRUGAL_ISA=scalar|avx2|avx512|amx caps the level (for tests and
// comparisons; avx512 turns AMX off). Thread-safe.
#pragma once

namespace frugal::kernels {

enum class IsaLevel { kScalar = 0, kAvx2 = 1, kAvx512Vnni = 2 };

// The best level this CPU supports (AVX2+FMA+F16C; AVX-512 F/BW/VL + VNNI), capped by FRUGAL_ISA.
// Computed once per process (the CPU does not change under us).
IsaLevel DetectedIsa();
const char* IsaName(IsaLevel level);

// True when the AMX prefill kernels (amx_matmul.h) may run: the CPU has AMX-TILE, AMX-BF16 and
// AVX512-BF16 on top of the AVX-512 VNNI level, the OS granted this process the tile state
// (Linux arch_prctl), and FRUGAL_ISA does not cap below amx. Computed once per process.
bool AmxUsable();

// True when the CPU has AVX512-BF16 (vdpbf16ps, vcvtne2ps2bf16) on top of the AVX-512 VNNI level
// (not capped by FRUGAL_ISA). Whether it is fast is another matter (attention_block.h).
bool Avx512Bf16Usable();

}  // namespace frugal::kernels
