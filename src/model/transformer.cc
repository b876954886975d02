#include "model/transformer.h"

#include <cmath>

#include <fmt/format.h>

#include "kernels/dequantize.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/ffn.h"
#include "model/rope.h"

namespace frugal::model {

Transformer::Transformer(const ModelConfig& config, const Weights& weights)
    : config_(config), weights_(weights), rope_freqs_(RopeFrequencies(config.rope, config.mla.qk_rope_head_dim)),
      attention_scale_(AttentionScale(config)) {}

void Transformer::Layer(int l, int pos0, int n, float* x, LatentCache& cache, const ForwardOptions& o,
                        ThreadPool& pool) const {
  const int h = config_.hidden;
  const LayerWeights& w = weights_.layers[l];
  const float eps = static_cast<float>(config_.rms_eps);
  TensorSink* sink = o.sink;
  const size_t size = static_cast<size_t>(n) * h;
  std::vector<float> xn(size), y(size);  // [n, H]
  for (int t = 0; t < n; ++t) kernels::RmsNorm(x + static_cast<size_t>(t) * h, w.attn_norm.data(), h, eps, xn.data() + static_cast<size_t>(t) * h);
  if (sink) sink->Put(fmt::format("blk.{}.attn_norm", l), xn.data(), {n, h});
  AttentionPath path = o.attention;
  if (path == AttentionPath::kAuto) {
    const double naive_from = o.naive_min_tokens + 2.0 * std::sqrt(static_cast<double>(pos0));
    path = n >= naive_from ? AttentionPath::kNaive : AttentionPath::kAbsorbed;
  }
  const AttentionInput in{config_, w, rope_freqs_, attention_scale_, l, pos0, n, path, sink, o.exact};
  MlaAttention(in, xn.data(), cache, pool, y.data());
  if (sink) sink->Put(fmt::format("blk.{}.attn_out", l), y.data(), {n, h});
  for (size_t i = 0; i < size; ++i) x[i] += y[i];
  for (int t = 0; t < n; ++t) kernels::RmsNorm(x + static_cast<size_t>(t) * h, w.ffn_norm.data(), h, eps, xn.data() + static_cast<size_t>(t) * h);
  if (sink) sink->Put(fmt::format("blk.{}.ffn_norm", l), xn.data(), {n, h});
  if (config_.IsMoeLayer(l)) {
    MoeFfn(config_, w, l, xn.data(), n, o.exact, pool, sink, y.data());
  } else {
    DenseFfn(w.ffn_gate, w.ffn_up, w.ffn_down, xn.data(), n, o.exact, pool, y.data());
  }
  if (sink) sink->Put(fmt::format("blk.{}.ffn_out", l), y.data(), {n, h});
  for (size_t i = 0; i < size; ++i) x[i] += y[i];
  if (sink) sink->Put(fmt::format("blk.{}.out", l), x, {n, h});
}

Status Transformer::Forward(std::span<const int32_t> tokens, int pos0, LatentCache& cache, const ForwardOptions& o,
                            ThreadPool& pool, std::vector<float>* logits) const {
  const int n = static_cast<int>(tokens.size()), h = config_.hidden, v = config_.vocab_size;
  if (n == 0) return InvalidArgument("no tokens to process");
  if (pos0 < 0 || pos0 + n > cache.capacity()) {
    return OutOfRange("context {} exceeds the cache of {} tokens; raise -c", pos0 + n, cache.capacity());
  }
  for (int32_t id : tokens) {
    if (id < 0 || id >= v) return InvalidArgument("token id {} is outside the vocabulary (0..{})", id, v - 1);
  }
  std::vector<float> x(static_cast<size_t>(n) * h);  // [n, H] residual stream
  for (int t = 0; t < n; ++t) {
    kernels::DequantizeRow(weights_.token_embd.type, weights_.token_embd.row(static_cast<uint64_t>(tokens[t])),
                           x.data() + static_cast<size_t>(t) * h, h);
  }
  for (int l = 0; l < config_.n_layers; ++l) Layer(l, pos0, n, x.data(), cache, o, pool);
  const int first = o.all_logits ? 0 : n - 1, rows = n - first;
  std::vector<float> xn(static_cast<size_t>(rows) * h);  // [rows, H]
  for (int t = 0; t < rows; ++t) {
    kernels::RmsNorm(x.data() + static_cast<size_t>(first + t) * h, weights_.output_norm.data(), h,
                     static_cast<float>(config_.rms_eps), xn.data() + static_cast<size_t>(t) * h);
  }
  if (o.sink) o.sink->Put("result_norm", xn.data(), {rows, h});
  logits->resize(static_cast<size_t>(rows) * v);
  kernels::MatMul(kernels::AllRows(weights_.output), xn.data(), logits->data(), {.n_tokens = rows, .exact = o.exact}, &pool);
  if (o.sink) o.sink->Put("logits", logits->data(), {rows, v});
  return OkStatus();
}

}  // namespace frugal::model
