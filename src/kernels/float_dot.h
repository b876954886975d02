// Dot products of half-precision weight rows (f16, bf16) with f32 activations: each weight
// converted exactly to f32 and multiplied in f32 — the exact float path without a dequantized
// copy of the row (decode of f16/bf16 files reads 2 bytes a weight at memory speed). The scalar
// references are DequantizeRow + Dot; per-ISA versions are tested against them. Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu_features.h"
#include "util/ggml_type.h"

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

// dst[i] = the f32 value of src's i-th f16 (or bf16) value, exactly; per ISA like the dots.
using HalfToFloatFn = void (*)(const std::byte* src, float* dst, int64_t n);
void F16ToF32Ref(const std::byte* src, float* dst, int64_t n);
void F16ToF32Avx2(const std::byte* src, float* dst, int64_t n);
void F16ToF32Avx512(const std::byte* src, float* dst, int64_t n);
void BF16ToF32Ref(const std::byte* src, float* dst, int64_t n);
void BF16ToF32Avx2(const std::byte* src, float* dst, int64_t n);
void BF16ToF32Avx512(const std::byte* src, float* dst, int64_t n);
// The converter for f16 or bf16 at this level (nullptr for other types).
HalfToFloatFn HalfToFloatFor(GgmlType type, IsaLevel level);

}  // namespace frugal::kernels
