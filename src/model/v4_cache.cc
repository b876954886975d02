#include "model/v4_cache.h"

namespace frugal::model {

V4Cache::V4Cache(const ModelConfig& c) {
  const CompressedAttentionConfig& v = c.v4;
  layers_.resize(static_cast<size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    V4LayerCache& lc = layers_[static_cast<size_t>(l)];
    lc.ratio = v.compress_ratios[static_cast<size_t>(l)];
    lc.window.assign(static_cast<size_t>(v.window) * v.head_dim, 0.0f);
    if (lc.ratio > 0) lc.compressor = CompressorState(lc.ratio, v.head_dim);
    if (lc.ratio == 4) lc.index_compressor = CompressorState(4, c.indexer.head_dim);
  }
}

size_t V4Cache::bytes() const {
  size_t b = 0;
  for (const V4LayerCache& lc : layers_) {
    b += (lc.window.size() + lc.compressed.size() + lc.index_keys.size()) * sizeof(float);
    b += lc.compressor.bytes() + lc.index_compressor.bytes();
  }
  return b;
}

}  // namespace frugal::model
