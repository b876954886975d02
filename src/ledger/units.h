// Byte counts for people: decimal units (B, KB, MB, GB, TB), as the planner and the ledger report
// print them; negative values keep their sign (a lever can cost bytes). Pure; thread-safe.
#pragma once

#include <string>

namespace frugal::ledger {

std::string DecimalBytes(double bytes);

}  // namespace frugal::ledger
