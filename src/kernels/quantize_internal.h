// K-format quantizers behind QuantizeRow; nb = number of 256-element super-blocks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace frugal::kernels {

void QuantQ4_K(const float* x, std::byte* dst, int64_t nb);
void QuantQ5_K(const float* x, std::byte* dst, int64_t nb);
void QuantQ6_K(const float* x, std::byte* dst, int64_t nb);

}  // namespace frugal::kernels
