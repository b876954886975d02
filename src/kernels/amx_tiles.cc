// Compiled for AMX and AVX-512 BF16 (CMakeLists.txt); see amx_tiles.h for what it must not use.
#include "kernels/amx_tiles.h"

#include <immintrin.h>

#include "kernels/dequantize.h"
#include "kernels/quant_blocks.h"

namespace frugal::kernels::amx {
namespace {

int64_t Min(int64_t a, int64_t b) { return a < b ? a : b; }

// Heads and tails of the 32 floats a (first 16) and b: 32 bf16 each, in order.
inline void SplitVectors(__m512 a, __m512 b, __m512i* hi, __m512i* lo) {
  const auto h = (__m512i)_mm512_cvtne2ps_pbh(b, a);
  const __m512 ha = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(h)), 16));
  const __m512 hb = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(h, 1)), 16));
  *hi = h;
  *lo = (__m512i)_mm512_cvtne2ps_pbh(_mm512_sub_ps(b, hb), _mm512_sub_ps(a, ha));
}

inline void Split32(const float* src, uint16_t* hi, uint16_t* lo) {
  __m512i h, l;
  SplitVectors(_mm512_loadu_ps(src), _mm512_loadu_ps(src + 16), &h, &l);
  _mm512_storeu_si512(hi, h);
  _mm512_storeu_si512(lo, l);
}

// r[i] holds 16 dwords; afterwards r[j] holds dword j of every former r[i] (a 16 × 16 transpose).
inline void Transpose16x16(__m512i* r) {
  __m512i t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int g = 0; g < 16; g += 4) {  // u[g + c], 128-bit lane L: dword 4L + c of rows g..g+3
    u[g] = _mm512_unpacklo_epi64(t[g], t[g + 2]);
    u[g + 1] = _mm512_unpackhi_epi64(t[g], t[g + 2]);
    u[g + 2] = _mm512_unpacklo_epi64(t[g + 1], t[g + 3]);
    u[g + 3] = _mm512_unpackhi_epi64(t[g + 1], t[g + 3]);
  }
  for (int c = 0; c < 4; ++c) {  // a 4 × 4 transpose of 128-bit lanes over u[c], u[4 + c], u[8 + c], u[12 + c]
    const __m512i v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44), v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xEE);
    const __m512i v2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44), v3 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xEE);
    r[c] = _mm512_shuffle_i32x4(v0, v2, 0x88);
    r[4 + c] = _mm512_shuffle_i32x4(v0, v2, 0xDD);
    r[8 + c] = _mm512_shuffle_i32x4(v1, v3, 0x88);
    r[12 + c] = _mm512_shuffle_i32x4(v1, v3, 0xDD);
  }
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

// Weight tiles (heads at w, tails at w + 512, k step s at w + 1024·s) against token tiles over
// k steps [s0, s1), accumulating in memory: c[w] + 256·t holds the sums of weight tile w and
// token tile tt + t. Up to two weight and two token tiles at once: accumulators are tiles
// 2w + t, weight tiles 4 + w, token tiles 6 + t. Each step loads the token tails, then the token
// heads, then the weight tails over the weight heads, so a step's three products per tile pair
// take 4 + 2 + 2 tile loads for 12 products (not 12 for 12 pair by pair).
inline const uint16_t* TokenTile(const RowsJob& j, int64_t tt, int64_t s, int part) {
  return j.activations + ((tt * j.k_steps + s) * 2 + part) * kTileValues;
}

template <int kW, int kT>
inline void Products() {
  _tile_dpbf16ps(0, 4, 6);
  if constexpr (kT == 2) _tile_dpbf16ps(1, 4, 7);
  if constexpr (kW == 2) {
    _tile_dpbf16ps(2, 5, 6);
    if constexpr (kT == 2) _tile_dpbf16ps(3, 5, 7);
  }
}

