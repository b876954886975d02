// Overflow-checked unsigned arithmetic for every size that comes from a file or a request.
// Each returns false (and leaves *out unspecified) when the exact result does not fit.
#pragma once

#include <cstdint>

namespace frugal {

inline bool CheckedAdd(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
inline bool CheckedMul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
// Rounds `value` up to a multiple of `alignment` (a power of two).
inline bool CheckedAlignUp(uint64_t value, uint64_t alignment, uint64_t* out) {
  uint64_t bumped;
  if (!CheckedAdd(value, alignment - 1, &bumped)) return false;
  *out = bumped & ~(alignment - 1);
  return true;
}
inline bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace frugal
