#include "util/huge_page_region.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>

namespace frugal {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

StatusOr<HugePageRegion> HugePageRegion::Allocate(size_t bytes) { return Map(bytes, 0); }

StatusOr<HugePageRegion> HugePageRegion::Reserve(size_t bytes) { return Map(bytes, MAP_NORESERVE); }

StatusOr<HugePageRegion> HugePageRegion::Map(size_t bytes, int extra_flags) {
  HugePageRegion r;
  if (bytes == 0) return r;
  const size_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  // Over-map by one huge page and trim, so the region starts on a 2 MiB boundary.
  void* raw = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);
  if (raw == MAP_FAILED) return ResourceExhausted("cannot map {} bytes of memory: {}", size, std::strerror(errno));
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) ::munmap(raw, aligned - start);
  const uintptr_t end = start + size + kHugePage;
  if (end > aligned + size) ::munmap(reinterpret_cast<void*>(aligned + size), end - (aligned + size));
  // Advice only: without transparent huge pages the memory works the same with 4 KiB pages. A
  // reservation advises only its whole 2 MiB pages (the last partial one gets 4 KiB pages), so
  // writing the first `bytes` never commits memory past them: a budget stays a budget.
  const size_t huge = (extra_flags & MAP_NORESERVE) != 0 ? bytes / kHugePage * kHugePage : size;
  if (huge > 0) (void)::madvise(reinterpret_cast<void*>(aligned), huge, MADV_HUGEPAGE);
  if (huge < size) (void)::madvise(reinterpret_cast<void*>(aligned + huge), size - huge, MADV_NOHUGEPAGE);
  r.data_ = reinterpret_cast<std::byte*>(aligned);
  r.size_ = size;
  return r;
}

HugePageRegion::HugePageRegion(HugePageRegion&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

HugePageRegion& HugePageRegion::operator=(HugePageRegion&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

HugePageRegion::~HugePageRegion() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

size_t HugePageRegion::HugeBytes() const {
  if (data_ == nullptr) return 0;
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  const auto begin = reinterpret_cast<uintptr_t>(data_);
  bool inside = false;
  size_t huge_kib = 0;
  while (std::getline(smaps, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) == 2) {  // a mapping's first line (fields start "Name:")
      inside = lo >= begin && hi <= begin + size_;
      continue;
    }
    unsigned long kib = 0;
    if (inside && std::sscanf(line.c_str(), "AnonHugePages: %lu kB", &kib) == 1) huge_kib += kib;
  }
  return huge_kib << 10;
}

}  // namespace frugal