template <int kW, int kT>
void AccumulateSteps(const uint16_t* w0, const uint16_t* w1, const RowsJob& j, int64_t tt, int64_t s0, int64_t s1,
                     bool first, float* c0, float* c1) {
  constexpr int64_t kC = kTileValues / 2;  // floats in one accumulator tile
  if (first) {
    _tile_zero(0);
    if constexpr (kT == 2) _tile_zero(1);
    if constexpr (kW == 2) _tile_zero(2);
    if constexpr (kW == 2 && kT == 2) _tile_zero(3);
  } else {
    _tile_loadd(0, c0, 64);
    if constexpr (kT == 2) _tile_loadd(1, c0 + kC, 64);
    if constexpr (kW == 2) _tile_loadd(2, c1, 64);
    if constexpr (kW == 2 && kT == 2) _tile_loadd(3, c1 + kC, 64);
  }
  for (int64_t s = s0; s < s1; ++s) {
    const uint16_t* a = w0 + s * 2 * kTileValues;
    const uint16_t* b = w1 + s * 2 * kTileValues;
    _tile_loadd(4, a, 64);
    if constexpr (kW == 2) _tile_loadd(5, b, 64);
    _tile_loadd(6, TokenTile(j, tt, s, 1), 64);
    if constexpr (kT == 2) _tile_loadd(7, TokenTile(j, tt + 1, s, 1), 64);
    Products<kW, kT>();  // heads · token tails
    _tile_loadd(6, TokenTile(j, tt, s, 0), 64);
    if constexpr (kT == 2) _tile_loadd(7, TokenTile(j, tt + 1, s, 0), 64);
    Products<kW, kT>();  // heads · token heads
    _tile_loadd(4, a + kTileValues, 64);
    if constexpr (kW == 2) _tile_loadd(5, b + kTileValues, 64);
    Products<kW, kT>();  // tails · token heads
  }
  _tile_stored(0, c0, 64);
  if constexpr (kT == 2) _tile_stored(1, c0 + kC, 64);
  if constexpr (kW == 2) _tile_stored(2, c1, 64);
  if constexpr (kW == 2 && kT == 2) _tile_stored(3, c1 + kC, 64);
}

template <int kW>
void AccumulateStepsFor(bool two_tokens, const uint16_t* w0, const uint16_t* w1, const RowsJob& j, int64_t tt,
                        int64_t s0, int64_t s1, bool first, float* c0, float* c1) {
  if (two_tokens) {
    AccumulateSteps<kW, 2>(w0, w1, j, tt, s0, s1, first, c0, c1);
  } else {
    AccumulateSteps<kW, 1>(w0, w1, j, tt, s0, s1, first, c0, c1);
  }
}

// 32 values of step s of row i, as two vectors of 16, split into heads and tails in place.
inline void StoreStep(__m512 first, __m512 second, uint16_t* out, int64_t s, int64_t i) {
  __m512i h, l;
  SplitVectors(first, second, &h, &l);
  uint16_t* tile = out + s * 2 * kTileValues + i * kStep;
  _mm512_storeu_si512(tile, h);
  _mm512_storeu_si512(tile + kTileValues, l);
}

// Q8_0 and Q4_K rows go from the stored blocks to heads and tails without an f32 row in memory;
// the values are DequantizeRow's, product for product.
void SplitRowQ8_0(const std::byte* src, int64_t n, uint16_t* out, int64_t i) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(src);
  for (int64_t b = 0; b < n / 32; ++b) {
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(blocks[b].d));
    const __m128i* q = reinterpret_cast<const __m128i*>(blocks[b].qs);
    StoreStep(_mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(q)))),
              _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(q + 1)))), out, b, i);
  }
}

void SplitRowQ4_K(const std::byte* src, int64_t n, uint16_t* out, int64_t i) {
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(src);
  const __m128i low4 = _mm_set1_epi8(0x0f);
  for (int64_t sb = 0; sb < n / 256; ++sb) {
    const BlockQ4_K& b = blocks[sb];
    const float d = _cvtsh_ss(b.d), dmin = _cvtsh_ss(b.dmin);
    for (int c = 0; c < 4; ++c) {  // sub-blocks 2c (low nibbles) and 2c + 1 (high nibbles): steps 8sb + 2c, + 1
      uint8_t sc0, mn0, sc1, mn1;
      UnpackScaleMinK4(b.scales, 2 * c, &sc0, &mn0);
      UnpackScaleMinK4(b.scales, 2 * c + 1, &sc1, &mn1);
      const __m512 d0 = _mm512_set1_ps(d * sc0), m0 = _mm512_set1_ps(dmin * mn0);
      const __m512 d1 = _mm512_set1_ps(d * sc1), m1 = _mm512_set1_ps(dmin * mn1);
      const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 32 * c));
      const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 32 * c + 16));
      const auto low = [&](__m128i q) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(q, low4))); };
      const auto high = [&](__m128i q) {
        return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(q, 4), low4)));
      };
      StoreStep(_mm512_sub_ps(_mm512_mul_ps(d0, low(q0)), m0), _mm512_sub_ps(_mm512_mul_ps(d0, low(q1)), m0), out,
                8 * sb + 2 * c, i);
      StoreStep(_mm512_sub_ps(_mm512_mul_ps(d1, high(q0)), m1), _mm512_sub_ps(_mm512_mul_ps(d1, high(q1)), m1), out,
                8 * sb + 2 * c + 1, i);
    }
  }
}

