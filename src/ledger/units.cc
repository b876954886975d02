#include "ledger/units.h"

#include <cmath>

#include <fmt/format.h>

namespace frugal::ledger {

std::string DecimalBytes(double b) {
  const double a = std::fabs(b);
  if (a >= 1e15) return fmt::format("{:.2f} PB", b / 1e15);
  if (a >= 1e12) return fmt::format("{:.2f} TB", b / 1e12);
  if (a >= 1e9) return fmt::format("{:.2f} GB", b / 1e9);
  if (a >= 1e6) return fmt::format("{:.2f} MB", b / 1e6);
  if (a >= 1e3) return fmt::format("{:.2f} KB", b / 1e3);
  return fmt::format("{:.0f} B", b);
}

}  // namespace frugal::ledger
