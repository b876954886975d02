// Few-token products on 8-bit activations against Q8_0, Q4_0, Q4_K, Q5_K and Q6_K rows as stored
// (no repacking): the decode and batched-decode path of AVX-512 VNNI CPUs for 1 to 15 tokens,
// where the int8 panels (int8_gemm.h) cost more to pack than they save. Activations are
// quantized as llama.cpp does for Q8_0 weights — per block of 32 a scale dx = max|x|/127 and
// integers q = round(x/dx) in −127..127 (int8_gemm.h's QuantizeInt8Block) — and each product
// sums Σ w·q in integers (vpdpbusd, with |w| unsigned and q's sign flipped where w < 0, or the
// unsigned 4-, 5- and 6-bit values), then scales in floats.
//
// Batch invariance (Q8_0 and Q4_K): the vector kernels add the block terms in the int8 panels'
// order — per group of 16 blocks (512 columns) one vector whose lane j holds block j's whole
// integer sum, multiplied by dw·dx and added to lane j of the accumulator (then, for Q4_K, the
// minimums −dmin·mn·dx·Σq), the 16 lanes summed by one tree at the end — so a token's product
// has the same bits here (1 to 15 tokens a product) as in the int8 panels (16 and more) and the
// panel kernels (panel_rows.h). Within a group the partial sums vpdpbusd leaves (four products a
// lane) are reduced to whole blocks in integers (exact). Q4_0, Q5_K and Q6_K scale the four-value
// partial sums in float lanes instead: the same rounding of the activations, another summation
// order than the int8 panels' (a token's bits still do not depend on the token count within 1..15).
// Model-agnostic; pure functions and read-only objects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/cpu_features.h"
#include "util/ggml_type.h"

namespace frugal::kernels {

// One token's activations: qs[padded_cols] and per block dx (the scale) and dx·Σq (for formats
// with a per-block minimum); padded with zeros to a multiple of 512 columns (16 blocks), 64-byte
// aligned.
struct Q8Row {
  const int8_t* qs;
  const float* dx;
  const float* dsums;
};

// Quantized activations of several rows, in 64-byte-aligned storage. Thread-compatible.
class Q8Rows {
 public:
  Q8Rows(const float* x, int64_t n_rows, int64_t cols, int64_t x_stride);
  Q8Row row(int64_t i) const {
    return {qs_ + i * padded_cols_, dx_ + i * (padded_cols_ / 32), dsums_ + i * (padded_cols_ / 32)};
  }
  int64_t cols() const { return cols_; }

 private:
  int64_t cols_, padded_cols_;  // padded to a multiple of 512
  std::unique_ptr<std::byte[]> storage_;
  int8_t* qs_ = nullptr;
  float* dx_ = nullptr;
  float* dsums_ = nullptr;
};

// Most tokens one call of a vector kernel takes (the reductions keep every token's partial sums
// in registers).
inline constexpr int kQ8RowsMaxTokens = 4;

// out[t] = Σ_k w[k]·x[t][k] for one Q8_0 row of `cols` columns (a multiple of 32) and n_tokens
// (1..kQ8RowsMaxTokens) activation rows.
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
// The kernel for rows of `type` and `cols` columns (a Q4_0 row a multiple of 64, the K-quants of
// 256), or nullptr where there is none (another type or size, or below AVX-512 VNNI).
DotQ8TokensFn DotQ8TokensFor(GgmlType type, int64_t cols, IsaLevel level);
// Whether rows of `type` and `cols` columns have a few-token 8-bit kernel on a CPU that has them.
inline bool Q8TokensSupport(GgmlType type, int64_t cols) {
  switch (type) {
    case GgmlType::kQ8_0: return cols % 32 == 0;
    case GgmlType::kQ4_0: return cols % 64 == 0;
    case GgmlType::kQ4_K: case GgmlType::kQ5_K: case GgmlType::kQ6_K: return cols % 256 == 0;
    default: return false;
  }
}
// The same for a Q4_0 row (cols a multiple of 64): per block d·dx·Σ(q4 − 8)·q, the nibbles
// unsigned into vpdpbusd and the −8 applied as −8·d·dx·Σq per block; float lanes as Q5_K and
// Q6_K below.
void DotQ4_0TokensRef(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out);
void DotQ4_0TokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out);
DotQ8TokensFn DotQ4_0TokensFor(IsaLevel level);
// The same for a Q5_K row (cols a multiple of 256): per 32-value sub-block
// d·sc·dx·Σ q5·q − dmin·mn·dx·Σq, the 5-bit values unsigned into vpdpbusd. Like Q6_K below, the
// vector kernel scales four-value partial sums in float lanes (not the int8 panels' order).
void DotQ5_KTokensRef(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out);
void DotQ5_KTokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out);
DotQ8TokensFn DotQ5_KTokensFor(IsaLevel level);
// The same for a Q6_K row (cols a multiple of 256): per 16-value sub-block d·sc·dx·Σ(q6 − 32)·q,
// the 6-bit values unsigned into vpdpbusd and 32·Σq subtracted per four values.
void DotQ6_KTokensRef(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out);
void DotQ6_KTokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out);
DotQ8TokensFn DotQ6_KTokensFor(IsaLevel level);

}  // namespace frugal::kernels