// f32, f16 and bf16 rows (e.g. attention keys and values, the latent cache) read in place, the
// last step's missing columns as zeros.
template <typename Load16>
void SplitRowFloats(int64_t n, int64_t kp, uint16_t* out, int64_t i, Load16 load16) {
  for (int64_t s = 0; s < kp / kStep; ++s) {
    const int64_t k = s * kStep, left = Min(kStep, n - k);
    const auto m0 = static_cast<__mmask16>(left >= 16 ? 0xffff : left > 0 ? (1u << left) - 1 : 0);
    const auto m1 = static_cast<__mmask16>(left >= 32 ? 0xffff : left > 16 ? (1u << (left - 16)) - 1 : 0);
    StoreStep(load16(k, m0), load16(k + 16, m1), out, s, i);
  }
}

void SplitRowFloatType(GgmlType type, const std::byte* src, int64_t n, int64_t kp, uint16_t* out, int64_t i) {
  if (type == GgmlType::kF32) {
    const auto* f = reinterpret_cast<const float*>(src);
    SplitRowFloats(n, kp, out, i, [f](int64_t k, __mmask16 m) { return _mm512_maskz_loadu_ps(m, f + k); });
  } else if (type == GgmlType::kF16) {
    const auto* h = reinterpret_cast<const uint16_t*>(src);
    SplitRowFloats(n, kp, out, i, [h](int64_t k, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, h + k)); });
  } else {  // bf16
    const auto* h = reinterpret_cast<const uint16_t*>(src);
    SplitRowFloats(n, kp, out, i, [h](int64_t k, __mmask16 m) {
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, h + k)), 16));
    });
  }
}

// Weight rows [r0, r0 + 16) dequantized (rows past `end` zero) and split into heads and tails:
// for k step s, the 16 × 32 heads at out + 1024·s and the tails 512 values further (1 KiB
// loads with no cache-set conflicts). Types other than Q8_0, Q4_K, f32, f16 and bf16 go through
// j.rows.
void PrepareWeightTile(const RowsJob& j, int64_t r0, int64_t kp, uint16_t* out) {
  const int64_t nr = Min(kTileRows, j.end - r0);
  for (int64_t i = 0; i < kTileRows; ++i) {
    const std::byte* src = j.data + static_cast<uint64_t>(r0 + Min(i, nr - 1)) * j.row_stride;
    if (i >= nr) {
      for (int64_t s = 0; s < kp / kStep; ++s) StoreStep(_mm512_setzero_ps(), _mm512_setzero_ps(), out, s, i);
    } else if (j.type == GgmlType::kQ8_0) {
      SplitRowQ8_0(src, j.cols, out, i);
    } else if (j.type == GgmlType::kQ4_K) {
      SplitRowQ4_K(src, j.cols, out, i);
    } else if (j.type == GgmlType::kF32 || j.type == GgmlType::kF16 || j.type == GgmlType::kBF16) {
      SplitRowFloatType(j.type, src, j.cols, kp, out, i);
    } else {
      float* dst = j.rows + i * kp;
      DequantizeRow(j.type, src, dst, j.cols);
      for (int64_t s = 0; s < kp / kStep; ++s) {
        uint16_t* tile = out + s * 2 * kTileValues + i * kStep;
        Split32(dst + s * kStep, tile, tile + kTileValues);
      }
    }
  }
}

// The accumulators of one weight tile against one token tile (c[i·16 + n]: weight row i, token
// n) into y, transposed 16 values at a time: y[(t0 + n)·ys + r0 + i] for i < nr, n < nt.
// GCC 12 reports the unpack intrinsics' internal undefined operand once Transpose16x16 is inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
void StoreSums(const float* c, int64_t nr, int64_t nt, float* y, int64_t ys) {
  __m512i r[kTileRows];
  for (int64_t i = 0; i < kTileRows; ++i) r[i] = _mm512_load_si512(c + i * kTileRows);
  Transpose16x16(r);
  const auto mask = static_cast<__mmask16>(nr >= 16 ? 0xffff : (1u << nr) - 1);
  for (int64_t n = 0; n < nt; ++n) _mm512_mask_storeu_ps(y + n * ys, mask, _mm512_castsi512_ps(r[n]));
}
#pragma GCC diagnostic pop

