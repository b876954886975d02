// DeepSeek-V4's manifold-constrained hyper-connections (../shared/reference/deepseek-architectures.md
// §6.7; llama.cpp's deepseek4 graph agrees): the residual stream of a token is S streams
// X[S, H]. Before each sub-layer a 4d→(2+S)·S product of the RMS-normalized flattened streams
// gives, through `scale` and `base`, the sub-layer's input weights pre (sigmoid + eps), its
// output weights post (2·sigmoid) and a stream-mixing matrix comb (softmax over destinations,
// + eps, then Sinkhorn normalization to doubly stochastic); the sub-layer reads Σ_s pre_s·X_s,
// and X'_d = post_d·f + Σ_s comb[s][d]·X_s. The head collapses the streams with its own
// sigmoid weights. Pure functions over caller-owned rows; thread-compatible.
#pragma once

#include <vector>

#include "model/config.h"
#include "model/weights.h"
#include "util/thread_pool.h"

namespace frugal::model {

// One sub-layer's mixes for n tokens: pre/post [n, S], comb [n, S (source), S (destination)].
struct HcMixes {
  int n_streams = 0;
  std::vector<float> pre, post, comb;
};

// In place on one S×S matrix m[src·S + dst] (already softmaxed over dst, + eps): divide each
// column by its sum + eps, then (iterations − 1) times rows, then columns.
void SinkhornNormalize(float* m, int n_streams, int iterations, float eps);

// streams: [n, S, H].
HcMixes SubLayerMixes(const HcWeights& w, const HyperConnectionConfig& hc, float rms_eps, const float* streams, int n, int hidden,
                      ThreadPool& pool);
// x[t] = Σ_s weights[t, s] · streams[t, s]   (x: [n, H])
void CollapseStreams(const float* streams, const float* weights, int n, int n_streams, int hidden, float* x);
// streams[t, d] ← post[t, d] · f[t] + Σ_s comb[t, s, d] · streams[t, s]
void ExpandStreams(const float* f, const HcMixes& m, int n, int hidden, float* streams);
// The head's collapse weights [n, S]: sigmoid(mix · scale + base) + eps.
std::vector<float> HeadWeights(const HcWeights& w, const HyperConnectionConfig& hc, float rms_eps, const float* streams, int n,
                               int hidden, ThreadPool& pool);

}  // namespace frugal::model
