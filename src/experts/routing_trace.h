// Routing traces: what the router chose, step by step, written while generating
// (`--routing-trace FILE`) and read back to evaluate expert cache policies offline
// (trace_replay.h). Text, one header and one line per (step, layer, token):
//
//   # frugal routing trace v1
//   layers 8 experts 64 top_k 6
//   expert_bytes 0 1671168 1671168 …          (per layer; 0 for a layer without routed experts)
//   0 1 0 3 17 22 40 41 63                     (step layer token, then its experts)
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "model/routing_recorder.h"
#include "util/status.h"

namespace frugal::experts {

struct TraceShape {
  int n_layers = 0, n_experts = 0, top_k = 0;
  std::vector<uint64_t> expert_bytes;  // per layer
};

class RoutingTraceWriter : public model::RoutingRecorder {
 public:
  static StatusOr<std::unique_ptr<RoutingTraceWriter>> Open(const std::string& path, const TraceShape& shape);
  ~RoutingTraceWriter() override;
  void BeginStep() override { ++step_; }
  void Record(int layer, int token, std::span<const int> experts) override;
  // Flushes and closes; reports a write error (a full disk) that happened at any point.
  Status Close();

 private:
  RoutingTraceWriter(std::FILE* f, std::string path) : f_(f), path_(std::move(path)) {}
  std::FILE* f_;
  std::string path_;
  int64_t step_ = -1;
};

// All experts one step needed in one layer (the union over the step's tokens, ascending).
struct TraceGroup {
  int64_t step = 0;
  int layer = 0;
  std::vector<int> experts;
};

struct RoutingTrace {
  TraceShape shape;
  std::vector<TraceGroup> groups;  // in the order the forward pass met them
  int64_t records = 0;             // (step, layer, token) lines
};

// Errors name the file and line (a truncated or hand-edited trace).
StatusOr<RoutingTrace> ReadRoutingTrace(const std::string& path);

}  // namespace frugal::experts
