// Q8_0 and Q4_K rows in panel order: the every-token weights of CPUs with AVX-512 VNNI and no
// usable AMX, reordered once at load so that products need no per-block float work.
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
// A Q4_K row (super-blocks of 256: 8 sub-blocks of 32 nibbles q, value d·sc·q − dmin·mn with
// 6-bit sc, mn) takes the same bytes in panel order too: per group of 512 columns (16
// sub-blocks), 4 vectors of 64 bytes where byte p of lane j of vector v holds column 4v + p of
// sub-block j in its low nibble and column 16 + 4v + p in its high one — chunks v and v + 4 of
// the Q8_0 interleaving, so both products take the same activations —; after all nibbles, per
// super-block its 12 scale bytes, d and dmin (16 bytes).
//
// The panel kernels take 8-bit activations (int8_gemm.h's rule, `vpdpbusd` on w + 128 and q) at
// every token count, decode included, so that a token's rounding does not depend on the batch
// (matmul.cc's PathOf; a 16-bit decode kernel was retired for that, docs/BENCHMARKS.md "Batch
// invariance"). Each Q8_0 integer sum starts from −128 times the activations it covers (prepared
// with the activations), so that it ends at Σ w·x exactly; Q4_K nibbles are unsigned already,
// and their minimums take dmin·mn·(dx·Σq) per sub-block. The kernels' sums for one (row, token)
// are the same operations in the same order whatever the tile, so a token has the same bits
// alone and in a batch.
// Model-agnostic; pure functions and read-only objects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/cpu_features.h"
#include "util/aligned_buffer.h"
#include "util/ggml_type.h"

namespace frugal::kernels {

class Int8Activations;

// True where products run on panels: AVX-512 VNNI without usable AMX (FRUGAL_ISA may cap it;
// the AMX path reads rows as stored).
bool PanelRowsUsable();
// Rows of `cols` columns can be reordered (a multiple of 512).
inline bool PanelRowsFit(int64_t cols) { return cols > 0 && cols % 512 == 0; }

// Types with a panel order.
inline bool HasPanelOrder(GgmlType type) { return type == GgmlType::kQ8_0 || type == GgmlType::kQ4_K; }

// One Q8_0 row (cols/32 blocks) into panel order at `out` (the same number of bytes), and back
// to floats (the exact values of the Q8_0 row); the same for Q4_K; and either by type.
void PackQ8_0Panels(const std::byte* q8_0_row, int64_t cols, std::byte* out);
void DequantizeQ8_0Panels(const std::byte* panel_row, int64_t cols, float* out);
void PackQ4_KPanels(const std::byte* q4_k_row, int64_t cols, std::byte* out);
void DequantizeQ4_KPanels(const std::byte* panel_row, int64_t cols, float* out);
void PackPanelRow(GgmlType type, const std::byte* row, int64_t cols, std::byte* out);
void DequantizePanelRow(GgmlType type, const std::byte* panel_row, int64_t cols, float* out);

// One token's 8-bit activations: q (signed) in the weights' interleaved order, per block
// −128·Σq (where each sum starts), and (shared with the Int8Activations they come from) the
// block scales and d·Σq.
struct Q8PanelRow {
  const int8_t* qs;
  const int32_t* starts;
  const float* d;
  const float* sx;  // d·Σq per block (for Q4_K's minimums)
};

struct Block32;
// Block j of a panel row as int8_gemm.h's integers, scale and offset (value = scale·q + m): the
// int8 products of many tokens read panel rows through this (and its AVX-512 packer).
void DecomposePanelBlock32(GgmlType type, const std::byte* panel_row, int64_t cols, int64_t j, Block32* out);

// 8-bit panel activations of n_rows rows of x (x_stride apart), quantized by int8_gemm.h's rule,
// or of activations already quantized for the int8 products (which must outlive this).
class Q8PanelRows {
 public:
  Q8PanelRows(const float* x, int64_t n_rows, int64_t cols, int64_t x_stride);
  explicit Q8PanelRows(const Int8Activations& a);
  ~Q8PanelRows();
  Q8PanelRow row(int64_t i) const;

 private:
  Q8PanelRows(std::unique_ptr<Int8Activations> owned, const Int8Activations* other);
  std::unique_ptr<Int8Activations> owned_;  // null when built from another's
  const Int8Activations& a_;
  int64_t cols_;
  AlignedBuffer<int8_t> qs_;
  AlignedBuffer<int32_t> starts_;
};

// y[t·ys + r] = Σ_k W[r,k]·x[t][k] for panel rows r < n_rows (row_stride bytes apart, `cols`
// columns) and tokens t < n_tokens. The references sum each block in integers and the blocks in
// order; the AVX-512 VNNI kernels, four rows at a time, sum a group's blocks in lanes.
void Q8_0PanelProduct8Ref(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols, const Q8PanelRow* x,
                          int n_tokens, float* y, int64_t ys);
void Q8_0PanelProduct8Avx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols,
                                 const Q8PanelRow* x, int n_tokens, float* y, int64_t ys);
void Q4KPanelProduct8Ref(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols, const Q8PanelRow* x,
                         int n_tokens, float* y, int64_t ys);
void Q4KPanelProduct8Avx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, int64_t cols,
                                const Q8PanelRow* x, int n_tokens, float* y, int64_t ys);

// The 8-bit activations' reordering from int8_gemm.h's token layout (u = q + 128 interleaved):
// q = u − 128 and starts −128·Σq per block; the AVX-512 version writes the same values.
void Q8PanelActivationsFromInt8Ref(const uint8_t* u, int64_t cols, int8_t* qs, int32_t* starts);
void Q8PanelActivationsFromInt8Avx512(const uint8_t* u, int64_t cols, int8_t* qs, int32_t* starts);

}  // namespace frugal::kernels
