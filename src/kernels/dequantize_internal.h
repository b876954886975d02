// Per-family scalar dequantizers behind DequantizeRow; nb = number of blocks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace frugal::kernels {

void DequantQ2_K(const std::byte* src, float* y, int64_t nb);
void DequantQ3_K(const std::byte* src, float* y, int64_t nb);
void DequantQ4_K(const std::byte* src, float* y, int64_t nb);
void DequantQ5_K(const std::byte* src, float* y, int64_t nb);
void DequantQ6_K(const std::byte* src, float* y, int64_t nb);

}  // namespace frugal::kernels