// Chunks of k steps whose token tiles (4 KiB a step for a pair) stay in L1 while every weight
// tile of the panel streams by; partial sums wait in memory between chunks.
constexpr int64_t kChunkSteps = 8;

}  // namespace

void FillActivations(const float* x, int64_t n_tokens, int64_t cols, int64_t x_stride, int64_t token_tiles,
                     int64_t k_steps, uint16_t* storage) {
  // Per tile: split 16 tokens' 32 values (padding read as zeros), then transpose so that row j
  // holds pair j of every token.
  for (int64_t tt = 0; tt < token_tiles; ++tt) {
    for (int64_t s = 0; s < k_steps; ++s) {
      const int64_t left = Min(kStep, cols - s * kStep);
      const __mmask16 m0 = static_cast<__mmask16>(left >= 16 ? 0xffff : (1u << left) - 1);
      const __mmask16 m1 = static_cast<__mmask16>(left >= 32 ? 0xffff : left > 16 ? (1u << (left - 16)) - 1 : 0);
      __m512i hi[kTileRows], lo[kTileRows];
      for (int64_t n = 0; n < kTileRows; ++n) {
        const int64_t t = tt * kTileRows + n;
        if (t >= n_tokens) {
          hi[n] = lo[n] = _mm512_setzero_si512();
          continue;
        }
        const float* src = x + t * x_stride + s * kStep;
        SplitVectors(_mm512_maskz_loadu_ps(m0, src), _mm512_maskz_loadu_ps(m1, src + 16), &hi[n], &lo[n]);
      }
      Transpose16x16(hi);
      Transpose16x16(lo);
      uint16_t* th = storage + ((tt * k_steps + s) * 2) * kTileValues;
      for (int64_t jj = 0; jj < kTileRows; ++jj) {
        _mm512_store_si512(th + jj * kStep, hi[jj]);
        _mm512_store_si512(th + kTileValues + jj * kStep, lo[jj]);
      }
    }
  }
}

void PrepareTiles(const RowsJob& j, uint16_t* out) {
  const int64_t kp = j.k_steps * kStep, tile_values = j.k_steps * 2 * kTileValues;
  for (int64_t r0 = j.begin, p = 0; r0 < j.end; r0 += kTileRows, ++p) PrepareWeightTile(j, r0, kp, out + p * tile_values);
}

void Rows(const RowsJob& j) {
  const int64_t ks = j.k_steps, kp = ks * kStep;
  const int64_t tile_values = (j.prepared != nullptr ? j.prepared_k_steps : ks) * 2 * kTileValues;
  const TileConfig config;
  _tile_loadconfig(&config);
  for (int64_t p0 = j.begin; p0 < j.end; p0 += j.panel_tiles * kTileRows) {
    const int64_t np = Min(j.panel_tiles, (j.end - p0 + kTileRows - 1) / kTileRows);
    const uint16_t* panel = j.prepared != nullptr ? j.prepared + p0 / kTileRows * tile_values : j.panel;
    if (j.prepared == nullptr) {
      for (int64_t p = 0; p < np; ++p) PrepareWeightTile(j, p0 + p * kTileRows, kp, j.panel + p * tile_values);
    }
    for (int64_t tt = 0; tt < j.token_tiles; tt += 2) {
      const bool two = tt + 1 < j.token_tiles;
      for (int64_t s0 = 0; s0 < ks; s0 += kChunkSteps) {
        const int64_t s1 = Min(ks, s0 + kChunkSteps);
        for (int64_t p = 0; p < np; p += 2) {
          const uint16_t* w0 = panel + p * tile_values;
          float* c0 = j.sums + p * kTileValues;
          if (p + 1 < np) {
            AccumulateStepsFor<2>(two, w0, w0 + tile_values, j, tt, s0, s1, s0 == 0, c0, c0 + kTileValues);
          } else {
            AccumulateStepsFor<1>(two, w0, w0, j, tt, s0, s1, s0 == 0, c0, c0);
          }
        }
      }
      for (int64_t p = 0; p < np; ++p) {
        const int64_t r0 = p0 + p * kTileRows, nr = Min(kTileRows, j.end - r0);
        for (int q = 0; q < (two ? 2 : 1); ++q) {
          const int64_t t0 = (tt + q) * kTileRows;
          StoreSums(j.sums + p * kTileValues + q * (kTileValues / 2), nr, Min(kTileRows, j.n_tokens - t0),
                    j.y + t0 * j.ys + r0, j.ys);
        }
      }
    }
  }
  _tile_release();
}

}  // namespace frugal::kernels::amx
