// Test support: a random matrix stored as a given type, with its stored values as f32 (for
// double-precision references). Header-only; for the kernels' tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/dequantize.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "util/rng.h"

namespace frugal::kernels {

struct StoredMatrix {
  GgmlType type;
  int64_t rows, cols;
  std::vector<std::byte> bytes;
  std::vector<float> dense;  // the stored values as f32, [rows, cols]
  WeightRows view() const { return {bytes.data(), type, cols, rows}; }
};

// Values Gaussian(mean, 1) before quantization.
inline StoredMatrix MakeStoredMatrix(GgmlType type, int64_t rows, int64_t cols, Rng& rng, double mean = 0.0) {
  const uint64_t rb = RowBytes(type, static_cast<uint64_t>(cols));
  StoredMatrix m{type, rows, cols, std::vector<std::byte>(rb * static_cast<uint64_t>(rows)),
                 std::vector<float>(static_cast<size_t>(rows * cols))};
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : row) v = static_cast<float>(rng.Gaussian() + mean);
    QuantizeRow(type, row.data(), m.bytes.data() + rb * static_cast<uint64_t>(r), cols);
    DequantizeRow(type, m.bytes.data() + rb * static_cast<uint64_t>(r), m.dense.data() + r * cols, cols);
  }
  return m;
}

}  // namespace frugal::kernels
