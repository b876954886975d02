// Matrix products for many tokens: 8-bit activations and 8-bit weights multiplied with AVX-512
// VNNI's vpdpbusd (64 multiply-adds per instruction), the prefill, batched-decode and MoE path
// of CPUs without AMX (AMD EPYC, Intel before Sapphire Rapids), and of 4–7-token products where
// AMX takes 8 and more.
//
// Activations are quantized as llama.cpp quantizes them for Q8_0 weights: per block of 32, a
// scale dx = max|x|/127 and integers q = round(x/dx) in −127..127 (K-quant weights get the same
// per-32 scales, finer than llama.cpp's per-256 Q8_K). Weights keep their stored integers
// exactly: each block of 32 is written as integers w (−128..127), a scale per half block (16
// columns: Q6_K's sub-block scales; equal halves for the other types) and an offset m, value =
// scale·w + m.
//
// Layout: columns go in groups of 512 (16 blocks). A group is 8 chunks of 64 bytes, and lane j
// (4 bytes) of chunk c holds columns 32j + 4c .. 32j + 4c + 3: every lane of every chunk belongs
// to block j, so one int32 vector sums 16 blocks over 8 vpdpbusd without leaving the integers,
// and the block scales are applied once per group (one conversion, one multiply, one
// multiply-add per 512 columns and (row, token) pair instead of per 64).
//
// vpdpbusd multiplies unsigned by signed bytes, so activations are stored as u = q + 128 and
// each sum starts from −128·Σw (per block and half, packed with the weights). With offsets:
//   y[r,t] = Σ_blocks,halves scale·dx·Σ(u − 128)·w  +  Σ_blocks m·sx,   sx = dx·Σ_block q.
// Rows are repacked 4 at a time into that form once per call (a *panel*) and multiplied by the
// tokens 4 at a time. Types: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K (others take another
// path). The scalar reference computes the same integer sums and the same scale products.
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

// Columns in groups of 512 (16 blocks of 32), the last padded with zeros.
struct Int8Shape {
  int64_t cols = 0;
  int64_t groups() const { return (cols + 511) / 512; }
  int64_t padded_cols() const { return groups() * 512; }
  int64_t blocks() const { return (cols + 31) / 32; }
  int64_t padded_blocks() const { return groups() * 16; }
};

// Where column k of a group goes: chunk (k % 32) / 4, byte 4·(k / 32) + k % 4 of it.
inline int64_t Int8InterleavedOffset(int64_t k) {
  const int64_t g = k / 512, j = k % 512 / 32, i = k % 32;
  return 512 * g + 64 * (i / 4) + 4 * j + i % 4;
}

// Activations quantized once for any number of products (gate and up; every expert's rows).
// Per token, 64-byte aligned: u[padded_cols] in the interleaved order (q + 128; padding 128),
// dx[padded_blocks], sx[padded_blocks] (padding 0).
class Int8Activations {
 public:
  Int8Activations(const float* x, int64_t n_tokens, int64_t cols, int64_t x_stride);
  int64_t n_tokens() const { return n_tokens_; }
  Int8Shape shape() const { return shape_; }
  const uint8_t* u(int64_t t) const { return base(t); }
  const float* dx(int64_t t) const { return reinterpret_cast<const float*>(base(t) + shape_.padded_cols()); }
  const float* sx(int64_t t) const { return dx(t) + shape_.padded_blocks(); }
  static uint64_t TokenBytes(Int8Shape s) { return static_cast<uint64_t>(s.padded_cols() + 8 * s.padded_blocks()); }

 private:
  const uint8_t* base(int64_t t) const { return storage_.data() + static_cast<uint64_t>(t) * TokenBytes(shape_); }
  int64_t n_tokens_;
  Int8Shape shape_;
  AlignedBuffer<uint8_t> storage_;
};

// The quantization of one token's activations into the layout above: the scalar definition,
// and the AVX-512 version (the same bytes), which the class uses where it can.
// The rule for one block of n ≤ 32 values (llama.cpp's Q8_0): d = max|x|/127, q = x/d rounded
// half away from zero (a subnormal d rounds the block to 0, as 1/d would overflow); q[n..31] = 0.
// Returns d; *sum = Σq.
float QuantizeInt8Block(const float* x, int64_t n, int8_t* q, int32_t* sum);
void QuantizeInt8Token(const float* x, Int8Shape s, uint8_t* out);
void QuantizeInt8TokenAvx512(const float* x, Int8Shape s, uint8_t* out);
using QuantizeInt8Fn = void (*)(const float*, Int8Shape, uint8_t*);

// Rows packed 4 at a time ("quads"; missing rows of the last quad are zeros). Per quad and
// group (kGroupBytes): w[8 chunks][4 rows][64] (int8, interleaved), scale[2 halves][4 rows][16]
// (f32, per block), start[2 halves][4 rows][16] (int32: −128·Σw of the block's half; with one
// scale per block, half 0 holds the whole block), m[4 rows][16] (f32).
struct Int8Panel {
  // Byte offsets within a group: weights, scales, starts, offsets; the group's size.
  static constexpr uint64_t kScalesAt = 2048, kStartsAt = 2560, kOffsetsAt = 3072, kGroupBytes = 3328;
  static uint64_t QuadBytes(Int8Shape s) { return static_cast<uint64_t>(s.groups()) * kGroupBytes; }
  // Q6_K: two scales per block (half blocks converted separately); otherwise one.
  static int HalvesOf(GgmlType type) { return type == GgmlType::kQ6_K ? 2 : 1; }
  // Types with per-block offsets (minimums).
  static bool HasOffsets(GgmlType type) {
    return type == GgmlType::kQ4_1 || type == GgmlType::kQ5_1 || type == GgmlType::kQ4_K || type == GgmlType::kQ5_K;
  }
};

// Packs rows [begin, end) of w into quads at `panel` (QuadBytes each, 64-byte aligned).
void PackInt8PanelRef(const WeightRows& w, int64_t begin, int64_t end, uint8_t* panel);
// Every supported type packed in AVX-512 registers.
void PackInt8PanelAvx512(const WeightRows& w, int64_t begin, int64_t end, uint8_t* panel);

// out[4·t + r] for the 4 rows of one quad of `type` and tokens t < n_tok (1..4) of x from t0.
void Int8QuadRef(const uint8_t* quad, GgmlType type, const Int8Activations& x, int64_t t0, int n_tok, float* out);

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
