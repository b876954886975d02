// Token sampling: greedy, or penalties (repetition / presence / frequency over the last
// repeat_last_n tokens) → top-k → top-p → min-p → temperature → a draw from a seeded RNG, in
// llama.cpp's default order. Same seed and inputs ⇒ same output. Thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "util/rng.h"
#include "util/status.h"

namespace frugal::engine {

struct SamplingParams {
  float temperature = 0.8f;  // <= 0: greedy
  int top_k = 40;            // <= 0: off
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.05f;       // <= 0: off
  float repeat_penalty = 1.0f;    // 1: off (llama.cpp's convention: divide positive logits)
  float presence_penalty = 0.0f;  // subtracted once from every token seen
  float frequency_penalty = 0.0f; // subtracted per occurrence
  int repeat_last_n = 64;         // window of history the penalties look at
  uint64_t seed = 0;
};

Status ValidateSamplingParams(const SamplingParams& p);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}
  // logits: [vocab]; history: the tokens so far (prompt and generated).
  int32_t Sample(std::span<const float> logits, std::span<const int32_t> history);

 private:
  SamplingParams params_;
  Rng rng_;
  std::vector<std::pair<float, int32_t>> candidates_;  // scratch
};

}  // namespace frugal::engine
