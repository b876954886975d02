// Measures sustained memory read bandwidth with all threads of a pool, for the decode roofline
// (decode reads every active weight byte once per token). Thread-compatible.
#pragma once

#include <cstddef>

#include "util/thread_pool.h"

namespace frugal {

// Median over `repetitions` passes of reading a `bytes`-sized buffer, in bytes per second.
double MeasureReadBandwidth(ThreadPool& pool, size_t bytes, int repetitions);

// Peak resident set size of this process so far (VmHWM), in bytes; 0 if unknown.
size_t PeakResidentBytes();

}  // namespace frugal
