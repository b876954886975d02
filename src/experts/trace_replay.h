// Offline evaluation of expert cache policies on a routing trace: the RAM tier of `slots`
// experts meets the trace's (step, layer) groups in order, each group's experts acquired at
// once as the store does (hits first, then misses, in waves of at most the unpinned slots),
// with the store's own ReplacementPolicy for lru/lfu/pinned — so a replay predicts the store
// without prefetch — and Belady's optimal policy (evict the expert whose next use lies furthest
// in the future) as the upper bound for that size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "experts/expert_layout.h"
#include "experts/routing_trace.h"
#include "util/status.h"

namespace frugal::experts {

enum class ReplayPolicy { kLru, kLfu, kPinned, kBelady };
StatusOr<ReplayPolicy> ReplayPolicyFromName(const std::string& name);

struct ReplayResult {
  uint64_t accesses = 0, hits = 0, bytes_read = 0;
  int slots = 0, pinned = 0;
  double hit_rate() const { return accesses == 0 ? 1.0 : static_cast<double>(hits) / static_cast<double>(accesses); }
};

// `hot_set` (hottest first) is used by kPinned only; it is sized as ExpertStore does.
StatusOr<ReplayResult> ReplayTrace(const RoutingTrace& trace, int slots, ReplayPolicy policy,
                                   const std::vector<ExpertKey>& hot_set = {});

// The slots a byte budget buys for this trace (as ExpertStore: budget ÷ the largest expert).
int SlotsForBudget(const TraceShape& shape, uint64_t budget_bytes);

}  // namespace frugal::experts
