// Transformer::ForwardV4: the deepseek4 forward pass (../shared/reference/deepseek-architectures.md
// §6; tests/reference/forward_v4.py is the independent reference). The embedding is copied into
// S hyper-connection streams; per layer, attention and then the MoE block each read a weighted
// collapse of the streams (RMSNorm'ed) and write back through the stream mixing; the head
// collapses the streams with its own weights before the final norm and the LM head.
#include <cmath>

#include <fmt/format.h>

#include "kernels/dequantize.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/ffn.h"
#include "model/hyper_connections.h"
#include "model/transformer.h"

namespace frugal::model {
namespace {

bool AllFinite(const float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return false;
  }
  return true;
}

Status NonFiniteV4(const char* what, int layer) {
  return DataLoss("non-finite {} in layer {} (the model file may hold NaN or infinite weights)", what, layer);
}

}  // namespace

Status Transformer::ForwardV4(std::span<const SequenceChunk> batch, const ForwardOptions& o, ThreadPool& pool,
                              std::vector<float>* logits) const {
  const int h = config_.hidden, v = config_.vocab_size, s = config_.hc.n_streams;
  const float eps = static_cast<float>(config_.rms_eps);
  int n = 0;
  std::vector<V4Segment> segments;
  std::vector<int> logit_rows;
  std::vector<int32_t> ids;
  std::vector<V4BlockLayout> layouts;  // one per chunk (its cache's type and block size)
  layouts.reserve(batch.size());
  const V4Shape shape = V4ShapeOf(config_);
  for (const SequenceChunk& c : batch) {
    const int len = static_cast<int>(c.tokens.size());
    if (len == 0) return InvalidArgument("a sequence of the step has no tokens");
    if (c.v4_tail == nullptr) return InvalidArgument("a deepseek4 step needs each sequence's V4 tail state");
    if (c.pos0 != c.v4_tail->length()) {
      return InvalidArgument("a V4 sequence holding {} positions cannot continue at position {}", c.v4_tail->length(), c.pos0);
    }
    const LatentLayout& ll = c.cache.layout();
    if (ll.block_tokens != V4BlockTokens(shape, ll.block_tokens)) {
      return InvalidArgument("V4 cache blocks of {} positions (a multiple of {} is needed)", ll.block_tokens, V4BlockTokens(shape, 1));
    }
    if (c.pos0 + len > c.cache.capacity()) {
      return OutOfRange("positions up to {} exceed the sequence's cache of {} positions", c.pos0 + len, c.cache.capacity());
    }
    layouts.push_back(V4BlockLayout::For(shape, ll.dtype, ll.block_tokens));
    for (int32_t id : c.tokens) {
      if (id < 0 || id >= v) return InvalidArgument("token id {} is outside the vocabulary (0..{})", id, v - 1);
    }
    for (const SequenceChunk& other : batch) {
      if (&other != &c && other.v4_tail == c.v4_tail) return InvalidArgument("a V4 sequence appears twice in one step");
    }
    segments.push_back({c.v4_tail, V4Blocks(layouts.back(), c.cache.blocks()), c.pos0, len, n});
    if (c.logits == LogitsWanted::kAll) {
      for (int t = 0; t < len; ++t) logit_rows.push_back(n + t);
    } else if (c.logits == LogitsWanted::kLast) {
      logit_rows.push_back(n + len - 1);
    }
    ids.insert(ids.end(), c.tokens.begin(), c.tokens.end());
    n += len;
  }
  if (n == 0) return InvalidArgument("no tokens to process");
  const size_t row = static_cast<size_t>(s) * h;
  std::vector<float> streams(static_cast<size_t>(n) * row);  // [n, S, H]
  for (int t = 0; t < n; ++t) {
    float* x = streams.data() + static_cast<size_t>(t) * row;
    kernels::DequantizeRow(weights_.token_embd.type, weights_.token_embd.row(static_cast<uint64_t>(ids[static_cast<size_t>(t)])), x, h);
    for (int k = 1; k < s; ++k) std::copy(x, x + h, x + static_cast<size_t>(k) * h);
  }
  if (experts_.store) experts_.store->BeginStep();
  if (experts_.recorder) experts_.recorder->BeginStep();
  const size_t size = static_cast<size_t>(n) * h;
  std::vector<float> x(size), y(size);
  for (int l = 0; l < config_.n_layers; ++l) {
    const LayerWeights& w = weights_.layers[static_cast<size_t>(l)];
    HcMixes mixes = SubLayerMixes(w.hc_attn, config_.hc, eps, streams.data(), n, h, pool);
    CollapseStreams(streams.data(), mixes.pre.data(), n, s, h, x.data());
    for (int t = 0; t < n; ++t) kernels::RmsNorm(x.data() + static_cast<size_t>(t) * h, w.attn_norm.data(), h, eps, x.data() + static_cast<size_t>(t) * h);
    if (!AllFinite(x.data(), size)) return NonFiniteV4("attention input", l);
    if (o.sink) o.sink->Put(fmt::format("blk.{}.attn_norm", l), x.data(), {n, h});
    V4Attention({config_, w, v4_rope_, l, segments, n, o.exact, o.sink}, x.data(), pool, y.data());
    if (o.sink) o.sink->Put(fmt::format("blk.{}.attn_out", l), y.data(), {n, h});
    ExpandStreams(y.data(), mixes, n, h, streams.data());
    mixes = SubLayerMixes(w.hc_ffn, config_.hc, eps, streams.data(), n, h, pool);
    CollapseStreams(streams.data(), mixes.pre.data(), n, s, h, x.data());
    for (int t = 0; t < n; ++t) kernels::RmsNorm(x.data() + static_cast<size_t>(t) * h, w.ffn_norm.data(), h, eps, x.data() + static_cast<size_t>(t) * h);
    if (!AllFinite(x.data(), size)) return NonFiniteV4("FFN input", l);
    if (o.sink) o.sink->Put(fmt::format("blk.{}.ffn_norm", l), x.data(), {n, h});
    FRUGAL_ASSIGN_OR_RETURN(const int routed, MoeFfn(config_, w, l, x.data(), n, o.exact, pool, o.sink, experts_, y.data(), ids));
    if (o.counters != nullptr) o.counters->routed_experts += routed;
    if (o.sink) o.sink->Put(fmt::format("blk.{}.ffn_out", l), y.data(), {n, h});
    ExpandStreams(y.data(), mixes, n, h, streams.data());
    if (!AllFinite(streams.data(), streams.size())) return NonFiniteV4("layer output", l);
  }
  for (const V4Segment& seg : segments) seg.tail->set_length(seg.pos0 + seg.n);
  const int rows = static_cast<int>(logit_rows.size());
  logits->resize(static_cast<size_t>(rows) * v);
  if (rows == 0) return OkStatus();
  std::vector<float> picked(static_cast<size_t>(rows) * row), xn(static_cast<size_t>(rows) * h);
  for (int r = 0; r < rows; ++r) {
    const float* src = streams.data() + static_cast<size_t>(logit_rows[static_cast<size_t>(r)]) * row;
    std::copy(src, src + row, picked.begin() + static_cast<long>(r) * static_cast<long>(row));
  }
  const std::vector<float> head = HeadWeights(weights_.hc_head, config_.hc, eps, picked.data(), rows, h, pool);
  CollapseStreams(picked.data(), head.data(), rows, s, h, xn.data());
  for (int r = 0; r < rows; ++r) {
    kernels::RmsNorm(xn.data() + static_cast<size_t>(r) * h, weights_.output_norm.data(), h, eps, xn.data() + static_cast<size_t>(r) * h);
  }
  if (o.sink) o.sink->Put("result_norm", xn.data(), {rows, h});
  kernels::MatMul(kernels::AllRows(weights_.output), xn.data(), logits->data(), {.n_tokens = rows, .exact = o.exact}, &pool);
  if (!AllFinite(logits->data(), logits->size())) return NonFiniteV4("logits", config_.n_layers);
  return OkStatus();
}

}  // namespace frugal::model
