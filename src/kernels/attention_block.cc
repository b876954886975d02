// The reference of attention_block.h and its scratch size; the AVX-512 kernel is in
// attention_block_avx512.cc.
#include "kernels/attention_block.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/f32_panels.h"

namespace frugal::kernels {
namespace {

bool DecideBf16() {
  if (!Avx512Bf16Usable() || AmxUsable()) return false;
  if (const char* forced = std::getenv("FRUGAL_ATTENTION")) {
    if (std::strcmp(forced, "bf16") == 0) return true;
    if (std::strcmp(forced, "f32") == 0) return false;
  }
  return AttentionBf16DotSpeedup() >= 1.5;
}

}  // namespace

double AttentionBf16DotSpeedup() {
  static const double speedup = Avx512Bf16Usable() ? MeasureBf16DotSpeedup() : 0.0;
  return speedup;
}

bool AttentionBlockBf16Preferred() {
  static const bool preferred = DecideBf16();
  return preferred;
}

uint16_t RoundToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float Bf16ToFloat(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

int AttentionKeyPairs(int dk) { return (dk + 1) / 2; }

int64_t AttentionBf16PackedPairs(int n_keys, int dk, int dv) {
  return int64_t{n_keys} * AttentionKeyPairs(dk) + int64_t{(n_keys + 1) / 2} * dv;
}

AttentionBf16Packed AttentionBf16Layout(const uint32_t* packed, int n_keys, int dk) {
  return {packed, packed + int64_t{n_keys} * AttentionKeyPairs(dk)};
}

void PackAttentionBf16Ref(const float* k, int64_t k_stride, int dk, const float* v, int64_t v_stride, int dv, int n_keys,
                          uint32_t* packed) {
  const int pairs = AttentionKeyPairs(dk);
  auto pair = [](uint16_t lo, uint16_t hi) { return static_cast<uint32_t>(lo) | (static_cast<uint32_t>(hi) << 16); };
  for (int j = 0; j < n_keys; ++j) {
    const float* row = k + j * k_stride;
    for (int c = 0; c < pairs; ++c) {
      packed[int64_t{j} * pairs + c] = pair(RoundToBf16(row[2 * c]), 2 * c + 1 < dk ? RoundToBf16(row[2 * c + 1]) : 0);
    }
  }
  uint32_t* vp = packed + int64_t{n_keys} * pairs;
  for (int jp = 0; jp < (n_keys + 1) / 2; ++jp) {
    const float* r0 = v + 2 * jp * v_stride;
    const float* r1 = 2 * jp + 1 < n_keys ? r0 + v_stride : nullptr;
    for (int d = 0; d < dv; ++d) vp[int64_t{jp} * dv + d] = pair(RoundToBf16(r0[d]), r1 != nullptr ? RoundToBf16(r1[d]) : 0);
  }
}

bool AttentionBlockFastUsable() { return F32PanelsUsable() && !AmxUsable(); }

int64_t AttentionBlockScratchFloats(int n_keys, int dk, int dv) {
  constexpr int64_t kPanels = kAttentionBlockMaxQueries / 16;
  return 16 * (kPanels + kPanels * (int64_t{dk} + dv + n_keys));
}

namespace {

// Both references: per query, scores and sums in double, e^x from std::exp; with bf16_operands,
// q, k, v and the weights e^(s − max) rounded to bf16 first (the weights' sum unrounded).
void Reference(const AttentionBlockArgs& a, bool bf16_operands) {
  auto operand = [bf16_operands](double x) {
    return bf16_operands ? static_cast<double>(Bf16ToFloat(RoundToBf16(static_cast<float>(x)))) : x;
  };
  const int n_keys = a.first_visible + a.n_queries - 1;
  std::vector<double> p(static_cast<size_t>(n_keys));
  std::vector<double> out(static_cast<size_t>(a.dv));
  for (int i = 0; i < a.n_queries; ++i) {
    const int visible = a.first_visible + i;
    const float* q = a.q + i * a.q_stride;
    double mx = -1e300;
    for (int j = 0; j < visible; ++j) {
      const float* k = a.k + j * a.k_stride;
      double s = 0;
      for (int c = 0; c < a.dk; ++c) s += operand(q[c]) * operand(k[c]);
      p[static_cast<size_t>(j)] = s * a.scale;
      mx = std::max(mx, p[static_cast<size_t>(j)]);
    }
    double sum = 0;
    std::fill(out.begin(), out.end(), 0.0);
    for (int j = 0; j < visible; ++j) {
      const double e = std::exp(p[static_cast<size_t>(j)] - mx);
      sum += e;
      const double w = operand(e);
      const float* v = a.v + j * a.v_stride;
      for (int d = 0; d < a.dv; ++d) out[static_cast<size_t>(d)] += w * operand(v[d]);
    }
    for (int d = 0; d < a.dv; ++d) a.o[i * a.o_stride + d] = static_cast<float>(out[static_cast<size_t>(d)] / sum);
  }
}

}  // namespace

void AttentionBlockRef(const AttentionBlockArgs& a) { Reference(a, false); }

void AttentionBlockBf16Ref(const AttentionBlockArgs& a) { Reference(a, true); }

}  // namespace frugal::kernels
