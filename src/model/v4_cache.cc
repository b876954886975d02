#include "model/v4_cache.h"

#include <algorithm>
#include <cstring>

#include "kernels/dequantize.h"
#include "kernels/quantize.h"

namespace frugal::model {

V4Shape V4ShapeOf(const ModelConfig& c) {
  return {c.n_layers, c.v4.head_dim, c.indexer.head_dim, c.v4.window, c.v4.compress_ratios};
}

int V4BlockTokens(const V4Shape& shape, int requested) {
  int unit = 4;
  for (int r : shape.ratios) unit = std::max(unit, r);
  return std::max(unit, (requested + unit - 1) / unit * unit);
}

V4BlockLayout V4BlockLayout::For(const V4Shape& s, KvDtype dtype, int block_tokens) {
  V4BlockLayout l{block_tokens, dtype, s.head_dim, s.index_dim, s.ratios, {}, {}, 0};
  const size_t value = KvValueBytes(dtype);
  for (int layer = 0; layer < s.n_layers; ++layer) {
    const size_t rows = static_cast<size_t>(l.rows_per_block(layer));
    l.rows_offset.push_back(l.block_bytes);
    l.block_bytes += rows * static_cast<size_t>(s.head_dim) * value;
    l.keys_offset.push_back(l.block_bytes);
    if (s.ratios[static_cast<size_t>(layer)] == 4) l.block_bytes += rows * static_cast<size_t>(s.index_dim) * value;
  }
  return l;
}

std::byte* V4Blocks::RowAt(int layer, int index) const {
  const int per = layout_->rows_per_block(layer);
  const size_t row = static_cast<size_t>(layout_->head_dim) * KvValueBytes(layout_->dtype);
  return blocks_[static_cast<size_t>(index / per)] + layout_->rows_offset[static_cast<size_t>(layer)] + static_cast<size_t>(index % per) * row;
}

std::byte* V4Blocks::KeyAt(int layer, int index) const {
  const int per = layout_->rows_per_block(layer);
  const size_t row = static_cast<size_t>(layout_->index_dim) * KvValueBytes(layout_->dtype);
  return blocks_[static_cast<size_t>(index / per)] + layout_->keys_offset[static_cast<size_t>(layer)] + static_cast<size_t>(index % per) * row;
}

// Rows in the cache type, rounded and read back as the MLA latent is (kernels' f32/f16/bf16 rows).
void V4Blocks::WriteRow(int layer, int index, const float* row) const {
  kernels::QuantizeRow(GgmlTypeOf(layout_->dtype), row, RowAt(layer, index), layout_->head_dim);
}
void V4Blocks::ReadRow(int layer, int index, float* out) const {
  kernels::DequantizeRow(GgmlTypeOf(layout_->dtype), RowAt(layer, index), out, layout_->head_dim);
}
void V4Blocks::WriteKey(int layer, int index, const float* key) const {
  kernels::QuantizeRow(GgmlTypeOf(layout_->dtype), key, KeyAt(layer, index), layout_->index_dim);
}

V4Tail::V4Tail(const V4Shape& shape) : shape_(shape) { Reset(); }

void V4Tail::Reset() {
  length_ = 0;
  layers_.assign(static_cast<size_t>(shape_.n_layers), {});
  for (int l = 0; l < shape_.n_layers; ++l) {
    V4LayerTail& t = layers_[static_cast<size_t>(l)];
    const int ratio = shape_.ratios[static_cast<size_t>(l)];
    t.window.assign(static_cast<size_t>(shape_.window) * shape_.head_dim, 0.0f);
    if (ratio > 0) t.compressor = CompressorState(ratio, shape_.head_dim);
    if (ratio == 4) t.index_compressor = CompressorState(4, shape_.index_dim);
  }
}

void V4Tail::SaveImage(std::byte* out) const {
  const int64_t n = length_;
  std::memcpy(out, &n, sizeof n);
  out += sizeof n;
  for (const V4LayerTail& t : layers_) {
    std::memcpy(out, t.window.data(), t.window.size() * sizeof(float));
    out += t.window.size() * sizeof(float);
    t.compressor.Save(out);
    out += t.compressor.bytes();
    t.index_compressor.Save(out);
    out += t.index_compressor.bytes();
  }
}

void V4Tail::LoadImage(const std::byte* in) {
  int64_t n = 0;
  std::memcpy(&n, in, sizeof n);
  length_ = static_cast<int>(n);
  in += sizeof n;
  for (V4LayerTail& t : layers_) {
    std::memcpy(t.window.data(), in, t.window.size() * sizeof(float));
    in += t.window.size() * sizeof(float);
    t.compressor.Load(in);
    in += t.compressor.bytes();
    t.index_compressor.Load(in);
    in += t.index_compressor.bytes();
  }
}

size_t V4Tail::bytes() const {
  size_t b = 0;
  for (const V4LayerTail& t : layers_) b += t.window.size() * sizeof(float) + t.compressor.bytes() + t.index_compressor.bytes();
  return b;
}

}  // namespace frugal::model
