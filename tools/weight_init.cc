#include "tools/weight_init.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/rng.h"

namespace frugal::tools {
namespace {
// Strength of the planted structure relative to the random part (see class comment):
// embedding topic component = 3 × the norm of the random part, so a normalized hidden state
// points mostly along its topic; router rows of popular experts gain 0.1 × topic direction,
// about 5 standard deviations of the random router score.
constexpr float kEmbeddingTopicScale = 3.0f;
constexpr float kRouterTopicScale = 0.1f;
constexpr float kBiasBonus = 0.05f;
constexpr float kBiasStd = 0.01f;
}  // namespace

WeightInit::WeightInit(const model::ModelConfig& config, uint64_t seed, bool skew)
    : config_(config), seed_(seed), skew_(skew) {
  if (!skew_) return;
  for (int k = 0; k < kTopics; ++k) {
    Rng rng(SplitMix64(seed ^ HashName("topic")) + static_cast<uint64_t>(k));
    std::vector<float> dir(static_cast<size_t>(config.hidden));
    double norm = 0;
    for (float& x : dir) {
      x = static_cast<float>(rng.Gaussian());
      norm += static_cast<double>(x) * x;
    }
    for (float& x : dir) x = static_cast<float>(x / std::sqrt(norm));
    topic_dirs_.push_back(std::move(dir));
  }
  const int n_experts = config.moe.n_experts;
  const int n_popular = std::max(1, n_experts / 8);
  popular_.resize(static_cast<size_t>(config.n_layers));
  for (int l = 0; l < config.n_layers; ++l) {
    popular_[l].resize(kTopics);
    if (!config.IsMoeLayer(l)) continue;
    for (int k = 0; k < kTopics; ++k) {
      std::vector<int> perm(static_cast<size_t>(n_experts));
      std::iota(perm.begin(), perm.end(), 0);
      Rng rng(SplitMix64(seed ^ HashName("popular")) + static_cast<uint64_t>(l * kTopics + k));
      for (int i = n_experts - 1; i > 0; --i) std::swap(perm[i], perm[rng.Next() % static_cast<uint64_t>(i + 1)]);
      popular_[l][k].assign(perm.begin(), perm.begin() + n_popular);
    }
  }
}

const std::vector<int>& WeightInit::PopularExperts(int layer, int topic) const {
  static const std::vector<int> kNone;
  if (!skew_ || layer < 0 || layer >= static_cast<int>(popular_.size())) return kNone;
  return popular_[layer][topic];
}

int WeightInit::TopicOfToken(int64_t token) const {
  const int64_t v = std::max(1, config_.vocab_size);
  return static_cast<int>(std::clamp<int64_t>(token * kTopics / v, 0, kTopics - 1));
}

void WeightInit::FillRows(const model::TensorSpec& spec, uint64_t row_begin, uint64_t row_end,
                          float* out) const {
  const uint64_t n = spec.shape.ne[0];
  const bool is_norm = spec.role == model::TensorRole::kNorm;
  const bool is_bias = spec.name.find("exp_probs_b") != std::string::npos;
  const bool is_router = spec.role == model::TensorRole::kRouter && !is_bias;
  const uint64_t tensor_seed = SplitMix64(seed_ ^ HashName(spec.name));
  for (uint64_t r = row_begin; r < row_end; ++r) {
    Rng rng(tensor_seed + r);
    float* row = out + (r - row_begin) * n;
    const float std_dev = is_bias ? kBiasStd : kWeightStd;
    for (uint64_t j = 0; j < n; ++j) row[j] = (is_norm ? 1.0f : 0.0f) + std_dev * rng.NormalFast();
    if (!skew_) continue;
    if (spec.role == model::TensorRole::kEmbedding) {
      const std::vector<float>& dir = topic_dirs_[TopicOfToken(static_cast<int64_t>(r))];
      const float scale = kEmbeddingTopicScale * kWeightStd * std::sqrt(static_cast<float>(n));
      for (uint64_t j = 0; j < n; ++j) row[j] += scale * dir[j];
    } else if (is_router || is_bias) {
      for (int k = 0; k < kTopics; ++k) {
        const std::vector<int>& pop = PopularExperts(spec.layer, k);
        if (is_router && std::find(pop.begin(), pop.end(), static_cast<int>(r)) != pop.end()) {
          for (uint64_t j = 0; j < n; ++j) row[j] += kRouterTopicScale * topic_dirs_[k][j];
        }
        if (is_bias) {  // one row of E values: popular experts of every topic get a bonus
          for (int e : pop) row[e] += kBiasBonus;
        }
      }
    }
  }
}

}  // namespace frugal::tools
