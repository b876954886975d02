#include "ledger/plan_charts.h"

#include <algorithm>

namespace frugal::ledger {

StatusOr<std::vector<Chart>> PlanCharts(const PlanInput& in) {
  // Context lengths from 1K, doubling, to the larger of 4× the asked context and the model's.
  std::vector<int64_t> contexts;
  const int64_t top = std::max<int64_t>({in.context * 4, in.spec.context_max, 2048});
  for (int64_t c = 1024; c <= top; c *= 2) contexts.push_back(c);
  Chart memory{.title = "Memory vs context (" + std::to_string(in.sequences) + " sequences)", .x_label = "context (tokens)",
               .y_label = "bytes", .log_x = true, .log_y = true, .series = {}, .categories = {}};
  Series native{"weights + KV (native 16-bit)", {}, {}}, deployed{"weights + KV (8-bit as deployed)", {}, {}},
      mha{"weights + full multi-head KV", {}, {}};
  std::vector<Series> tiers;
  if (in.hardware) {
    for (const Tier& t : in.hardware->tiers) tiers.push_back({"in " + t.name, {}, {}});
  }
  for (const int64_t c : contexts) {
    PlanInput at = in;
    at.context = c;
    FRUGAL_ASSIGN_OR_RETURN(PlanResult r, Plan(at));
    const double x = static_cast<double>(c), seqs = in.sequences;
    native.x.push_back(x);
    native.y.push_back(r.weight_bytes + r.kv_per_sequence.native * seqs);
    deployed.x.push_back(x);
    deployed.y.push_back(r.weight_bytes + r.kv_per_sequence.deployed * seqs);
    mha.x.push_back(x);
    mha.y.push_back(r.weight_bytes + r.kv_per_sequence.mha * seqs);
    for (size_t i = 0; i < tiers.size() && i < r.tiers.size(); ++i) {
      tiers[i].x.push_back(x);
      tiers[i].y.push_back(r.tiers[i].kv_bytes + r.tiers[i].weight_bytes + r.tiers[i].expert_bytes);
    }
  }
  memory.series = {native, deployed, mha};
  for (Series& s : tiers) memory.series.push_back(std::move(s));
  if (in.hardware) {
    double capacity = 0;
    for (const Tier& t : in.hardware->tiers) {
      capacity += t.gb * 1e9;
      memory.series.push_back(
          {"capacity through " + t.name, {static_cast<double>(contexts.front()), static_cast<double>(contexts.back())}, {capacity, capacity}, true});
    }
  }
  Chart cost{.title = "Cost per 1M prompt tokens vs cache hits (" + in.prices.name + ")", .x_label = "cache-hit rate",
             .y_label = "USD per 1M prompt tokens", .log_x = false, .log_y = false, .series = {}, .categories = {}};
  Series line{"prompt tokens", {}, {}}, at{"this workload", {}, {}};
  for (int i = 0; i <= 20; ++i) {
    const double h = i / 20.0;
    line.x.push_back(h);
    line.y.push_back(h * in.prices.hit + (1 - h) * in.prices.miss);
  }
  const double here = in.hit_rate * in.prices.hit + (1 - in.hit_rate) * in.prices.miss;
  at.x = {in.hit_rate, in.hit_rate};
  at.y = {0, here};
  at.dashed = true;
  Series output{"output tokens", {0, 1}, {in.prices.output, in.prices.output}, true};
  cost.series = {line, output, at};
  return std::vector<Chart>{memory, cost};
}

}  // namespace frugal::ledger
