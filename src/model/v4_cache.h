// One sequence's DeepSeek-V4 attention state (../shared/reference/deepseek-architectures.md
// §6.3–6.4), per layer: the last `window` raw K=V rows (a ring, slot pos % window), the
// compressed rows of every complete block (ratio 4 or 128), the indexer's key per complete block
// (ratio 4), and the compressors' partial-block state — everything a token at the next position
// needs, so a sequence runs in steps of any size with the same results as one pass. Rows are f32.
// Owned by the caller (one per sequence); the forward pass reads and appends. Engine thread.
#pragma once

#include <cstddef>
#include <vector>

#include "model/compressor.h"
#include "model/config.h"

namespace frugal::model {

struct V4LayerCache {
  int ratio = 0;
  std::vector<float> window;      // [window, head_dim]
  std::vector<float> compressed;  // [complete blocks, head_dim]
  std::vector<float> index_keys;  // [complete blocks, indexer head_dim] (ratio 4)
  CompressorState compressor;     // ratio > 0
  CompressorState index_compressor;  // ratio 4
};

class V4Cache {
 public:
  explicit V4Cache(const ModelConfig& config);

  int length() const { return length_; }  // positions computed
  void set_length(int n) { length_ = n; }
  V4LayerCache& layer(int l) { return layers_[static_cast<size_t>(l)]; }
  const V4LayerCache& layer(int l) const { return layers_[static_cast<size_t>(l)]; }
  // Bytes held now: windows, compressed rows, index keys and compressor states.
  size_t bytes() const;

 private:
  int length_ = 0;
  std::vector<V4LayerCache> layers_;
};

}  // namespace frugal::model
