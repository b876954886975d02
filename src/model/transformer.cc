#include "model/transformer.h"

#include <cmath>

#include <fmt/format.h>

#include "kernels/attention_block.h"
#include "kernels/dequantize.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/ffn.h"
#include "model/rope.h"
#include "model/router.h"

namespace frugal::model {
namespace {

// The first non-finite value of x[0, n), or -1.
int64_t FirstNonFinite(const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return i;
  }
  return -1;
}

Status NonFinite(const char* what, int layer) {
  return DataLoss("non-finite {} in layer {} (the model file may hold NaN or infinite weights)", what, layer);
}

}  // namespace

Transformer::Transformer(const LoadedModel& m)
    : Transformer(m.config, m.weights, {.store = m.expert_store.get(), .recorder = m.routing}) {}

Transformer::Transformer(const ModelConfig& config, const Weights& weights, ExpertSources experts)
    : config_(config), weights_(weights), experts_(experts), rope_freqs_(RopeFrequencies(config.rope, config.mla.qk_rope_head_dim)),
      attention_scale_(AttentionScale(config)) {
  if (config.is_v4()) v4_rope_ = V4RopeTablesOf(config);
}

Status Transformer::Layer(int l, std::span<const AttentionSegment> segments, int n, float* x, const ForwardOptions& o,
                          ThreadPool& pool) const {
  const int h = config_.hidden;
  const LayerWeights& w = weights_.layers[l];
  const float eps = static_cast<float>(config_.rms_eps);
  TensorSink* sink = o.sink;
  const size_t size = static_cast<size_t>(n) * h;
  std::vector<float> xn(size), y(size);  // [n, H]
  for (int t = 0; t < n; ++t) kernels::RmsNorm(x + static_cast<size_t>(t) * h, w.attn_norm.data(), h, eps, xn.data() + static_cast<size_t>(t) * h);
  // Checked before the activation quantizers and the router see them (NaN/inf norm weights).
  if (FirstNonFinite(xn.data(), static_cast<int64_t>(size)) >= 0) return NonFinite("attention input", l);
  if (sink) sink->Put(fmt::format("blk.{}.attn_norm", l), xn.data(), {n, h});
  const AttentionInput in{config_, w, rope_freqs_, attention_scale_, l, segments, n, sink, o.exact};
  MlaAttention(in, xn.data(), pool, y.data());
  if (sink) sink->Put(fmt::format("blk.{}.attn_out", l), y.data(), {n, h});
  for (size_t i = 0; i < size; ++i) x[i] += y[i];
  if (FirstNonFinite(x, static_cast<int64_t>(size)) >= 0) return NonFinite("attention output", l);
  for (int t = 0; t < n; ++t) kernels::RmsNorm(x + static_cast<size_t>(t) * h, w.ffn_norm.data(), h, eps, xn.data() + static_cast<size_t>(t) * h);
  if (FirstNonFinite(xn.data(), static_cast<int64_t>(size)) >= 0) return NonFinite("FFN input", l);
  if (sink) sink->Put(fmt::format("blk.{}.ffn_norm", l), xn.data(), {n, h});
  if (config_.IsMoeLayer(l)) {
    FRUGAL_ASSIGN_OR_RETURN(const int routed, MoeFfn(config_, w, l, xn.data(), n, o.exact, pool, sink, experts_, y.data()));
    if (o.counters != nullptr) o.counters->routed_experts += routed;
  } else {
    DenseFfn(w.ffn_gate, w.ffn_up, w.ffn_down, xn.data(), n, o.exact, pool, y.data());
  }
  if (sink) sink->Put(fmt::format("blk.{}.ffn_out", l), y.data(), {n, h});
  for (size_t i = 0; i < size; ++i) x[i] += y[i];
  if (FirstNonFinite(x, static_cast<int64_t>(size)) >= 0) return NonFinite("FFN output", l);
  if (sink) sink->Put(fmt::format("blk.{}.out", l), x, {n, h});
  return OkStatus();
}

void Transformer::PrefetchExperts(int l, const float* x, int n, ThreadPool& pool) const {
  const LayerWeights& w = weights_.layers[static_cast<size_t>(l)];
  const int h = config_.hidden, n_exp = config_.moe.n_experts, k = config_.moe.n_experts_used;
  std::vector<float> xn(static_cast<size_t>(n) * h), logits(static_cast<size_t>(n) * n_exp);
  for (int t = 0; t < n; ++t) {
    kernels::RmsNorm(x + static_cast<size_t>(t) * h, w.ffn_norm.data(), h, static_cast<float>(config_.rms_eps), xn.data() + static_cast<size_t>(t) * h);
  }
  kernels::MatMul(kernels::AllRows(w.gate_inp), xn.data(), logits.data(), {.n_tokens = n, .exact = true}, &pool);
  if (FirstNonFinite(logits.data(), static_cast<int64_t>(logits.size())) >= 0) return;  // the layer itself reports it
  const RouterParams rp = RouterParamsOf(config_.moe, w.exp_bias.empty() ? nullptr : w.exp_bias.data());
  std::vector<uint8_t> wanted(static_cast<size_t>(n_exp));
  std::vector<int> experts(static_cast<size_t>(k));
  std::vector<float> weights(static_cast<size_t>(k));
  for (int t = 0; t < n; ++t) {
    Route(logits.data() + static_cast<size_t>(t) * n_exp, rp, experts.data(), weights.data());
    for (int e : experts) wanted[static_cast<size_t>(e)] = 1;
  }
  std::vector<int> ids;
  for (int e = 0; e < n_exp; ++e) {
    if (wanted[static_cast<size_t>(e)]) ids.push_back(e);
  }
  experts_.store->Prefetch(l, ids);
}

