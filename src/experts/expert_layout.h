// Where each routed expert (a numbered locker: layer, id) lies in the model file: the byte
// ranges of its gate, up and down slices in the stacked `ffn_{gate,up,down}_exps` tensors (one
// contiguous range per slice; expert e's slice starts e slices after expert 0's), and the row
// shape the kernels read them with. Built from the model's tensor table by the model layer.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "util/ggml_type.h"

namespace frugal::experts {

struct ExpertKey {
  int layer = 0;
  int id = 0;
  bool operator==(const ExpertKey&) const = default;
};

// One of an expert's three matrices: `rows` rows of `cols` values of `type`, contiguous.
struct SliceShape {
  uint64_t file_offset = 0;  // expert 0's slice
  uint64_t bytes = 0;        // one expert's slice; expert e's starts at file_offset + e · bytes
  GgmlType type = GgmlType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
};

enum ExpertPart { kGate = 0, kUp = 1, kDown = 2 };

struct LayerExperts {
  int n_experts = 0;  // 0: a layer without routed experts
  std::array<SliceShape, 3> parts;  // gate, up, down
  uint64_t ExpertBytes() const { return parts[0].bytes + parts[1].bytes + parts[2].bytes; }
};

struct ExpertLayout {
  std::vector<LayerExperts> layers;  // indexed by layer
  int n_experts_used = 0;            // routed experts per token (top-k)
  uint64_t file_size = 0;

  int n_layers() const { return static_cast<int>(layers.size()); }
  uint64_t TotalBytes() const {
    uint64_t total = 0;
    for (const LayerExperts& l : layers) total += l.ExpertBytes() * static_cast<uint64_t>(l.n_experts);
    return total;
  }
  uint64_t MaxExpertBytes() const {
    uint64_t m = 0;
    for (const LayerExperts& l : layers) m = l.n_experts > 0 && l.ExpertBytes() > m ? l.ExpertBytes() : m;
    return m;
  }
  int MaxExperts() const {
    int m = 0;
    for (const LayerExperts& l : layers) m = l.n_experts > m ? l.n_experts : m;
    return m;
  }
  int TotalExperts() const {
    int n = 0;
    for (const LayerExperts& l : layers) n += l.n_experts;
    return n;
  }
};

}  // namespace frugal::experts
