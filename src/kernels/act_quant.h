// Quantized activations for integer dot products with quantized weights: an f32 row in blocks
// of 32 with one f32 scale each and 16-bit integers. 16 bits (not llama.cpp's 8) keep the
// rounding error near 3e-5 of a block's largest value, so MoE routing near ties does not flip
// and the fast path stays close to the exact one; VNNI's vpdpwssd multiplies int16 pairs at
// the same instruction count per block as 8-bit vpdpbusd would need with its sign tricks.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu_features.h"

namespace frugal::kernels {

struct BlockQ16Act {
  float d;          // x ≈ d · q
  int16_t qs[32];
};
static_assert(sizeof(BlockQ16Act) == 68);

// n must be a multiple of 32.
void QuantizeActivations(const float* x, int64_t n, BlockQ16Act* out);

// Σ_k w[k]·x[k] for a Q8_0 weight row (n/32 blocks) and quantized activations.
float DotQ8_0Ref(const std::byte* w, const BlockQ16Act* x, int64_t n);
float DotQ8_0Avx2(const std::byte* w, const BlockQ16Act* x, int64_t n);
float DotQ8_0Avx512Vnni(const std::byte* w, const BlockQ16Act* x, int64_t n);

using DotQ8Fn = float (*)(const std::byte*, const BlockQ16Act*, int64_t);
DotQ8Fn DotQ8_0For(IsaLevel level);

}  // namespace frugal::kernels