Status Transformer::Forward(std::span<const SequenceChunk> batch, const ForwardOptions& o, ThreadPool& pool,
                            std::vector<float>* logits) const {
  if (config_.is_v4()) return ForwardV4(batch, o, pool, logits);
  const int h = config_.hidden, v = config_.vocab_size;
  int n = 0;
  std::vector<AttentionSegment> segments;
  std::vector<int> logit_rows;  // rows of the step whose logits are asked for
  for (const SequenceChunk& c : batch) {
    const int len = static_cast<int>(c.tokens.size());
    if (len == 0) return InvalidArgument("a sequence of the step has no tokens");
    if (c.pos0 < 0 || c.pos0 + len > c.cache.capacity()) {
      return OutOfRange("positions up to {} exceed the sequence's cache of {} positions", c.pos0 + len, c.cache.capacity());
    }
    for (int32_t id : c.tokens) {
      if (id < 0 || id >= v) return InvalidArgument("token id {} is outside the vocabulary (0..{})", id, v - 1);
    }
    AttentionPath path = o.attention;
    if (path == AttentionPath::kAuto) {
      // The naive path computes K and V of every visible position per head once for the chunk;
      // the absorbed one pays per new token and visible position.
      const double naive_from = !o.exact && kernels::AttentionBlockFastUsable()
                                    ? o.naive_min_tokens_block_kernel
                                    : o.naive_min_tokens + 2.0 * std::sqrt(static_cast<double>(c.pos0));
      path = len >= naive_from ? AttentionPath::kNaive : AttentionPath::kAbsorbed;
    }
    segments.push_back({c.cache, c.pos0, len, n, path});
    if (c.logits == LogitsWanted::kAll) {
      for (int t = 0; t < len; ++t) logit_rows.push_back(n + t);
    } else if (c.logits == LogitsWanted::kLast) {
      logit_rows.push_back(n + len - 1);
    }
    n += len;
  }
  if (n == 0) return InvalidArgument("no tokens to process");
  std::vector<float> x(static_cast<size_t>(n) * h);  // [n, H] residual stream
  int row = 0;
  for (const SequenceChunk& c : batch) {
    for (int32_t id : c.tokens) {
      kernels::DequantizeRow(weights_.token_embd.type, weights_.token_embd.row(static_cast<uint64_t>(id)),
                             x.data() + static_cast<size_t>(row++) * h, h);
    }
  }
  if (experts_.store) experts_.store->BeginStep();
  if (experts_.recorder) experts_.recorder->BeginStep();
  const bool prefetch = experts_.store != nullptr && experts_.store->PrefetchFor(n);
  for (int l = 0; l < config_.n_layers; ++l) {
    // The first MoE layer's experts are predicted from the embeddings; later ones from the
    // previous layer's output, while this layer's attention runs.
    if (prefetch && config_.IsMoeLayer(l)) PrefetchExperts(l, x.data(), n, pool);
    FRUGAL_RETURN_IF_ERROR(Layer(l, segments, n, x.data(), o, pool));
  }
  const int rows = static_cast<int>(logit_rows.size());
  logits->resize(static_cast<size_t>(rows) * v);
  if (rows == 0) return OkStatus();
  std::vector<float> xn(static_cast<size_t>(rows) * h);  // [rows, H]
  for (int r = 0; r < rows; ++r) {
    kernels::RmsNorm(x.data() + static_cast<size_t>(logit_rows[static_cast<size_t>(r)]) * h, weights_.output_norm.data(), h,
                     static_cast<float>(config_.rms_eps), xn.data() + static_cast<size_t>(r) * h);
  }
  if (o.sink) o.sink->Put("result_norm", xn.data(), {rows, h});
  kernels::MatMul(kernels::AllRows(weights_.output), xn.data(), logits->data(), {.n_tokens = rows, .exact = o.exact}, &pool);
  if (o.sink) o.sink->Put("logits", logits->data(), {rows, v});
  if (FirstNonFinite(logits->data(), static_cast<int64_t>(logits->size())) >= 0) return NonFinite("logits", config_.n_layers);
  return OkStatus();
}

}  // namespace frugal::model
