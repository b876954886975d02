// Few-token products on 8-bit activations against Q8_0 and Q4_K rows as stored (no repacking): the
// batched-decode path of AVX-512 VNNI CPUs for 4 to 15 tokens, where the int8 panels
// (int8_gemm.h) cost more to pack than they save. Activations are quantized as llama.cpp does
// for Q8_0 weights — per block of 32 a scale dx = max|x|/127 and integers q = round(x/dx) in
// −127..127 — and each product sums Σ w·q per block in integers (vpdpbusd, with |w| unsigned
// and q's sign flipped where w < 0), then dw·dx per block in floats. One weight row is loaded
// once for up to 8 tokens. Model-agnostic; pure functions and read-only objects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/cpu_features.h"

namespace frugal::kernels {

// One token's activations: qs[padded_cols] (padding 0; 64-byte aligned) and, per pair of blocks,
// 16 floats: the first block's dx 8 times, then the second's (padding 0).
struct Q8Row {
  const int8_t* qs;
  const float* pair_scales;
  const float* dsums;  // per block: dx·Σq (for formats with a per-block minimum)
};

// Quantized activations of several rows, in 64-byte-aligned storage. Thread-compatible.
class Q8Rows {
 public:
  Q8Rows(const float* x, int64_t n_rows, int64_t cols, int64_t x_stride);
  Q8Row row(int64_t i) const {
    return {qs_ + i * padded_cols_, scales_ + i * (padded_cols_ / 64) * 16, dsums_ + i * (padded_cols_ / 32)};
  }
  int64_t cols() const { return cols_; }

 private:
  int64_t cols_, padded_cols_;  // padded to a multiple of 64
  std::unique_ptr<std::byte[]> storage_;
  int8_t* qs_ = nullptr;
  float* scales_ = nullptr;
  float* dsums_ = nullptr;
};

// out[t] = Σ_k w[k]·x[t][k] for one Q8_0 row of `cols` columns (a multiple of 32) and n_tokens
// (1..8) activation rows.
void DotQ8_0TokensRef(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out);
void DotQ8_0TokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out);
using DotQ8TokensFn = void (*)(const std::byte*, const Q8Row*, int, int64_t, float*);
// The AVX-512 VNNI kernel, or nullptr below it.
DotQ8TokensFn DotQ8_0TokensFor(IsaLevel level);
// The same for a Q4_K row (cols a multiple of 256): per 32-value sub-block
// d·sc·dx·Σ q4·q − dmin·mn·dx·Σq; the nibbles are unsigned, so vpdpbusd takes them as they are.
void DotQ4_KTokensRef(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out);
void DotQ4_KTokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out);
DotQ8TokensFn DotQ4_KTokensFor(IsaLevel level);

}  // namespace frugal::kernels
