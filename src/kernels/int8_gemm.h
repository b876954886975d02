// Matrix products for many tokens without AMX: 8-bit activations and 8-bit weights multiplied
// with AVX-512 VNNI's vpdpbusd (64 multiply-adds per instruction), the prefill, batched-decode
// and MoE path of CPUs without AMX (AMD EPYC, Intel before Sapphire Rapids).
//
// Activations are quantized as llama.cpp quantizes them for Q8_0 weights: per block of 32, a
// scale dx = max|x|/127 and integers q = round(x/dx) in −127..127 (K-quant weights get the same
// per-32 scales, finer than llama.cpp's per-256 Q8_K). Weights keep their stored integers
// exactly: each block of 32 is written as integers w (−128..127), a scale per 4 columns (the
// lane of a vpdpbusd sum; per-16 and per-32 block scales both fit) and a per-block offset m,
// value = scale·w + m. Rows are repacked 4 at a time into that form once per call (a *panel*)
// and multiplied by the tokens 4 at a time, 16 sums in registers.
//
// vpdpbusd multiplies unsigned by signed bytes, so activations are stored as u = q + 128 and
// the extra 128·Σ scale·w of each block is subtracted afterwards, together with the offsets:
//   y[r,t] = Σ_lanes scale_r·dx_t·Σ_4 u·w  +  Σ_blocks (A[r,b]·dx[t,b] + m[r,b]·sx[t,b])
// with A = −128·Σ_block scale·w and sx = dx·Σ_block q (llama.cpp's Q4_1/Q4_K minimum terms).
//
// Types: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K (others take another path). The
// scalar reference computes the same integer sums and the same scale products.
// Model-agnostic; pure functions and read-only objects (thread-safe once built).
#pragma once

#include <cstdint>

#include "kernels/cpu_features.h"
#include "kernels/matmul.h"
#include "util/aligned_buffer.h"

namespace frugal::kernels {

// True when rows of `type` can be packed into int8 panels.
bool Int8PanelSupports(GgmlType type);
// True when this CPU runs the int8 products (AVX-512 VNNI; FRUGAL_ISA may cap it).
bool Int8ProductsUsable();

// Columns padded to 64 (one vpdpbusd vector per token), blocks of 32 padded to 16 (one f32
// vector of block terms).
struct Int8Shape {
  int64_t cols = 0;
  int64_t chunks() const { return (cols + 63) / 64; }
  int64_t padded_cols() const { return chunks() * 64; }
  int64_t blocks() const { return (cols + 31) / 32; }
  int64_t padded_blocks() const { return (blocks() + 15) / 16 * 16; }
};

// Activations quantized once for any number of products (gate and up; every expert's rows).
// Per token, 64-byte aligned: u[padded_cols] (q + 128; padding 128), lane_scale[padded_cols/4]
// (dx of the lane's block), dx[padded_blocks], sx[padded_blocks] (padding 0).
class Int8Activations {
 public:
  Int8Activations(const float* x, int64_t n_tokens, int64_t cols, int64_t x_stride);
  int64_t n_tokens() const { return n_tokens_; }
  Int8Shape shape() const { return shape_; }
  const uint8_t* u(int64_t t) const { return base(t); }
  const float* lane_scale(int64_t t) const { return reinterpret_cast<const float*>(base(t) + shape_.padded_cols()); }
  const float* dx(int64_t t) const { return lane_scale(t) + shape_.padded_cols() / 4; }
  const float* sx(int64_t t) const { return dx(t) + shape_.padded_blocks(); }
  static uint64_t TokenBytes(Int8Shape s) { return static_cast<uint64_t>(2 * s.padded_cols() + 8 * s.padded_blocks()); }

 private:
  const uint8_t* base(int64_t t) const { return storage_.data() + static_cast<uint64_t>(t) * TokenBytes(shape_); }
  int64_t n_tokens_;
  Int8Shape shape_;
  AlignedBuffer<uint8_t> storage_;
};

// The quantization of one token's activations into the layout above (scalar definition; the
// class uses it too).
void QuantizeInt8Token(const float* x, Int8Shape s, uint8_t* out);

// Rows packed 4 at a time ("quads"; missing rows of the last quad are zeros). Per quad:
// for each chunk of 64 columns, w[4][64] (int8) then scale[4][16] (f32, per lane of 4 columns);
// then A[4][padded_blocks] and m[4][padded_blocks] (f32).
struct Int8Panel {
  static uint64_t QuadBytes(Int8Shape s) { return static_cast<uint64_t>(s.chunks() * 512 + 32 * s.padded_blocks()); }
};

// Packs rows [begin, end) of w into quads at `panel` (QuadBytes each, 64-byte aligned).
void PackInt8PanelRef(const WeightRows& w, int64_t begin, int64_t end, uint8_t* panel);
void PackInt8PanelAvx512(const WeightRows& w, int64_t begin, int64_t end, uint8_t* panel);  // Q8_0, Q4_K fast; others → Ref

// out[r·4 + t] for the 4 rows of one quad and tokens t < n_tok (1..4) of x starting at t0.
void Int8QuadRef(const uint8_t* quad, Int8Shape s, const Int8Activations& x, int64_t t0, int n_tok, float* out);

// y[t·ys + r] = Σ_k W[r,k]·x[t,k] for rows [begin, end) and every token of x (the panel is
// packed here). On the AVX-512 VNNI kernels; `reference` runs the scalar pack and quad kernel.
void Int8Rows(const WeightRows& w, const Int8Activations& x, int64_t begin, int64_t end, float* y, int64_t ys,
              bool reference = false);

// The most that 8-bit activations can move Σ_k w[k]·x[k]: over blocks of 32, ½·dx_b·Σ_{k∈b}|w[k]|
// (dx_b = max|x| of the block / 127; each activation is rounded by at most ½·dx_b). For tests
// and accuracy reports.
double Int8RoundingBound(const float* w, const float* x, int64_t cols);

// Rows one Int8Rows call should get (whole quads; a panel of ~64 KiB that stays in L2 while
// every token passes over it).
int64_t Int8PanelRows(Int8Shape s);

}  // namespace frugal::kernels
