#include "model/router.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace frugal::model {

RouterParams RouterParamsOf(const MoeConfig& m, const float* bias) {
  return {.n_experts = m.n_experts, .top_k = m.n_experts_used, .n_groups = m.n_groups,
          .n_groups_used = m.n_groups_used, .gating = m.gating, .normalize = m.weights_norm,
          .scale = static_cast<float>(m.weights_scale), .bias = bias};
}

namespace {

// Indices of the k largest values, larger first, ties to the lower index.
std::vector<int> TopK(const std::vector<float>& v, int k) {
  std::vector<int> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int a, int b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  idx.resize(static_cast<size_t>(k));
  return idx;
}

}  // namespace

void Route(const float* logits, const RouterParams& p, int* experts, float* weights, const int32_t* fixed) {
  const int n = p.n_experts;
  std::vector<float> scores(logits, logits + n);
  if (p.gating == GatingFunction::kSqrtSoftplus) {
    for (float& s : scores) s = std::sqrt(s > 20.0f ? s : std::log1p(std::exp(s)));
  } else if (p.gating == GatingFunction::kSoftmax) {
    const float mx = *std::max_element(scores.begin(), scores.end());
    double sum = 0;
    for (float& s : scores) sum += (s = std::exp(s - mx));
    for (float& s : scores) s = static_cast<float>(s / sum);
  } else {
    for (float& s : scores) s = 1.0f / (1.0f + std::exp(-s));
  }
  std::vector<float> select = scores;
  if (p.bias != nullptr) {
    for (int e = 0; e < n; ++e) select[e] += p.bias[e];
  }
  if (p.n_groups > 1) {
    const int per_group = n / p.n_groups;
    std::vector<float> group_score(static_cast<size_t>(p.n_groups));
    for (int g = 0; g < p.n_groups; ++g) {
      std::vector<float> members(select.begin() + g * per_group, select.begin() + (g + 1) * per_group);
      std::sort(members.begin(), members.end(), std::greater<>());
      group_score[g] = p.gating == GatingFunction::kSoftmax ? members[0]
                                                            : members[0] + (per_group > 1 ? members[1] : 0.0f);
    }
    const std::vector<int> keep = TopK(group_score, p.n_groups_used);
    std::vector<bool> kept(static_cast<size_t>(p.n_groups), false);
    for (int g : keep) kept[g] = true;
    for (int e = 0; e < n; ++e) {
      if (!kept[e / per_group]) select[e] = -std::numeric_limits<float>::infinity();
    }
  }
  const std::vector<int> chosen = fixed != nullptr ? std::vector<int>(fixed, fixed + p.top_k) : TopK(select, p.top_k);
  double sum = 0;
  for (int k = 0; k < p.top_k; ++k) {
    experts[k] = chosen[k];
    weights[k] = scores[chosen[k]];
    sum += weights[k];
  }
  for (int k = 0; k < p.top_k; ++k) {
    if (p.normalize && sum > 0) weights[k] = static_cast<float>(weights[k] / sum);
    weights[k] *= p.scale;
  }
}

}  // namespace frugal::model
