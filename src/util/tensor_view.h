// Non-owning views of tensor data in ggml order (ne[0] innermost). Thread-compatible.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "util/ggml_type.h"

namespace frugal {

inline constexpr int kMaxDims = 4;

struct TensorShape {
  int n_dims = 0;
  std::array<uint64_t, kMaxDims> ne{1, 1, 1, 1};  // unused trailing dims are 1

  uint64_t elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  uint64_t rows() const { return ne[1] * ne[2] * ne[3]; }
  bool operator==(const TensorShape& o) const { return n_dims == o.n_dims && ne == o.ne; }
};

// How a row's bytes are ordered: as ggml stores them, or (Q8_0 and Q4_K rows reordered at load
// for the kernels; kernels/panel_rows.h) in panel order — the same bytes per row, another
// arrangement.
enum class RowOrder : uint8_t { kAsStored, kPanels };

// Read-only stored tensor: raw bytes of `type` blocks, rows of ne[0] elements.
struct ConstTensorView {
  const std::byte* data = nullptr;
  GgmlType type = GgmlType::kF32;
  TensorShape shape;
  RowOrder order = RowOrder::kAsStored;

  uint64_t row_bytes() const { return RowBytes(type, shape.ne[0]); }
  const std::byte* row(uint64_t i) const { return data + i * row_bytes(); }
};

}  // namespace frugal
