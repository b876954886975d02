// The raw-pointer AMX routines behind amx_matmul.h, in their own translation unit compiled for
// AMX and AVX-512 BF16. That unit uses no template or out-of-line inline helper from shared
// headers (no std containers or algorithms, no member functions of shared types), so nothing it
// emits can be picked by the linker for code that runs on CPUs without those instructions.
// Internal to the kernels layer; call only when AmxUsable().
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/ggml_type.h"

namespace frugal::kernels::amx {

inline constexpr int64_t kTileRows = 16;     // rows of an A tile (weight rows), tokens of a B tile
inline constexpr int64_t kStep = 32;         // bf16 values along k in one tile row
inline constexpr int64_t kTileValues = 512;  // bf16 values in one tile (1 KiB)

// storage: token_tiles · k_steps · 2 tiles, 64-byte aligned (AmxActivations' layout).
void FillActivations(const float* x, int64_t n_tokens, int64_t cols, int64_t x_stride, int64_t token_tiles,
                     int64_t k_steps, uint16_t* storage);

struct RowsJob {
  // Weights: rows [begin, end) of `cols` values of `type`, row r at data + r·row_stride.
  const std::byte* data;
  GgmlType type;
  int64_t cols;
  uint64_t row_stride;
  int64_t begin, end;
  // Activations as FillActivations laid them out.
  const uint16_t* activations;
  int64_t n_tokens, token_tiles, k_steps;
  float* y;  // y[t·ys + r]
  int64_t ys;
  // Scratch, 64-byte aligned: rows 16·kp floats (zero, padding columns stay zero; unused and
  // may be null where SplitsInRegisters(type)), panel
  // panel_tiles · k_steps · 1024 bf16, sums panel_tiles · 512 floats.
  float* rows;
  uint16_t* panel;
  float* sums;
  int64_t panel_tiles;
  // Weights split beforehand (PrepareTiles over rows from 0, prepared_k_steps ≥ k_steps): then
  // rows and panel are unused and begin is a multiple of 16.
  const uint16_t* prepared = nullptr;
  int64_t prepared_k_steps = 0;
};
void Rows(const RowsJob& job);

// Rows [job.begin, job.end) split into tiles of job.k_steps steps as Rows prepares a panel: the
// tile of rows begin + 16p.. at out + p·k_steps·1024 (heads of step s at + 1024·s, tails 512
// further). Uses job.rows as scratch; activations, y and the rest are unused.
void PrepareTiles(const RowsJob& job, uint16_t* out);

// Types whose rows Rows splits straight from the stored blocks, with no f32 row scratch.
inline bool SplitsInRegisters(GgmlType type) {
  return type == GgmlType::kQ8_0 || type == GgmlType::kQ4_K || type == GgmlType::kF32 || type == GgmlType::kF16 ||
         type == GgmlType::kBF16;
}

}  // namespace frugal::kernels::amx
