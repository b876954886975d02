// The pictures of `frugal plan --svg`: memory (by tier with a hardware sheet) versus context
// length, and cost per 1M prompt tokens versus the cache-hit rate.
#pragma once

#include <vector>

#include "ledger/plan.h"
#include "ledger/svg_chart.h"

namespace frugal::ledger {

StatusOr<std::vector<Chart>> PlanCharts(const PlanInput& in);

}  // namespace frugal::ledger
