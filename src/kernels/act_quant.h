// Quantized activations for integer dot products with quantized weights: an f32 row in blocks
// of 32 with one f32 scale each and 16-bit integers. 16 bits (not llama.cpp's 8) keep the
// rounding error near 3e-5 of a block's largest value, so MoE routing near ties does not flip
// and the fast path stays close to the exact one; VNNI's vpdpwssd multiplies int16 pairs at
// the same instruction count per block as 8-bit vpdpbusd would need with its sign tricks.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/cpu_features.h"

namespace frugal::kernels {

// A row of quantized activations: values in blocks of 32 (block b at qs + 32·b; 64-byte aligned
// blocks when qs is, so one vector load never splits a cache line) and one scale per block.
struct Q16Row {
  const int16_t* qs;
  const float* d;
  const int32_t* sum;  // Σ of each block's 32 integers (for formats with a per-block minimum)
  const float* dsum;   // d·sum of each block, as f32 (the same, ready for vector code)
  // The same integers in the K-quant pair order (PairOrderK; null unless built): the four-row
  // Q4_K decode kernel reads two 32-value blocks per vector from it. With it, per 256-value
  // super-block 16 floats: the 8 block scales d, then the 8 d·sum (one vector load).
  const int16_t* qs_pairs;
  const float* k_scales;
};

// Reorders one row of 16-bit activations (n a multiple of 256) for the four-row K-quant decode
// kernel. Within each 256-value super-block and for each half h ∈ {0, 1} (128 values, blocks
// 4h..4h+3), the output holds 32-value groups: the even elements of blocks 4h and 4h+2 (16 each),
// their odd elements, then the even and odd elements of blocks 4h+1 and 4h+3. That is the order
// in which one 64-byte load of Q4_K quants, read as 16-bit words, yields its low/high nibbles
// after a shift and a mask (no widening shuffles), with blocks 4h and 4h+2 in the two 256-bit
// halves of one int32 vector.
void PairOrderK(const int16_t* in, int64_t n, int16_t* out);
void PairOrderKAvx512(const int16_t* in, int64_t n, int16_t* out);  // AVX-512 BW: the same order
using PairOrderFn = void (*)(const int16_t*, int64_t, int16_t*);
PairOrderFn PairOrderKFor(IsaLevel level);

// n must be a multiple of 32; qs receives n values, d n/32 scales (x ≈ d · q).
void QuantizeActivations(const float* x, int64_t n, int16_t* qs, float* d);

// Quantized activations of several rows, in 64-byte-aligned storage (one allocation, every part
// written before use). Thread-compatible.
class Q16Rows {
 public:
  // pair_order: also keep each row in PairOrderK order (cols must be a multiple of 256).
  Q16Rows(const float* x, int64_t n_rows, int64_t cols, int64_t x_stride, bool pair_order = false);
  bool has_pair_order() const { return pairs_ != nullptr; }
  Q16Row row(int64_t i) const {
    const int64_t b = i * (cols_ / 32);
    if (pairs_ == nullptr) return {qs_ + i * cols_, d_ + b, sums_ + b, dsums_ + b, nullptr, nullptr};
    return {qs_ + i * cols_, d_ + b, sums_ + b, dsums_ + b, pairs_ + i * cols_, k_scales_ + 2 * b};
  }

