// A routing profile: how many times each expert (layer, id) was routed to over a set of prompts
// (`frugal profile-experts`). Its hottest experts are the pinned hot set of the `pinned` policy.
// File: "# frugal expert profile v1", then "layers N experts E", then one "layer id count" line
// per expert with a nonzero count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "experts/expert_layout.h"
#include "model/routing_recorder.h"
#include "util/status.h"

namespace frugal::experts {

class ExpertProfile : public model::RoutingRecorder {
 public:
  ExpertProfile(int n_layers, int n_experts);
  void BeginStep() override {}
  void Record(int layer, int token, std::span<const int> experts) override;

  uint64_t count(int layer, int id) const { return counts_[Index(layer, id)]; }
  int n_layers() const { return n_layers_; }
  int n_experts() const { return n_experts_; }
  // Every expert with a nonzero count, most routed first (ties: lower layer, then lower id).
  std::vector<ExpertKey> Hottest() const;
  Status Write(const std::string& path) const;

 private:
  friend StatusOr<ExpertProfile> ReadExpertProfile(const std::string& path);
  size_t Index(int layer, int id) const { return static_cast<size_t>(layer) * static_cast<size_t>(n_experts_) + static_cast<size_t>(id); }
  int n_layers_, n_experts_;
  std::vector<uint64_t> counts_;
};

StatusOr<ExpertProfile> ReadExpertProfile(const std::string& path);

}  // namespace frugal::experts
