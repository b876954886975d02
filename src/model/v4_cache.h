// How the forward pass sees one sequence's DeepSeek-V4 attention state
// (../shared/reference/deepseek-architectures.md §6.3–6.4), in two parts:
//  - V4Blocks: what grows with the sequence, in the paged pool's blocks (kv/ allocates, shares
//    and evicts them as it does MLA latents): per block of B positions (a multiple of 128) and
//    per layer, the compressed rows of the block's B/ratio compression blocks (ratio 4 or 128)
//    and, ratio 4, the indexer's key of each; window-only layers store nothing. Rows are held in
//    the cache type (f32/f16/bf16) like the MLA latent.
//  - V4Tail: what a sequence needs at its end and nothing more: per layer the last `window` raw
//    K=V rows (a ring, slot pos % window) and the compressors' partial-block state — a constant
//    size per sequence, kept in f32. Its length is the positions computed.
// Together they let a sequence run in steps of any size with the results of one pass.
// Views are copyable and own nothing; a V4Tail belongs to one sequence. Engine thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "model/compressor.h"
#include "model/config.h"
#include "model/latent_blocks.h"

namespace frugal::model {

// What a V4 cache needs from the model's configuration.
struct V4Shape {
  int n_layers = 0, head_dim = 0, index_dim = 0, window = 0;
  std::vector<int> ratios;  // per layer: 0, 4 or 128
};
V4Shape V4ShapeOf(const ModelConfig& config);
// Block sizes V4 blocks allow: multiples of the largest ratio (128), so that no compression
// block straddles two pool blocks.
int V4BlockTokens(const V4Shape& shape, int requested);

struct V4BlockLayout {
  int block_tokens = 0;
  KvDtype dtype = KvDtype::kF16;
  int head_dim = 0, index_dim = 0;
  std::vector<int> ratios;
  std::vector<size_t> rows_offset, keys_offset;  // per layer, bytes from the block's start
  size_t block_bytes = 0;

  static V4BlockLayout For(const V4Shape& shape, KvDtype dtype, int block_tokens);
  int rows_per_block(int layer) const { return ratios[static_cast<size_t>(layer)] ? block_tokens / ratios[static_cast<size_t>(layer)] : 0; }
};

class V4Blocks {
 public:
  V4Blocks(const V4BlockLayout& layout, std::span<std::byte* const> blocks) : layout_(&layout), blocks_(blocks) {}

  const V4BlockLayout& layout() const { return *layout_; }
  // Compression blocks of `layer` the pool blocks can hold.
  int capacity(int layer) const { return static_cast<int>(blocks_.size()) * layout_->rows_per_block(layer); }
  void WriteRow(int layer, int index, const float* row) const;  // compressed row `index`
  void ReadRow(int layer, int index, float* out) const;
  void WriteKey(int layer, int index, const float* key) const;  // the indexer's key of row `index`
  // fn(first index, count, stored keys) for each pool block's run of keys [0, n) of a layer.
  template <typename Fn>
  void ForEachKeyRun(int layer, int n, Fn&& fn) const {
    const int per = layout_->rows_per_block(layer);
    for (int first = 0; first < n; first += per) fn(first, std::min(per, n - first), KeyAt(layer, first));
  }

 private:
  std::byte* RowAt(int layer, int index) const;
  std::byte* KeyAt(int layer, int index) const;

  const V4BlockLayout* layout_;
  std::span<std::byte* const> blocks_;
};

struct V4LayerTail {
  std::vector<float> window;         // [window, head_dim]
  CompressorState compressor;        // ratio > 0
  CompressorState index_compressor;  // ratio 4
};

class V4Tail {
 public:
  explicit V4Tail(const V4Shape& shape);

  int length() const { return length_; }
  void set_length(int n) { length_ = n; }
  V4LayerTail& layer(int l) { return layers_[static_cast<size_t>(l)]; }
  const V4LayerTail& layer(int l) const { return layers_[static_cast<size_t>(l)]; }
  size_t bytes() const;
  // Back to an empty sequence.
  void Reset();
  // A flat image of the whole state (its length, then per layer the window and the compressors'
  // state), image_bytes() long: the prefix cache keeps one where a sequence ended on a block
  // boundary, and a sequence that resumes there loads it.
  size_t image_bytes() const { return sizeof(int64_t) + bytes(); }
  void SaveImage(std::byte* out) const;
  void LoadImage(const std::byte* in);

 private:
  V4Shape shape_;
  int length_ = 0;
  std::vector<V4LayerTail> layers_;
};

}  // namespace frugal::model
