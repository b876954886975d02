// Receives the router's decisions as the forward pass makes them: for each step, each MoE layer
// and each token of the step, the experts it was routed to. A routing trace and a routing
// profile (experts/routing_trace.h, experts/expert_profile.h) are recorders. Called from the
// engine thread only.
#pragma once

#include <span>

namespace frugal::model {

class RoutingRecorder {
 public:
  virtual ~RoutingRecorder() = default;
  virtual void BeginStep() = 0;
  virtual void Record(int layer, int token, std::span<const int> experts) = 0;
};

}  // namespace frugal::model
