// Statistics shared by the bench commands.
#pragma once

#include <algorithm>
#include <vector>

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

}  // namespace frugal::app
