#include "model/rope.h"

#include <algorithm>
#include <cmath>

namespace frugal::model {

std::vector<float> RopeFrequencies(const RopeConfig& rope, int rope_dim) {
  const int half = rope_dim / 2;
  std::vector<float> freqs(static_cast<size_t>(half));
  const double base = rope.freq_base;
  // corr_dim(r) = dim·ln(L / (r·2π)) / (2·ln base): the dimension whose wavelength spans r
  // rotations over the original context L.
  auto corr_dim = [&](double rotations) {
    return rope_dim * std::log(rope.original_context_length / (rotations * 2.0 * M_PI)) / (2.0 * std::log(base));
  };
  double low = 0, high = 0;
  const bool yarn = rope.scaling == RopeScalingType::kYarn;
  if (yarn) {
    low = std::max(std::floor(corr_dim(rope.beta_fast)), 0.0);
    high = std::min(std::ceil(corr_dim(rope.beta_slow)), static_cast<double>(rope_dim - 1));
    if (low == high) high += 0.001;
  }
  for (int i = 0; i < half; ++i) {
    const double f = std::pow(base, -2.0 * i / rope_dim);
    if (!yarn) {
      freqs[static_cast<size_t>(i)] = static_cast<float>(f);
      continue;
    }
    const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);  // 0: extrapolate, 1: interpolate
    freqs[static_cast<size_t>(i)] = static_cast<float>(f / rope.factor * ramp + f * (1.0 - ramp));
  }
  return freqs;
}

float AttentionScale(const ModelConfig& c) {
  double scale = 1.0 / std::sqrt(static_cast<double>(c.mla.qk_head_dim()));
  if (c.rope.scaling == RopeScalingType::kYarn && c.rope.factor > 1.0) {
    const double mscale = 1.0 + c.rope.yarn_log_multiplier * std::log(c.rope.factor);
    scale *= mscale * mscale;
  }
  return static_cast<float>(scale);
}

}  // namespace frugal::model
