// Deterministic, counter-friendly random numbers for generated test models.
// A Rng is a small value type (thread-compatible); seed one per (tensor, row block) so output
// does not depend on the thread count.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace frugal {

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// FNV-1a of a string, for deriving per-tensor seeds from names.
inline uint64_t HashName(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// xoshiro256+ (Blackman & Vigna), seeded through SplitMix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& s : s_) s = seed = SplitMix64(seed);
  }
  uint64_t Next() {
    const uint64_t result = s_[0] + s_[3];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = (s_[3] << 45) | (s_[3] >> 19);
    return result;
  }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // An approximately standard-normal value from one draw: the sum of the draw's four
  // uniform 16-bit fields (Irwin–Hall, n = 4), centred and scaled to unit variance. Bounded to
  // about ±3.46; fast enough to fill a billion weights.
  float NormalFast() {
    const uint64_t r = Next();
    const uint64_t sum = (r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48);
    // mean 4 * 65535/2; variance 4 * (65536^2 - 1)/12 -> sd = 37837.2...
    return static_cast<float>((static_cast<double>(sum) - 131070.0) * (1.0 / 37837.22));
  }
  // One exact standard-normal value (Box–Muller), for the few places where tails matter.
  double Gaussian() {
    const double u1 = 1.0 - Uniform();
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t s_[4];
};

}  // namespace frugal
