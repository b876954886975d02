// Matrix products for prefill on Intel AMX: bf16 tiles, f32 accumulation. Each f32 value
// (weight or activation) is split into a bf16 head and a bf16 tail, v ≈ hi + lo to ~2^-17
// relative, and a tile product sums hi·hi + hi·lo + lo·hi, so each output is within 2^-16 of
// Σ|w·x| of the exact f32 product (tested) while AMX does ~1 TMAC/s per core (the weights are
// dequantized to f32 first: any dequantizable type works). Decode (one token) stays on the
// memory-bound VNNI kernels; MatMul switches to this from 8 tokens on.
// Model-agnostic. Call only when AmxUsable() (cpu_features.h). Thread-safe: every call
// configures the calling thread's tiles.
#pragma once

#include <cstdint>

#include "kernels/matmul.h"
#include "util/aligned_buffer.h"

namespace frugal::kernels {

// Activations prepared once per product: [token tile][k step][hi, lo] AMX B tiles of 16 rows ×
// 16 column pairs (row j, pair n = (x[t0+n][32·s + 2j], x[t0+n][32·s + 2j + 1])); tokens padded
// to 16, columns to 32, with zeros.
class AmxActivations {
 public:
  AmxActivations(const float* x, int64_t n_tokens, int64_t cols, int64_t x_stride);
  int64_t n_tokens() const { return n_tokens_; }
  int64_t token_tiles() const { return token_tiles_; }
  int64_t k_steps() const { return k_steps_; }
  // part 0: heads, 1: tails; 512 bf16 values (1 KiB).
  const uint16_t* tile(int64_t token_tile, int64_t k_step, int part) const {
    return storage_.data() + ((token_tile * k_steps_ + k_step) * 2 + part) * 512;
  }

 private:
  int64_t n_tokens_, token_tiles_, k_steps_;
  AlignedBuffer<uint16_t> storage_;
};

// Weight rows one AmxRows call should get at least, to prepare whole panels (a multiple of 16).
// Weight rows split into tiles once (PreparedWeights), for products over their first rows and
// columns.
class AmxWeights {
 public:
  explicit AmxWeights(const WeightRows& w);
  int64_t n_rows() const { return n_rows_; }
  int64_t k_steps() const { return k_steps_; }
  const uint16_t* tiles() const { return tiles_.data(); }

 private:
  int64_t n_rows_, k_steps_;
  AlignedBuffer<uint16_t> tiles_;
};

int64_t AmxPanelRows(const AmxActivations& x);

// y[t·ys + r] = Σ_k W[r, k]·x[t, k] for r in [begin, end) and every token of x; weight rows are
// dequantized and split 16 at a time. begin should be a multiple of 16 for full tiles.
void AmxRows(const WeightRows& w, const AmxActivations& x, int64_t begin, int64_t end, float* y, int64_t ys);
// The same over prepared weights: begin a multiple of 16, end ≤ w.n_rows(), x.k_steps() ≤ w.k_steps().
void AmxRows(const AmxWeights& w, const AmxActivations& x, int64_t begin, int64_t end, float* y, int64_t ys);

// The bf16 head of f (round to nearest even) and the bf16 of the rest: the split every AMX
// operand gets, as a scalar definition (its bound is tested; the kernels' vector splits are
// checked through the products' bound).
void SplitBf16(float f, uint16_t* hi, uint16_t* lo);

}  // namespace frugal::kernels
