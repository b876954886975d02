// A model file opened for inference: the mapped GGUF, its validated config and its weights —
// the ones every token reads copied into huge pages (resident_weights.h), the rest read from
// the mapping or an attached expert store. Immutable after loading (but for the store's own
// synchronized state); thread-safe. Held by pointer so views into it stay valid.
#pragma once

#include <memory>
#include <string>

#include "io/gguf_file.h"
#include "model/config.h"
#include "model/expert_source.h"
#include "model/routing_recorder.h"
#include "model/weights.h"
#include "util/huge_page_region.h"

namespace frugal::model {

struct LoadedModel {
  io::GgufFile file;
  ModelConfig config;
  Weights weights;
  HugePageRegion resident;  // the every-token weights' copies (empty if they could not be made)
  HugePageRegion resident_experts;  // the routed experts' copies (empty: not asked for, or no room)
  // Where the forward pass takes routed experts from: null, the mapping (all in RAM as the page
  // cache keeps them); else this source (experts/model_experts.h). Internally synchronized.
  std::unique_ptr<ExpertSource> expert_store;
  RoutingRecorder* routing = nullptr;  // told every routing decision when set
};

struct LoadOptions {
  // Copy the routed experts into huge pages (resident_weights.h). Off where an expert store
  // will read them from the file instead (--expert-budget).
  bool routed_experts_resident = true;
};

StatusOr<std::unique_ptr<LoadedModel>> LoadModel(const std::string& path, const LoadOptions& options = {});

}  // namespace frugal::model
