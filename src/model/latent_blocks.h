// How the forward pass sees one sequence's MLA cache: per token per layer only the normalized
// latent (kv_lora_rank values) and the roped shared key (qk_rope_head_dim values) — 576 values
// for V3 — never per-head K/V, stored in blocks of `block_tokens` positions. Block i of a
// sequence holds its positions [i·B, (i+1)·B), every layer in it as [slot][width] values of the
// cache type. The blocks themselves are allocated, shared and evicted by kv/ (the block pool and
// prefix cache); the model only reads and writes rows through this view, run by run.
// A view: copyable, does not own the blocks. Distinct rows may be written concurrently.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "util/ggml_type.h"
#include "util/status.h"

namespace frugal::model {

enum class KvDtype { kF32, kF16, kBF16 };
const char* KvDtypeName(KvDtype dtype);
StatusOr<KvDtype> KvDtypeFromName(const std::string& name);
size_t KvValueBytes(KvDtype dtype);
GgmlType GgmlTypeOf(KvDtype dtype);

struct LatentLayout {
  int width = 0;  // values per position per layer (kv_lora + rope)
  KvDtype dtype = KvDtype::kF16;
  int block_tokens = 0;
  size_t row_bytes() const { return static_cast<size_t>(width) * KvValueBytes(dtype); }
  size_t layer_bytes() const { return static_cast<size_t>(block_tokens) * row_bytes(); }
};

class LatentBlocks {
 public:
  LatentBlocks(const LatentLayout& layout, std::span<std::byte* const> blocks) : layout_(layout), blocks_(blocks) {}

  const LatentLayout& layout() const { return layout_; }
  std::span<std::byte* const> blocks() const { return blocks_; }
  // Positions the blocks can hold.
  int capacity() const { return static_cast<int>(blocks_.size()) * layout_.block_tokens; }

  std::byte* Row(int layer, int pos) const;
  // Stores width values at (layer, pos), rounding to the cache type.
  void Write(int layer, int pos, const float* row) const;
  // Positions [0, n) of a layer as f32 rows [n, width].
  void Read(int layer, int n, float* out) const;
  // fn(first row, first position, count) for each block's part of positions [0, n) of a layer.
  template <typename Fn>
  void ForEachRun(int layer, int n, Fn&& fn) const {
    const int b = layout_.block_tokens;
    for (int first = 0; first < n; first += b) fn(static_cast<const std::byte*>(Row(layer, first)), first, std::min(b, n - first));
  }

 private:
  LatentLayout layout_;
  std::span<std::byte* const> blocks_;  // each block: [layer][slot][width]
};

}  // namespace frugal::model
