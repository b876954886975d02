// Deterministic random values for each tensor of a generated model, and the optional
// "trained-like" expert skew. Values depend only on (seed, tensor name, row), never on the
// thread count. Thread-safe after construction.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"
#include "model/tensor_layout.h"

namespace frugal::tools {

// Skew: trained MoE models route most tokens to a minority of experts, and which minority
// depends on the content. We plant that structure: the vocabulary is split into kTopics
// contiguous id ranges; every token embedding gets a strong component along its range's
// "topic" direction, and in each MoE layer a few experts per topic get router rows aligned
// with that direction (and, with a selection bias, a bias bonus). Text whose tokens move
// between id ranges (e.g. English to Chinese to code) moves the popular set with it.
class WeightInit {
 public:
  static constexpr int kTopics = 4;
  static constexpr float kWeightStd = 0.02f;  // as in the llama.cpp fixture: N(0, 0.02²)

  WeightInit(const model::ModelConfig& config, uint64_t seed, bool skew);

  // Fills rows [row_begin, row_end) of `spec` (each spec.shape.ne[0] floats) into out.
  void FillRows(const model::TensorSpec& spec, uint64_t row_begin, uint64_t row_end, float* out) const;
  // Experts planted as popular for `topic` in `layer` (empty without skew).
  const std::vector<int>& PopularExperts(int layer, int topic) const;
  int TopicOfToken(int64_t token) const;

 private:
  const model::ModelConfig& config_;
  uint64_t seed_;
  bool skew_;
  std::vector<std::vector<float>> topic_dirs_;            // [kTopics][hidden], unit length
  std::vector<std::vector<std::vector<int>>> popular_;     // [layer][topic] -> experts
};

}  // namespace frugal::tools
