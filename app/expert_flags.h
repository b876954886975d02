// The expert-store flags shared by run, bench, logits and serve (--expert-budget,
// --expert-policy, --expert-profile, --expert-prefetch, --routing-trace), what they set up on
// a loaded model, and the store's statistics as text (--stats) and JSON.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "experts/expert_store.h"
#include "experts/routing_trace.h"
#include "model/loaded_model.h"

namespace frugal::app {

struct ExpertFlags {
  std::string budget;   // empty: every expert in RAM (copied at load unless in_place, else the mapping)
  bool in_place = false;  // --experts-in-place: no copy at load
  std::string policy = "lru";
  std::string profile;  // routing profile for the pinned hot set
  std::string prefetch = "auto";  // auto: prefill-sized steps only; on; off
  int io_threads = 8;
  std::string io_engine = "auto";
  std::string trace;    // routing trace output
};

void AddExpertFlags(CLI::App* cmd, ExpertFlags* f);

// Routed experts copied into huge pages at load unless an expert store will read them
// (--expert-budget) or --experts-in-place says not to.
model::LoadOptions LoadOptionsFor(const ExpertFlags& f);

// What the flags attached to a model: the store (null without --expert-budget) and the trace.
struct ExpertSetup {
  experts::ExpertStore* store = nullptr;
  std::unique_ptr<experts::RoutingTraceWriter> trace;
  Status Finish();  // closes the trace (reports a write error)
};

StatusOr<ExpertSetup> SetUpExperts(model::LoadedModel* m, const ExpertFlags& f);

// `expert_hit_rate`, `expert_bytes_read`, `io_stall_s`, `prefetch_accuracy` and the rest.
nlohmann::json ExpertStatsJson(const experts::ExpertStoreStats& s);
// Several lines for stderr: per-layer hit rates, bytes per tier, stall, prefetch.
std::string ExpertStatsText(const experts::ExpertStoreStats& s);
// Prometheus text for /metrics (frugal:expert_*).
std::string ExpertStatsPrometheus(const experts::ExpertStoreStats& s);

}  // namespace frugal::app
