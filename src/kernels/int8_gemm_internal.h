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

// The parts of one group of a quad (Int8Panel).
struct QuadGroup {
  uint8_t* base;
  int8_t* w(int c, int r) const { return reinterpret_cast<int8_t*>(base + 256 * c + 64 * r); }
  float* scale(int h, int r) const { return reinterpret_cast<float*>(base + 2048 + 256 * h + 64 * r); }
  int32_t* start(int h, int r) const { return reinterpret_cast<int32_t*>(base + 2560 + 256 * h + 64 * r); }
  float* m(int r) const { return reinterpret_cast<float*>(base + 3072 + 64 * r); }
};
inline QuadGroup GroupOf(uint8_t* quad, int64_t g) { return {quad + static_cast<uint64_t>(g) * Int8Panel::kGroupBytes}; }

// start[h][r][j] = −128·Σ w over the chunks of half h (all 8 chunks when halves == 1; half 1
// then zero), from a group whose weights are written.
void FinishGroupStarts(const QuadGroup& q, int halves);

// y[t·ys + r] for r < n_rows (the panel's quads hold them, from row 0) and every token of x.
void Int8PanelTimesTokensAvx512(const uint8_t* panel, int64_t quads, GgmlType type, const Int8Activations& x, float* y,
                                int64_t ys, int64_t n_rows);

}  // namespace frugal::kernels
