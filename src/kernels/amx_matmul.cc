// Compiled with AVX-512 BF16 and AMX flags; called only when AmxUsable().
#include "kernels/amx_matmul.h"

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

#include "kernels/dequantize.h"
#include "util/half.h"

namespace frugal::kernels {

void SplitBf16(float f, uint16_t* hi, uint16_t* lo) {
  *hi = F32ToBf16(f);
  *lo = F32ToBf16(f - Bf16ToF32(*hi));
}

namespace {

constexpr int64_t kTileRows = 16;  // rows of an A tile (weight rows), tokens of a B tile
constexpr int64_t kStep = 32;      // bf16 values along k in one tile row
constexpr int64_t kTileValues = 512;

// Heads and tails of 32 floats, in order.
inline void Split32(const float* src, uint16_t* hi, uint16_t* lo) {
  const __m512 a = _mm512_loadu_ps(src), b = _mm512_loadu_ps(src + 16);
  const auto h = std::bit_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a));
  const __m512 ha = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(h)), 16));
  const __m512 hb = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(h, 1)), 16));
  const auto l = std::bit_cast<__m512i>(_mm512_cvtne2ps_pbh(_mm512_sub_ps(b, hb), _mm512_sub_ps(a, ha)));
  _mm512_storeu_si512(hi, h);
  _mm512_storeu_si512(lo, l);
}

// The AMX palette-1 configuration: eight tiles of 16 rows × 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {64, 64, 64, 64, 64, 64, 64, 64};
  uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};
static_assert(sizeof(TileConfig) == 64);

// One weight tile (heads at w, tails at w + 512, 1 KiB apart, k step s at w + 1024·s) against
// one or two token tiles over k steps [s0, s1), accumulating into c[0] (and c[1]) in memory.
// Tiles: 0, 1 accumulators; 2, 3 weight heads and tails; 4..7 the token tiles' heads and tails.
template <bool kTwo>
void AccumulateSteps(const uint16_t* w, const AmxActivations& x, int64_t tt, int64_t s0, int64_t s1, bool first,
                     float (*c)[kTileValues / 2]) {
  if (first) {
    _tile_zero(0);
    if constexpr (kTwo) _tile_zero(1);
  } else {
    _tile_loadd(0, c[0], 64);
    if constexpr (kTwo) _tile_loadd(1, c[1], 64);
  }
  for (int64_t s = s0; s < s1; ++s) {
    _tile_loadd(2, w + s * 2 * kTileValues, 64);
    _tile_loadd(3, w + s * 2 * kTileValues + kTileValues, 64);
    _tile_loadd(4, x.tile(tt, s, 0), 64);
    _tile_loadd(5, x.tile(tt, s, 1), 64);
    _tile_dpbf16ps(0, 2, 4);
    _tile_dpbf16ps(0, 2, 5);
    _tile_dpbf16ps(0, 3, 4);
    if constexpr (kTwo) {
      _tile_loadd(6, x.tile(tt + 1, s, 0), 64);
      _tile_loadd(7, x.tile(tt + 1, s, 1), 64);
      _tile_dpbf16ps(1, 2, 6);
      _tile_dpbf16ps(1, 2, 7);
      _tile_dpbf16ps(1, 3, 6);
    }
  }
  _tile_stored(0, c[0], 64);
  if constexpr (kTwo) _tile_stored(1, c[1], 64);
}

}  // namespace

AmxActivations::AmxActivations(const float* x, int64_t n_tokens, int64_t cols, int64_t x_stride)
    : n_tokens_(n_tokens),
      token_tiles_((n_tokens + kTileRows - 1) / kTileRows),
      k_steps_((cols + kStep - 1) / kStep),
      storage_(static_cast<size_t>(token_tiles_ * k_steps_ * 2 * kTileValues)) {
  std::vector<float> row(static_cast<size_t>(k_steps_ * kStep), 0.0f);
  alignas(64) uint16_t hi[kStep], lo[kStep];
  for (int64_t t = 0; t < n_tokens; ++t) {
    std::copy_n(x + t * x_stride, cols, row.begin());
    const int64_t tt = t / kTileRows, n = t % kTileRows;
    for (int64_t s = 0; s < k_steps_; ++s) {
      Split32(row.data() + s * kStep, hi, lo);
      uint16_t* th = storage_.data() + ((tt * k_steps_ + s) * 2) * kTileValues;
      uint16_t* tl = th + kTileValues;
      for (int64_t j = 0; j < kTileRows; ++j) {  // pair j of this token → row j, column pair n
        std::memcpy(th + j * kStep + 2 * n, hi + 2 * j, 4);
        std::memcpy(tl + j * kStep + 2 * n, lo + 2 * j, 4);
      }
    }
  }
}

