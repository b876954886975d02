// Anonymous memory, 2 MiB-aligned and advised for transparent huge pages. For data read on
// every token (weights that decode streams from memory): streaming it needs one TLB entry per
// 2 MiB instead of per 4 KiB (decode of the mini model ~10-15% faster than from the file's
// 4 KiB page-cache mapping; docs/BENCHMARKS.md). For the KV cache's blocks (Reserve): a block's
// first use commits its memory one 2 MiB page at a time instead of 4 KiB fault by fault (a fresh
// block's first write ~15x cheaper on the Zen 5 VM of BENCHMARKS "KV disk tier"). Where the kernel gives no
// huge pages (THP "never") it is ordinary memory. Move-only; unmapped on destruction.
#pragma once

#include <cstddef>

#include "util/status.h"

namespace frugal {

class HugePageRegion {
 public:
  HugePageRegion() = default;
  // At least `bytes` bytes (zero-filled by the kernel), or ResourceExhausted.
  static StatusOr<HugePageRegion> Allocate(size_t bytes);
  // The same, address space only (MAP_NORESERVE): nothing is committed or counted against the
  // system's commit limit until written, so a large reservation costs nothing until it is used.
  // Only whole 2 MiB pages within `bytes` are advised for huge pages: writing inside `bytes`
  // never commits memory beyond it (rounded up to 4 KiB).
  static StatusOr<HugePageRegion> Reserve(size_t bytes);
  HugePageRegion(HugePageRegion&& other) noexcept;
  HugePageRegion& operator=(HugePageRegion&& other) noexcept;
  HugePageRegion(const HugePageRegion&) = delete;
  HugePageRegion& operator=(const HugePageRegion&) = delete;
  ~HugePageRegion();

  std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  // Bytes of this region the kernel backs with huge pages now (from /proc/self/smaps; 0 when
  // unknown).
  size_t HugeBytes() const;

 private:
  static StatusOr<HugePageRegion> Map(size_t bytes, int extra_flags);

  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace frugal
