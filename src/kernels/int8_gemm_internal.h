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
// (For the scalar unit: the AVX-512 unit computes the same offsets itself, since inline member
// functions would leave weak symbols in it.)
struct QuadGroup {
  uint8_t* base;
  int8_t* w(int c, int r) const { return reinterpret_cast<int8_t*>(base + 256 * c + 64 * r); }
  float* scale(int h, int r) const { return reinterpret_cast<float*>(base + Int8Panel::kScalesAt + 256 * h + 64 * r); }
  int32_t* start(int h, int r) const { return reinterpret_cast<int32_t*>(base + Int8Panel::kStartsAt + 256 * h + 64 * r); }
  float* m(int r) const { return reinterpret_cast<float*>(base + Int8Panel::kOffsetsAt + 64 * r); }
};
inline QuadGroup GroupOf(uint8_t* quad, int64_t g) { return {quad + static_cast<uint64_t>(g) * Int8Panel::kGroupBytes}; }

// start[h][r][j] = −128·Σ w over the chunks of half h (all 8 chunks when halves == 1; half 1
// then zero), from a group whose weights are written.
void FinishGroupStarts(const QuadGroup& q, int halves);

// y[t·ys + r] for r < n_rows (the panel's quads hold them, from row 0) and the n_tokens tokens
// of prepared activations at `acts` (Int8Activations' layout, token_bytes apart); halves and
// offsets as Int8Panel::HalvesOf / HasOffsets of the weight type. Plain arguments only: the
// AVX-512 unit calls no inline member function (no weak symbols).
void Int8PanelTimesTokensAvx512(const uint8_t* panel, int64_t quads, int64_t groups, int halves, bool offsets,
                                const uint8_t* acts, uint64_t token_bytes, int64_t n_tokens, float* y, int64_t ys,
                                int64_t n_rows);

}  // namespace frugal::kernels