namespace {

// Weight rows [r0, r0 + 16) dequantized (rows past `end` zero) and split into heads and tails:
// for k step s, the 16 × 32 heads at out + 1024·s and the tails 512 values further (1 KiB
// loads with no cache-set conflicts). `rows`: scratch of 16 × kp floats.
void PrepareWeightTile(const WeightRows& w, int64_t r0, int64_t end, int64_t kp, float* rows, uint16_t* out) {
  const uint64_t rb = w.row_bytes();
  const int64_t nr = std::min(kTileRows, end - r0);
  for (int64_t i = 0; i < kTileRows; ++i) {
    float* dst = rows + i * kp;
    if (i < nr) {
      DequantizeRow(w.type, w.data + static_cast<uint64_t>(r0 + i) * rb, dst, w.cols);
    } else {
      std::fill(dst, dst + kp, 0.0f);
    }
    for (int64_t s = 0; s < kp / kStep; ++s) {
      uint16_t* tile = out + s * 2 * kTileValues + i * kStep;
      Split32(dst + s * kStep, tile, tile + kTileValues);
    }
  }
}

// Loop blocking. AMX multiplies ~1 KiB tiles faster than L2 delivers them, so: a panel of weight
// tiles is prepared once (in L2), and for each pair of token tiles the k steps go in chunks
// whose token tiles (4 KiB a step) stay in L1 while every weight tile of the panel streams by;
// partial sums wait in memory between chunks.
constexpr int64_t kPanelBytes = 512 << 10;
constexpr int64_t kChunkSteps = 8;

// Weight tiles per panel.
int64_t PanelTiles(int64_t k_steps) { return std::clamp<int64_t>(kPanelBytes / (k_steps * 2 * kTileValues * 2), 1, 16); }

}  // namespace

int64_t AmxPanelRows(const AmxActivations& x) { return PanelTiles(x.k_steps()) * kTileRows; }

void AmxRows(const WeightRows& w, const AmxActivations& x, int64_t begin, int64_t end, float* y, int64_t ys) {
  const int64_t ks = x.k_steps(), kp = ks * kStep;
  const int64_t tile_values = ks * 2 * kTileValues;  // one weight tile, all k steps, heads and tails
  const int64_t panel = std::min(PanelTiles(ks), (end - begin + kTileRows - 1) / kTileRows);
  const TileConfig config;
  _tile_loadconfig(&config);
  std::vector<float> rows(static_cast<size_t>(kTileRows * kp), 0.0f);  // padding columns stay zero
  AlignedBuffer<uint16_t> weights(static_cast<size_t>(panel * tile_values), /*zeroed=*/false);  // all written
  AlignedBuffer<float> sums(static_cast<size_t>(panel * kTileValues), /*zeroed=*/false);  // [panel][2][16 × 16]  // [panel][2][16 × 16]
  auto c_of = [&](int64_t p) { return reinterpret_cast<float (*)[kTileValues / 2]>(sums.data() + p * kTileValues); };
  for (int64_t p0 = begin; p0 < end; p0 += panel * kTileRows) {
    const int64_t np = std::min(panel, (end - p0 + kTileRows - 1) / kTileRows);
    for (int64_t p = 0; p < np; ++p) {
      PrepareWeightTile(w, p0 + p * kTileRows, end, kp, rows.data(), weights.data() + p * tile_values);
    }
    for (int64_t tt = 0; tt < x.token_tiles(); tt += 2) {
      const bool two = tt + 1 < x.token_tiles();
      for (int64_t s0 = 0; s0 < ks; s0 += kChunkSteps) {
        const int64_t s1 = std::min(ks, s0 + kChunkSteps);
        for (int64_t p = 0; p < np; ++p) {
          const uint16_t* wt = weights.data() + p * tile_values;
          if (two) {
            AccumulateSteps<true>(wt, x, tt, s0, s1, s0 == 0, c_of(p));
          } else {
            AccumulateSteps<false>(wt, x, tt, s0, s1, s0 == 0, c_of(p));
          }
        }
      }
      for (int64_t p = 0; p < np; ++p) {
        const int64_t r0 = p0 + p * kTileRows, nr = std::min(kTileRows, end - r0);
        for (int q = 0; q < (two ? 2 : 1); ++q) {
          const float* c = c_of(p)[q];
          const int64_t t0 = (tt + q) * kTileRows, nt = std::min(kTileRows, x.n_tokens() - t0);
          for (int64_t n = 0; n < nt; ++n) {  // contiguous stores; the strided reads hit L1
            float* yt = y + (t0 + n) * ys + r0;
            for (int64_t i = 0; i < nr; ++i) yt[i] = c[i * kTileRows + n];
          }
        }
      }
    }
  }
  _tile_release();
}

}  // namespace frugal::kernels
