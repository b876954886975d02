// Statistics shared by the bench commands.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "util/rng.h"

namespace frugal::app {

struct Spread {
  double median = 0, min = 0, max = 0;
};

inline Spread SpreadOf(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {median, v.front(), v.back()};
}

// n token ids drawn uniformly from [0, vocab).
inline std::vector<int32_t> RandomIds(Rng& rng, int n, int vocab) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int32_t& id : ids) id = static_cast<int32_t>(rng.Next() % static_cast<uint64_t>(vocab));
  return ids;
}

}  // namespace frugal::app
