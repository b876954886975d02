#include "model/hyper_connections.h"

#include <cmath>

#include "kernels/matmul.h"
#include "kernels/ops.h"

namespace frugal::model {
namespace {

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// mixes[t] = fn · (flat streams of t, RMS-normalized without weight): [n, out], computed as
// (fn · flat) / rms(flat) — the normalization is one scalar per token, so the product needs no
// normalized copy of the streams.
std::vector<float> Mixes(const HcWeights& w, int n_streams, float rms_eps, const float* streams, int n, int hidden, ThreadPool& pool) {
  const int64_t flat = static_cast<int64_t>(n_streams) * hidden, out = w.fn.shape.ne[1];
  std::vector<float> mixes(static_cast<size_t>(n * out));
  kernels::MatMul(kernels::AllRows(w.fn), streams, mixes.data(), {.n_tokens = n, .exact = true}, &pool);
  for (int t = 0; t < n; ++t) {
    const float* x = streams + t * flat;
    double ss = 0;
    for (int64_t i = 0; i < flat; ++i) ss += static_cast<double>(x[i]) * x[i];
    const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(flat) + rms_eps));
    for (int64_t i = 0; i < out; ++i) mixes[static_cast<size_t>(t * out + i)] *= scale;
  }
  return mixes;
}

}  // namespace

void SinkhornNormalize(float* m, int s, int iterations, float eps) {
  auto columns = [&] {
    for (int d = 0; d < s; ++d) {
      float sum = 0;
      for (int r = 0; r < s; ++r) sum += m[r * s + d];
      for (int r = 0; r < s; ++r) m[r * s + d] /= sum + eps;
    }
  };
  auto rows = [&] {
    for (int r = 0; r < s; ++r) {
      float sum = 0;
      for (int d = 0; d < s; ++d) sum += m[r * s + d];
      for (int d = 0; d < s; ++d) m[r * s + d] /= sum + eps;
    }
  };
  columns();
  for (int i = 1; i < iterations; ++i) {
    rows();
    columns();
  }
}

HcMixes SubLayerMixes(const HcWeights& w, const HyperConnectionConfig& hc, float rms_eps, const float* streams, int n, int hidden,
                      ThreadPool& pool) {
  const int s = hc.n_streams, width = (2 + s) * s;
  const float eps = static_cast<float>(hc.eps);
  const std::vector<float> mixes = Mixes(w, s, rms_eps, streams, n, hidden, pool);
  HcMixes m{s, std::vector<float>(static_cast<size_t>(n * s)), std::vector<float>(static_cast<size_t>(n * s)),
            std::vector<float>(static_cast<size_t>(n * s * s))};
  for (int t = 0; t < n; ++t) {
    const float* mix = mixes.data() + static_cast<size_t>(t) * width;
    for (int i = 0; i < s; ++i) {
      m.pre[t * s + i] = Sigmoid(mix[i] * w.scale[0] + w.base[i]) + eps;
      m.post[t * s + i] = 2.0f * Sigmoid(mix[s + i] * w.scale[1] + w.base[s + i]);
    }
    float* comb = m.comb.data() + static_cast<size_t>(t) * s * s;
    for (int i = 0; i < s * s; ++i) comb[i] = mix[2 * s + i] * w.scale[2] + w.base[2 * s + i];
    for (int src = 0; src < s; ++src) {  // softmax over the destinations, + eps
      float* row = comb + src * s;
      float mx = row[0];
      for (int d = 1; d < s; ++d) mx = std::max(mx, row[d]);
      float sum = 0;
      for (int d = 0; d < s; ++d) sum += row[d] = std::exp(row[d] - mx);
      for (int d = 0; d < s; ++d) row[d] = row[d] / sum + eps;
    }
    SinkhornNormalize(comb, s, hc.sinkhorn_iterations, eps);
  }
  return m;
}

void CollapseStreams(const float* streams, const float* weights, int n, int s, int hidden, float* x) {
  for (int t = 0; t < n; ++t) {
    float* out = x + static_cast<size_t>(t) * hidden;
    const float* in = streams + static_cast<size_t>(t) * s * hidden;
    for (int i = 0; i < hidden; ++i) out[i] = 0;
    for (int k = 0; k < s; ++k) kernels::Axpy(weights[t * s + k], in + static_cast<size_t>(k) * hidden, out, hidden);
  }
}

void ExpandStreams(const float* f, const HcMixes& m, int n, int hidden, float* streams) {
  const int s = m.n_streams;
  std::vector<float> old(static_cast<size_t>(s) * hidden);
  for (int t = 0; t < n; ++t) {
    float* x = streams + static_cast<size_t>(t) * s * hidden;
    std::copy(x, x + old.size(), old.begin());
    const float* comb = m.comb.data() + static_cast<size_t>(t) * s * s;
    for (int d = 0; d < s; ++d) {
      float* out = x + static_cast<size_t>(d) * hidden;
      const float post = m.post[t * s + d];
      const float* ft = f + static_cast<size_t>(t) * hidden;
      for (int i = 0; i < hidden; ++i) out[i] = post * ft[i];
      for (int src = 0; src < s; ++src) kernels::Axpy(comb[src * s + d], old.data() + static_cast<size_t>(src) * hidden, out, hidden);
    }
  }
}

std::vector<float> HeadWeights(const HcWeights& w, const HyperConnectionConfig& hc, float rms_eps, const float* streams, int n,
                               int hidden, ThreadPool& pool) {
  const int s = hc.n_streams;
  std::vector<float> mixes = Mixes(w, s, rms_eps, streams, n, hidden, pool);
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i < s; ++i) {
      float& v = mixes[static_cast<size_t>(t) * s + i];
      v = Sigmoid(v * w.scale[0] + w.base[i]) + static_cast<float>(hc.eps);
    }
  }
  return mixes;
}

}  // namespace frugal::model
