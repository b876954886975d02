// Quantization of f32 rows into stored formats, for the model generator and for tests.
// Simple per-block scale choices (not ggml's error-minimizing search): any encoding that
// dequantizes by the layout formulas is a valid file. Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/ggml_type.h"

namespace frugal::kernels {

// Types QuantizeRow can write: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_K, q5_K, q6_K.
bool CanQuantize(GgmlType type);
// Quantizes n elements (a multiple of the block size) from src into dst (RowBytes(type, n)).
void QuantizeRow(GgmlType type, const float* src, std::byte* dst, int64_t n);

}  // namespace frugal::kernels
