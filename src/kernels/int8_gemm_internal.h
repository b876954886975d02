// Shared between the int8 products' scalar unit and their AVX-512 unit (int8_gemm.h).
#pragma once

#include <cstdint>

#include "kernels/int8_gemm.h"

namespace frugal::kernels {

// One block of 32 weights: value[k] = scale[k/4]·q[k] + m.
struct Block32 {
  int8_t q[32];
  float scale[8];
  float m;
};
// Block j (0-based, of 32 columns) of a stored row of `type` (Int8PanelSupports).
void DecomposeBlock32(GgmlType type, const std::byte* row, int64_t j, Block32* out);

// A[r][b] = −128·Σ_{lanes of b} scale·Σ w of a quad whose weights and scales are written.
void FinishQuadBlockTerms(uint8_t* quad, Int8Shape s);

// y[t·ys + r] for r < n_rows (the panel's quads hold them, from row 0) and every token of x.
void Int8PanelTimesTokensAvx512(const uint8_t* panel, int64_t quads, Int8Shape s, const Int8Activations& x, float* y,
                                int64_t ys, int64_t n_rows);

}  // namespace frugal::kernels
