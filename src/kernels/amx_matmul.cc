// The AMX products' buffers and shapes, compiled for any CPU; the tile work is in amx_tiles.cc.
#include "kernels/amx_matmul.h"

#include <algorithm>
#include <vector>

#include "kernels/amx_tiles.h"
#include "util/check.h"

namespace frugal::kernels {

using amx::kStep;
using amx::kTileRows;
using amx::kTileValues;

AmxActivations::AmxActivations(const float* x, int64_t n_tokens, int64_t cols, int64_t x_stride)
    : n_tokens_(n_tokens),
      token_tiles_((n_tokens + kTileRows - 1) / kTileRows),
      k_steps_((cols + kStep - 1) / kStep),
      storage_(static_cast<size_t>(token_tiles_ * k_steps_ * 2 * kTileValues), /*zeroed=*/false) {
  amx::FillActivations(x, n_tokens, cols, x_stride, token_tiles_, k_steps_, storage_.data());
}

namespace {

// A panel of weight tiles (≈ 512 KiB of heads and tails, at least one tile) is prepared once
// per call and multiplied by every token tile while it sits in L2.
constexpr int64_t kPanelBytes = 512 << 10;

int64_t PanelTiles(int64_t k_steps) { return std::clamp<int64_t>(kPanelBytes / (k_steps * 2 * kTileValues * 2), 1, 16); }

}  // namespace

int64_t AmxPanelRows(const AmxActivations& x) { return PanelTiles(x.k_steps()) * kTileRows; }

void AmxRows(const WeightRows& w, const AmxActivations& x, int64_t begin, int64_t end, float* y, int64_t ys) {
  if (begin >= end) return;
  const int64_t ks = x.k_steps(), kp = ks * kStep;
  const int64_t panel = std::min(PanelTiles(ks), (end - begin + kTileRows - 1) / kTileRows);
  AlignedBuffer<float> rows(amx::SplitsInRegisters(w.type) ? 0 : static_cast<size_t>(kTileRows * kp));  // zero: padding
  AlignedBuffer<uint16_t> weights(static_cast<size_t>(panel * ks * 2 * kTileValues), /*zeroed=*/false);
  AlignedBuffer<float> sums(static_cast<size_t>(panel * kTileValues), /*zeroed=*/false);
  amx::Rows({.data = w.data, .type = w.type, .cols = w.cols, .row_stride = w.row_stride(), .begin = begin, .end = end,
             .activations = x.tile(0, 0, 0), .n_tokens = x.n_tokens(), .token_tiles = x.token_tiles(), .k_steps = ks,
             .y = y, .ys = ys, .rows = rows.data(), .panel = weights.data(), .sums = sums.data(), .panel_tiles = panel});
}

AmxWeights::AmxWeights(const WeightRows& w)
    : n_rows_(w.n_rows),
      k_steps_((w.cols + kStep - 1) / kStep),
      tiles_(static_cast<size_t>((w.n_rows + kTileRows - 1) / kTileRows * k_steps_ * 2 * kTileValues), /*zeroed=*/false) {
  AlignedBuffer<float> rows(amx::SplitsInRegisters(w.type) ? 0 : static_cast<size_t>(kTileRows * k_steps_ * kStep));
  amx::PrepareTiles({.data = w.data, .type = w.type, .cols = w.cols, .row_stride = w.row_stride(), .begin = 0,
                     .end = w.n_rows, .activations = nullptr, .n_tokens = 0, .token_tiles = 0, .k_steps = k_steps_,
                     .y = nullptr, .ys = 0, .rows = rows.data(), .panel = nullptr, .sums = nullptr, .panel_tiles = 0},
                    tiles_.data());
}

void AmxRows(const AmxWeights& w, const AmxActivations& x, int64_t begin, int64_t end, float* y, int64_t ys) {
  if (begin >= end) return;
  FRUGAL_CHECK(begin % kTileRows == 0 && end <= w.n_rows() && x.k_steps() <= w.k_steps());
  const int64_t panel = std::min(PanelTiles(x.k_steps()), (end - begin + kTileRows - 1) / kTileRows);
  AlignedBuffer<float> sums(static_cast<size_t>(panel * kTileValues), /*zeroed=*/false);
  amx::Rows({.data = nullptr, .type = GgmlType::kF32, .cols = 0, .row_stride = 0, .begin = begin, .end = end,
             .activations = x.tile(0, 0, 0), .n_tokens = x.n_tokens(), .token_tiles = x.token_tiles(),
             .k_steps = x.k_steps(), .y = y, .ys = ys, .rows = nullptr, .panel = nullptr, .sums = sums.data(),
             .panel_tiles = panel, .prepared = w.tiles(), .prepared_k_steps = w.k_steps()});
}

}  // namespace frugal::kernels
