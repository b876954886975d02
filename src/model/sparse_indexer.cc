#include "model/sparse_indexer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/matmul.h"

namespace frugal::model {
namespace {

// RoPE on pairs (x[i], x[i + half]) by angle i: the indexer's order (the MLA heads rotate
// adjacent pairs).
void RotateHalves(float* x, int half, const float* cos, const float* sin) {
  for (int i = 0; i < half; ++i) {
    const float a = x[i], b = x[i + half];
    x[i] = a * cos[i] - b * sin[i];
    x[i + half] = a * sin[i] + b * cos[i];
  }
}

// (x − mean) / √(var + eps) · weight + bias, in place.
void LayerNormInPlace(float* x, int n, const float* weight, const float* bias, float eps) {
  double mean = 0;
  for (int i = 0; i < n; ++i) mean += x[i];
  mean /= n;
  double var = 0;
  for (int i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= n;
  const double inv = 1.0 / std::sqrt(var + eps);
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>((x[i] - mean) * inv) * weight[i] + bias[i];
}

}  // namespace

std::vector<TokenSelection> RunIndexer(const AttentionInput& in, const float* xn, const float* cq, const float* cos,
                                       const float* sin, ThreadPool& pool) {
  const ModelConfig& c = in.config;
  const IndexerConfig& ix = c.indexer;
  const int T = in.n_tokens, NI = ix.n_heads, D = ix.head_dim, half = c.mla.qk_rope_head_dim / 2;
  const int width = c.mla.latent_width(), key_layer = c.n_layers + in.layer;
  std::vector<float> q(static_cast<size_t>(T) * NI * D), k(static_cast<size_t>(T) * D), w(static_cast<size_t>(T) * NI);
  kernels::MatMul(kernels::AllRows(in.weights.idx_q_b), cq, q.data(), {.n_tokens = T, .exact = true}, &pool);  // [T, NI·D]
  kernels::MatMul(kernels::AllRows(in.weights.idx_k), xn, k.data(), {.n_tokens = T, .exact = true}, &pool);     // [T, D]
  kernels::MatMul(kernels::AllRows(in.weights.idx_proj), xn, w.data(), {.n_tokens = T, .exact = true}, &pool);  // [T, NI]
  const float w_scale = 1.0f / std::sqrt(static_cast<float>(NI) * static_cast<float>(D));
  std::vector<float> row(static_cast<size_t>(width), 0.0f);
  for (const AttentionSegment& seg : in.segments) {
    for (int i = 0; i < seg.n; ++i) {
      const size_t t = static_cast<size_t>(seg.row + i);
      const float* ct = cos + t * half;
      const float* st = sin + t * half;
      for (int h = 0; h < NI; ++h) RotateHalves(q.data() + (t * NI + h) * D, half, ct, st);
      float* kt = k.data() + t * D;
      LayerNormInPlace(kt, D, in.weights.idx_k_norm.data(), in.weights.idx_k_norm_bias.data(), 1e-6f);
      RotateHalves(kt, half, ct, st);
      for (int h = 0; h < NI; ++h) w[t * NI + h] *= w_scale;
      std::copy(kt, kt + D, row.begin());  // the rest of the cache row stays 0
      seg.cache.Write(key_layer, seg.pos0 + i, row.data());
    }
  }
  std::vector<TokenSelection> out(in.segments.size());
  constexpr int kQueryBlock = 16;  // tokens whose q·k products are computed together
  std::vector<float> dots;         // [block tokens · NI, keys]
  for (size_t s = 0; s < in.segments.size(); ++s) {
    const AttentionSegment& seg = in.segments[s];
    const int n_ctx = seg.pos0 + seg.n;
    if (n_ctx <= ix.top_k) continue;  // every token sees at most top_k positions: all of them
    std::vector<float> keys(static_cast<size_t>(n_ctx) * width);  // cached keys as stored (cache type)
    seg.cache.Read(key_layer, n_ctx, keys.data());
    TokenSelection& sel = out[s];
    sel.n_ctx = n_ctx;
    sel.keep.assign(static_cast<size_t>(seg.n) * n_ctx, 0);
    for (int t0 = 0; t0 < seg.n; t0 += kQueryBlock) {
      const int nt = std::min(kQueryBlock, seg.n - t0), n_keys = seg.pos0 + t0 + nt;
      // q_h(t)·k_j for the block's (token, head) rows and every key the block sees: [nt·NI, n_keys],
      // on exact float products (the choices must not depend on activation rounding).
      const kernels::WeightRows key_rows{reinterpret_cast<const std::byte*>(keys.data()), GgmlType::kF32, D, n_keys,
                                         static_cast<uint64_t>(width) * sizeof(float)};
      dots.resize(static_cast<size_t>(nt) * NI * n_keys);
      kernels::MatMul(key_rows, q.data() + static_cast<size_t>(seg.row + t0) * NI * D, dots.data(),
                      {.n_tokens = nt * NI, .y_stride = n_keys, .exact = true}, &pool);
      pool.ParallelForDynamic(nt, 1, [&](int64_t begin, int64_t end, int) {
        std::vector<double> scores;
        std::vector<int> order;
        for (int64_t i = begin; i < end; ++i) {
          const int token = t0 + static_cast<int>(i);
          const size_t t = static_cast<size_t>(seg.row + token);
          const int n_vis = seg.pos0 + token + 1;
          uint8_t* keep = sel.keep.data() + static_cast<size_t>(token) * n_ctx;
          if (n_vis <= ix.top_k) {
            std::fill(keep, keep + n_vis, uint8_t{1});
            continue;
          }
          scores.assign(static_cast<size_t>(n_vis), 0.0);
          for (int h = 0; h < NI; ++h) {
            const float* dh = dots.data() + (static_cast<size_t>(i) * NI + h) * n_keys;
            const double wh = w[t * NI + h];
            for (int j = 0; j < n_vis; ++j) scores[static_cast<size_t>(j)] += std::max(static_cast<double>(dh[j]), 0.0) * wh;
          }
          order.resize(static_cast<size_t>(n_vis));
          std::iota(order.begin(), order.end(), 0);
          std::partial_sort(order.begin(), order.begin() + ix.top_k, order.end(), [&](int a, int b) {
            const double sa = scores[static_cast<size_t>(a)], sb = scores[static_cast<size_t>(b)];
            return sa != sb ? sa > sb : a < b;
          });
          for (int r = 0; r < ix.top_k; ++r) keep[order[static_cast<size_t>(r)]] = 1;
        }
      });
    }
  }
  return out;
}

}  // namespace frugal::model
