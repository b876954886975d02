// Float row panels × tokens on AVX-512 (f32_panels.h): per column, one vector of 16 rows times
// a broadcast activation, 2 panels × 8 tokens of sums in registers (16 multiply-adds per 10
// loads). Compiled with AVX-512 flags; called only when the CPU has them. Internal linkage only
// (no weak symbols).
#include <immintrin.h>

#include "kernels/f32_panels.h"

namespace frugal::kernels {
namespace {

constexpr int64_t kRows = F32Panels::kPanelRows;

// Rows of NP panels (16 each; `valid` rows of the last) × NT tokens.
template <int NP, int NT>
void Tile(const float* const* panels, int64_t cols, const float* x, int64_t xs, float* y, int64_t ys, int valid_last) {
  __m512 acc[NP][NT];
  for (int p = 0; p < NP; ++p) {
    for (int t = 0; t < NT; ++t) acc[p][t] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < cols; ++k) {
    __m512 w[NP];
    for (int p = 0; p < NP; ++p) w[p] = _mm512_load_ps(panels[p] + k * kRows);
    for (int t = 0; t < NT; ++t) {
      const __m512 xv = _mm512_set1_ps(x[t * xs + k]);
      for (int p = 0; p < NP; ++p) acc[p][t] = _mm512_fmadd_ps(w[p], xv, acc[p][t]);
    }
  }
  const __mmask16 last = static_cast<__mmask16>((1u << valid_last) - 1u);
  for (int t = 0; t < NT; ++t) {
    for (int p = 0; p < NP; ++p) {
      float* dst = y + t * ys + p * kRows;
      if (p == NP - 1 && valid_last < kRows) {
        _mm512_mask_storeu_ps(dst, last, acc[p][t]);
      } else {
        _mm512_storeu_ps(dst, acc[p][t]);
      }
    }
  }
}

template <int NP>
void Tokens(const float* const* panels, int64_t cols, const float* x, int64_t xs, int64_t n_tokens, float* y, int64_t ys,
            int valid_last) {
  int64_t t = 0;
  for (; t + 8 <= n_tokens; t += 8) Tile<NP, 8>(panels, cols, x + t * xs, xs, y + t * ys, ys, valid_last);
  const int64_t left = n_tokens - t;
  x += t * xs;
  y += t * ys;
  switch (left) {
    case 7: Tile<NP, 7>(panels, cols, x, xs, y, ys, valid_last); break;
    case 6: Tile<NP, 6>(panels, cols, x, xs, y, ys, valid_last); break;
    case 5: Tile<NP, 5>(panels, cols, x, xs, y, ys, valid_last); break;
    case 4: Tile<NP, 4>(panels, cols, x, xs, y, ys, valid_last); break;
    case 3: Tile<NP, 3>(panels, cols, x, xs, y, ys, valid_last); break;
    case 2: Tile<NP, 2>(panels, cols, x, xs, y, ys, valid_last); break;
    case 1: Tile<NP, 1>(panels, cols, x, xs, y, ys, valid_last); break;
    default: break;
  }
}

}  // namespace

void F32PanelRowsAvx512(const float* all, int64_t panel_cols, int64_t begin, int64_t end, int64_t cols,
                        const float* x, int64_t xs, int64_t n_tokens, float* y, int64_t ys) {
  auto panel = [&](int64_t p) { return all + p * panel_cols * kRows; };
  // Token blocks of 64 keep their activations in L1/L2 while the panels pass.
  constexpr int64_t kTokenBlock = 64;
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenBlock) {
    const int64_t nt = n_tokens - t0 < kTokenBlock ? n_tokens - t0 : kTokenBlock;
    for (int64_t r = begin; r < end; r += 2 * kRows) {
      const float* panels[2] = {panel(r / kRows), nullptr};
      float* yr = y + t0 * ys + r;
      if (end - r > kRows) {
        panels[1] = panel(r / kRows + 1);
        const int64_t rest = end - r - kRows;
        Tokens<2>(panels, cols, x + t0 * xs, xs, nt, yr, ys, static_cast<int>(rest < kRows ? rest : kRows));
      } else {
        Tokens<1>(panels, cols, x + t0 * xs, xs, nt, yr, ys, static_cast<int>(end - r));
      }
    }
  }
}

}  // namespace frugal::kernels
