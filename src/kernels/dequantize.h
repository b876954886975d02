// Dequantization of stored rows to f32: the scalar reference every faster kernel is tested
// against. Model-agnostic; thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/ggml_type.h"

namespace frugal::kernels {

// True when DequantizeRow supports `type`.
bool CanDequantize(GgmlType type);
// Dequantizes n elements (a multiple of the type's block size) from src into dst.
void DequantizeRow(GgmlType type, const std::byte* src, float* dst, int64_t n);

}  // namespace frugal::kernels
