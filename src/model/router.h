// DeepSeekMoE routing for one token (../shared/reference/deepseek-architectures.md §2.2):
// softmax (V2), sigmoid (V3) or sqrt(softplus) (V4) scores; an optional bias that only selects; group-limited
// selection (a group's score: its best expert under softmax, the sum of its two best biased
// scores under sigmoid); weights from the unbiased scores, renormalized when asked, scaled.
// Ties go to the lower expert (or group) index. Pure; thread-safe.
#pragma once

#include <cstdint>

#include "model/config.h"

namespace frugal::model {

struct RouterParams {
  int n_experts = 0;
  int top_k = 0;
  int n_groups = 1;
  int n_groups_used = 1;
  GatingFunction gating = GatingFunction::kSoftmax;
  bool normalize = false;
  float scale = 1.0f;
  const float* bias = nullptr;  // [n_experts] or null
};

RouterParams RouterParamsOf(const MoeConfig& moe, const float* bias);

// logits: [n_experts]; writes top_k expert ids and their weights. `fixed` (V4's hash-routed
// layers: the token's row of the tid2eid table) gives the experts instead of the scores; their
// weights still come from the scores.
void Route(const float* logits, const RouterParams& p, int* experts, float* weights, const int32_t* fixed = nullptr);

}  // namespace frugal::model
