// Dot products of half-precision weight rows (f16, bf16) with f32 activations: each weight
// converted exactly to f32 and multiplied in f32 — the exact float path without a dequantized
// copy of the row (decode of f16/bf16 files reads 2 bytes a weight at memory speed). The scalar
// references are DequantizeRow + Dot; per-ISA versions are tested against them. Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu_features.h"

namespace frugal::kernels {

using FloatDotFn = float (*)(const std::byte* w, const float* x, int64_t n);

float DotF16Ref(const std::byte* w, const float* x, int64_t n);
float DotF16Avx2(const std::byte* w, const float* x, int64_t n);
float DotF16Avx512(const std::byte* w, const float* x, int64_t n);
float DotBF16Ref(const std::byte* w, const float* x, int64_t n);
float DotBF16Avx2(const std::byte* w, const float* x, int64_t n);
float DotBF16Avx512(const std::byte* w, const float* x, int64_t n);

FloatDotFn DotF16For(IsaLevel level);
FloatDotFn DotBF16For(IsaLevel level);

}  // namespace frugal::kernels
