// The reference of attention_block.h and its scratch size; the AVX-512 kernel is in
// attention_block_avx512.cc.
#include "kernels/attention_block.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/f32_panels.h"

namespace frugal::kernels {

bool AttentionBlockFastUsable() { return F32PanelsUsable() && !AmxUsable(); }

int64_t AttentionBlockScratchFloats(int n_keys, int dk, int dv) {
  constexpr int64_t kPanels = kAttentionBlockMaxQueries / 16;
  return 16 * (kPanels + kPanels * (int64_t{dk} + dv + n_keys));
}

void AttentionBlockRef(const AttentionBlockArgs& a) {
  const int n_keys = a.first_visible + a.n_queries - 1;
  std::vector<double> p(static_cast<size_t>(n_keys));
  std::vector<double> out(static_cast<size_t>(a.dv));
  for (int i = 0; i < a.n_queries; ++i) {
    const int visible = a.first_visible + i;
    const float* q = a.q + i * a.q_stride;
    double mx = -1e300;
    for (int j = 0; j < visible; ++j) {
      const float* k = a.k + j * a.k_stride;
      double s = 0;
      for (int c = 0; c < a.dk; ++c) s += static_cast<double>(q[c]) * k[c];
      p[static_cast<size_t>(j)] = s * a.scale;
      mx = std::max(mx, p[static_cast<size_t>(j)]);
    }
    double sum = 0;
    for (int j = 0; j < visible; ++j) sum += p[static_cast<size_t>(j)] = std::exp(p[static_cast<size_t>(j)] - mx);
    std::fill(out.begin(), out.end(), 0.0);
    for (int j = 0; j < visible; ++j) {
      const float* v = a.v + j * a.v_stride;
      for (int d = 0; d < a.dv; ++d) out[static_cast<size_t>(d)] += p[static_cast<size_t>(j)] * v[d];
    }
    for (int d = 0; d < a.dv; ++d) a.o[i * a.o_stride + d] = static_cast<float>(out[static_cast<size_t>(d)] / sum);
  }
}

}  // namespace frugal::kernels
