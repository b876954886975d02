// RoPE frequencies and the attention softmax scale, with YaRN
// (../shared/reference/deepseek-architectures.md §1.4). Pure functions; thread-safe.
#pragma once

#include <vector>

#include "model/config.h"

namespace frugal::model {

// freqs[i] for i < rope_dim/2: base^(−2i/rope_dim), blended towards freq/factor by YaRN's ramp
// between the correction dimensions of beta_fast and beta_slow (applied whenever the file asks
// for yarn, as llama.cpp and HF do).
std::vector<float> RopeFrequencies(const RopeConfig& rope, int rope_dim);
// 1/sqrt(nope + rope), times mscale² with mscale = 1 + yarn_log_multiplier·ln(factor) under YaRN.
float AttentionScale(const ModelConfig& config);

}  // namespace frugal::model
