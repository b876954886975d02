#include "util/memory_bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace frugal {

namespace {

// Sums [begin, end) with wide loads; cloned per ISA so the widest vector loads are used.
__attribute__((target_clones("avx512f", "avx2", "default")))
uint64_t SumRange(const uint64_t* p, int64_t begin, int64_t end) {
  uint64_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += p[i + k];
  }
  for (; i < end; ++i) acc[0] += p[i];
  uint64_t s = 0;
  for (uint64_t a : acc) s += a;
  return s;
}

}  // namespace

double MeasureReadBandwidth(ThreadPool& pool, size_t bytes, int repetitions) {
  const size_t n = bytes / sizeof(uint64_t);
  std::vector<uint64_t> buf(n);
  pool.ParallelFor(static_cast<int64_t>(n), [&](int64_t b, int64_t e, int) {  // touch with the threads that read
    for (int64_t i = b; i < e; ++i) buf[static_cast<size_t>(i)] = static_cast<uint64_t>(i);
  });
  std::atomic<uint64_t> sink{0};
  std::vector<double> rates;
  for (int r = 0; r < std::max(1, repetitions); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.ParallelFor(static_cast<int64_t>(n), [&](int64_t b, int64_t e, int) { sink += SumRange(buf.data(), b, e); });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(n * sizeof(uint64_t)) / s);
  }
  std::sort(rates.begin(), rates.end());
  volatile uint64_t observed = sink.load();  // the sums must not be optimized away
  (void)observed;
  return rates[rates.size() / 2];
}

size_t PeakResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  size_t kb = 0;
  while (std::fgets(line, sizeof(line), f)) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) {
      kb = std::strtoull(line + 6, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

}  // namespace frugal
