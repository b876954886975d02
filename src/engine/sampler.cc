#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace frugal::engine {

Status ValidateSamplingParams(const SamplingParams& p) {
  if (!(p.temperature >= 0) || p.temperature > 100) return InvalidArgument("temperature {} must be in 0..100", p.temperature);
  if (!(p.top_p > 0) || p.top_p > 1) return InvalidArgument("top_p {} must be in (0, 1]", p.top_p);
  if (!(p.min_p >= 0) || p.min_p > 1) return InvalidArgument("min_p {} must be in [0, 1]", p.min_p);
  if (!(p.repeat_penalty > 0)) return InvalidArgument("repeat_penalty {} must be positive", p.repeat_penalty);
  if (!std::isfinite(p.presence_penalty) || !std::isfinite(p.frequency_penalty)) {
    return InvalidArgument("presence/frequency penalties must be finite");
  }
  return OkStatus();
}

int32_t Sampler::Sample(std::span<const float> logits, std::span<const int32_t> history) {
  const SamplingParams& p = params_;
  candidates_.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) candidates_[i] = {logits[i], static_cast<int32_t>(i)};
  // Penalties over the recent window.
  const size_t window = p.repeat_last_n < 0 ? history.size() : std::min(history.size(), static_cast<size_t>(p.repeat_last_n));
  if (window > 0 && (p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f)) {
    std::unordered_map<int32_t, int> counts;
    for (int32_t id : history.subspan(history.size() - window)) counts[id]++;
    for (const auto& [id, n] : counts) {
      if (id < 0 || static_cast<size_t>(id) >= candidates_.size()) continue;
      float& l = candidates_[static_cast<size_t>(id)].first;
      l = l > 0 ? l / p.repeat_penalty : l * p.repeat_penalty;
      l -= p.presence_penalty + p.frequency_penalty * static_cast<float>(n);
    }
  }
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  if (p.temperature <= 0) return std::min_element(candidates_.begin(), candidates_.end(), by_logit)->second;
  size_t n = candidates_.size();
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < n) n = static_cast<size_t>(p.top_k);
  std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<long>(n), candidates_.end(), by_logit);
  // Probabilities before temperature decide top-p and min-p (llama.cpp's order).
  std::vector<double> prob(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += prob[i] = std::exp(static_cast<double>(candidates_[i].first - candidates_[0].first));
  size_t keep = n;
  if (p.top_p < 1.0f) {
    double cum = 0;
    for (size_t i = 0; i < n; ++i) {
      cum += prob[i] / sum;
      if (cum >= p.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  if (p.min_p > 0) {
    size_t k = 1;
    while (k < keep && prob[k] >= p.min_p * prob[0]) ++k;
    keep = k;
  }
  double total = 0;
  for (size_t i = 0; i < keep; ++i) {
    total += prob[i] = std::exp(static_cast<double>(candidates_[i].first - candidates_[0].first) / p.temperature);
  }
  double r = rng_.Uniform() * total;
  for (size_t i = 0; i < keep; ++i) {
    if ((r -= prob[i]) < 0) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace frugal::engine