 private:
  int64_t cols_;
  std::unique_ptr<std::byte[]> storage_;
  int16_t* qs_ = nullptr;
  int16_t* pairs_ = nullptr;  // null unless pair_order
  float* d_ = nullptr;
  int32_t* sums_ = nullptr;
  float* dsums_ = nullptr;
  float* k_scales_ = nullptr;  // null unless pair_order
};

// Σ_k w[k]·x[k] for a Q8_0 weight row (n/32 blocks) and quantized activations.
float DotQ8_0Ref(const std::byte* w, Q16Row x, int64_t n);
float DotQ8_0Avx2(const std::byte* w, Q16Row x, int64_t n);
float DotQ8_0Avx512Vnni(const std::byte* w, Q16Row x, int64_t n);

using DotQ8Fn = float (*)(const std::byte*, Q16Row, int64_t);
DotQ8Fn DotQ8_0For(IsaLevel level);

// One weight row against four activation rows: out[i] = Σ w·x[i]. The weight block is loaded
// and widened once for the four (prefill).
void DotQ8_0x4Ref(const std::byte* w, const Q16Row* x, int64_t n, float* out);
void DotQ8_0x4Avx512Vnni(const std::byte* w, const Q16Row* x, int64_t n, float* out);
void DotQ8_0x4Avx2(const std::byte* w, const Q16Row* x, int64_t n, float* out);
using DotQ8x4Fn = void (*)(const std::byte*, const Q16Row*, int64_t, float*);
// The 4-token kernels exist for AVX-512 VNNI (Q8_0, Q4_K, Q5_K, Q6_K) and AVX2 (Q8_0); other levels and
// types get nullptr (use the 1-token kernel).
DotQ8x4Fn DotQ8_0x4For(IsaLevel level);

// Q4_K weight row (n/256 super-blocks) × quantized activations:
// Σ_s x.d[s]·(d·sc_s·Σ q·x − dmin·mn_s·x.sum[s]) over the 32-value sub-blocks s.
float DotQ4_KRef(const std::byte* w, Q16Row x, int64_t n);
float DotQ4_KAvx512Vnni(const std::byte* w, Q16Row x, int64_t n);
float DotQ4_KAvx2(const std::byte* w, Q16Row x, int64_t n);
DotQ8Fn DotQ4_KFor(IsaLevel level);
// Q4_0 weight row (n/32 blocks) × quantized activations.
float DotQ4_0Ref(const std::byte* w, Q16Row x, int64_t n);
float DotQ4_0Avx2(const std::byte* w, Q16Row x, int64_t n);
float DotQ4_0Avx512Vnni(const std::byte* w, Q16Row x, int64_t n);
DotQ8Fn DotQ4_0For(IsaLevel level);

// MXFP4 rows (DeepSeek-V4's routed experts): codes looked up as doubled E2M1 integers.
float DotMxfp4Ref(const std::byte* w, Q16Row x, int64_t n);
float DotMxfp4Avx512Vnni(const std::byte* w, Q16Row x, int64_t n);
DotQ8Fn DotMxfp4For(IsaLevel level);

// Q5_K weight row (n/256 super-blocks) × quantized activations: Q4_K's scales and minimums, the
// fifth bit of sub-block s in bit s of qh.
float DotQ5_KRef(const std::byte* w, Q16Row x, int64_t n);
float DotQ5_KAvx512Vnni(const std::byte* w, Q16Row x, int64_t n);
float DotQ5_KAvx2(const std::byte* w, Q16Row x, int64_t n);
DotQ8Fn DotQ5_KFor(IsaLevel level);
void DotQ5_Kx4Avx512Vnni(const std::byte* w, const Q16Row* x, int64_t n, float* out);
DotQ8x4Fn DotQ5_Kx4For(IsaLevel level);

// Q6_K weight row (n/256 super-blocks) × quantized activations.
float DotQ6_KRef(const std::byte* w, Q16Row x, int64_t n);
float DotQ6_KAvx512Vnni(const std::byte* w, Q16Row x, int64_t n);
float DotQ6_KAvx2(const std::byte* w, Q16Row x, int64_t n);
DotQ8Fn DotQ6_KFor(IsaLevel level);
void DotQ6_Kx4Avx512Vnni(const std::byte* w, const Q16Row* x, int64_t n, float* out);
DotQ8x4Fn DotQ6_Kx4For(IsaLevel level);
void DotQ4_Kx4Ref(const std::byte* w, const Q16Row* x, int64_t n, float* out);
void DotQ4_Kx4Avx512Vnni(const std::byte* w, const Q16Row* x, int64_t n, float* out);
DotQ8x4Fn DotQ4_Kx4For(IsaLevel level);

// Weight rows in fours (row r at w + r·row_stride, n_rows a multiple of 4) against one activation
// row: out[r] (decode; each four share the activation loads, and one call covers a whole range of
// rows). AVX-512 VNNI only. The Q4_K one reads x.qs_pairs, which must be built.
void DotQ4_KRowsAvx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, const Q16Row& x, int64_t n,
                           float* out);
void DotQ8_0RowsAvx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, const Q16Row& x, int64_t n,
                           float* out);
void DotMxfp4RowsAvx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, const Q16Row& x, int64_t n,
                            float* out);
using DotRowsFn = void (*)(const std::byte*, uint64_t, int64_t, const Q16Row&, int64_t, float*);
DotRowsFn DotQ4_KRowsFor(IsaLevel level);  // nullptr where no such kernel exists
DotRowsFn DotQ8_0RowsFor(IsaLevel level);
DotRowsFn DotMxfp4RowsFor(IsaLevel level);

}  // namespace frugal::kernels
