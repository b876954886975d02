// Q8_0 rows in panel order: the every-token Q8_0 weights of CPUs with AVX-512 VNNI and no usable
// AMX, reordered once at load so that products need no per-block float work.
//
// A Q8_0 row holds blocks of 32 int8 values w with an f16 scale each. In panel order, a row of
// `cols` columns (a multiple of 512) takes the same bytes: first the integers, as w + 128
// (unsigned bytes, vpdpbusd's first operand), in groups of 512 columns (16 blocks), each 8 chunks
// of 64 bytes where lane j (4 bytes) of chunk c holds columns 32j + 4c .. 32j + 4c + 3
// (int8_gemm.h's interleaving: every lane of every chunk belongs to block j), then the row's
// block scales (f16, in block order). One int32 vector then sums 16
// blocks over a group without leaving the integers, and scales are applied once per group — one
// conversion and one multiply-add per 16 blocks instead of per block.
//
// Two products read the layout, each with the activations (and so the rounding) of the path it
// replaces, so panels change speed, not results beyond float summation order:
//  - 16-bit activations (act_quant.h's integers, `vpdpwssd` on w + 128 widened and x): 1–3
//    tokens (decode);
//  - 8-bit activations (int8_gemm.h's rule, `vpdpbusd` on w + 128 and q): 4 tokens and more.
// Either way each integer sum starts from −128 times the activations it covers (prepared with
// the activations), so that it ends at Σ w·x exactly.
// Model-agnostic; pure functions and read-only objects.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu_features.h"
#include "util/aligned_buffer.h"

namespace frugal::kernels {

class Int8Activations;
class Q16Rows;

// True where products run on panels: AVX-512 VNNI without usable AMX (FRUGAL_ISA may cap it;
// the AMX path reads rows as stored).
bool Q8PanelsUsable();
// Rows of `cols` columns can be reordered (a multiple of 512).
inline bool Q8PanelsFit(int64_t cols) { return cols > 0 && cols % 512 == 0; }

// One Q8_0 row (cols/32 blocks) into panel order at `out` (the same number of bytes), and back
// to floats (the exact values of the Q8_0 row).
void PackQ8_0Panels(const std::byte* q8_0_row, int64_t cols, std::byte* out);
void DequantizeQ8_0Panels(const std::byte* panel_row, int64_t cols, float* out);

// One token's 16-bit activations for panel rows: per group, 16 runs of 32 integers, run
// (c, half) holding, at position e, column 4c + e % 4 of block 8·half + e / 4 — the order in
// which the low and high 32 bytes of chunk c, widened to 16 bits, meet their activations; and
// the block scales d (x ≈ d·q) in block order; per group 32 starts: for the low and then the
// high halves of the chunks, lane k's −128·Σ of the integers it meets (positions 2k, 2k + 1 of
// every run of that half).
struct Q16PanelRow {
  const int16_t* qs;
  const float* d;
  const int32_t* starts;
};
// One token's 8-bit activations: q (signed) in the weights' interleaved order, per block
// −128·Σq (where each sum starts), and the block scales.
struct Q8PanelRow {
  const int8_t* qs;
  const int32_t* starts;
  const float* d;
};

// 16-bit panel activations of some rows of a Q16Rows (the same integers, reordered).
class Q16PanelRows {
 public:
  Q16PanelRows(const Q16Rows& q16, int64_t n_rows, int64_t cols);
  Q16PanelRow row(int64_t i) const {
    return {qs_.data() + i * cols_, d_.data() + i * (cols_ / 32), starts_.data() + i * (cols_ / 16)};
  }

 private:
  int64_t cols_;
  AlignedBuffer<int16_t> qs_;
  AlignedBuffer<float> d_;
  AlignedBuffer<int32_t> starts_;
};

// 8-bit panel activations of n_rows rows of x (x_stride apart), quantized by int8_gemm.h's rule.
class Q8PanelRows {
 public:
  Q8PanelRows(const float* x, int64_t n_rows, int64_t cols, int64_t x_stride);
  // The same values from activations already quantized for the int8 products.
  explicit Q8PanelRows(const Int8Activations& a);
  Q8PanelRow row(int64_t i) const {
    return {qs_.data() + i * cols_, starts_.data() + i * (cols_ / 32), d_.data() + i * (cols_ / 32)};
  }

 private:
  int64_t cols_;
  AlignedBuffer<int8_t> qs_;
  AlignedBuffer<int32_t> starts_;
  AlignedBuffer<float> d_;
};

// y[t·ys + r] = Σ_k W[r,k]·x[t][k] for panel rows r < n_rows (row_stride bytes apart, `cols`
// columns) and tokens t < n_tokens. The references sum each block in integers and the blocks in
// order; the AVX-512 VNNI kernels, four rows at a time, sum a group's blocks in lanes.
void Q8PanelProduct16Ref(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols, const Q16PanelRow* x,
                         int n_tokens, float* y, int64_t ys);
void Q8PanelProduct16Avx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols,
                                const Q16PanelRow* x, int n_tokens, float* y, int64_t ys);
void Q8PanelProduct8Ref(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols, const Q8PanelRow* x,
                        int n_tokens, float* y, int64_t ys);
void Q8PanelProduct8Avx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols,
                               const Q8PanelRow* x, int n_tokens, float* y, int64_t ys);

// The 8-bit activations' reordering from int8_gemm.h's token layout (u = q + 128 interleaved):
// q = u − 128 and starts −128·Σq per block; the AVX-512 version writes the same values.
void Q8PanelActivationsFromInt8Ref(const uint8_t* u, int64_t cols, int8_t* qs, int32_t* starts);
void Q8PanelActivationsFromInt8Avx512(const uint8_t* u, int64_t cols, int8_t* qs, int32_t* starts);

}  // namespace frugal::kernels
