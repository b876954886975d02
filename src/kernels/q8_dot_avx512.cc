// Q8_0 weights × 16-bit activations with AVX-512 VNNI: one block (32 values) per 512-bit
// vector — weights widened to int16 (vpmovsxbw), vpdpwssd into int32, scaled into f32.
// Compiled with AVX-512 F/BW/VL/VNNI flags; called only when the CPU has them.
#include <immintrin.h>

#include <cstring>

#include "kernels/act_quant.h"
#include "kernels/avx512_sums.h"
#include "kernels/k_scales_avx512.h"
#include "kernels/quant_blocks.h"

namespace frugal::kernels {

namespace {
// Decode streams weights from DRAM; the hardware prefetcher stops at 4 KiB page edges and the
// out-of-order window holds only ~2 KiB of this loop, so each kernel asks for the bytes one page
// ahead (the 140 MB output head: 11.0 → 16.7 GB/s on two threads, docs/BENCHMARKS.md).
constexpr int kPrefetchAhead = 4096;

// Prefetches the `bytes` bytes that lie kPrefetchAhead past p (prefetches never fault).
inline void PrefetchAhead(const void* p, int bytes) {
  const char* c = static_cast<const char*>(p) + kPrefetchAhead;
  for (int off = 0; off < bytes; off += 64) _mm_prefetch(c + off, _MM_HINT_T0);
}


inline __m512 Block(const BlockQ8_0& w, const int16_t* xq, float xd, __m512 acc) {
  const __m512i wv = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.qs)));
  const __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), wv, _mm512_loadu_si512(xq));
  return _mm512_fmadd_ps(_mm512_set1_ps(_cvtsh_ss(w.d) * xd), _mm512_cvtepi32_ps(s), acc);
}
}  // namespace

float DotQ8_0Avx512Vnni(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(w);
  // Four independent accumulation chains hide the dpwssd → cvt → fma latencies.
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  const int64_t nb = n / 32;
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    PrefetchAhead(blocks + b, 4 * sizeof(BlockQ8_0));
    acc0 = Block(blocks[b], x.qs + 32 * (b), x.d[b], acc0);
    acc1 = Block(blocks[b + 1], x.qs + 32 * (b + 1), x.d[b + 1], acc1);
    acc2 = Block(blocks[b + 2], x.qs + 32 * (b + 2), x.d[b + 2], acc2);
    acc3 = Block(blocks[b + 3], x.qs + 32 * (b + 3), x.d[b + 3], acc3);
  }
  for (; b < nb; ++b) acc0 = Block(blocks[b], x.qs + 32 * (b), x.d[b], acc0);
  return Sum16(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

void DotQ8_0x4Avx512Vnni(const std::byte* w, const Q16Row* x, int64_t n, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(w);
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int64_t b = 0; b < n / 32; ++b) {
    const __m512i wv = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b].qs)));
    const float dw = _cvtsh_ss(blocks[b].d);
    for (int i = 0; i < 4; ++i) {
      const __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), wv, _mm512_load_si512(x[i].qs + 32 * b));
      acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(dw * x[i].d[b]), _mm512_cvtepi32_ps(s), acc[i]);
    }
  }
  for (int i = 0; i < 4; ++i) out[i] = Sum16(acc[i]);
}

// Four rows against one activation row (decode): each activation block is loaded once for the
// four, and the call, loop and reduction costs are shared (short rows, e.g. the 128-column
// per-head projections of MLA, are dominated by them).
void DotQ8_0RowsAvx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, const Q16Row& x,
                           int64_t n, float* out) {
  for (int64_t r0 = 0; r0 < n_rows; r0 += 4, w += 4 * row_stride, out += 4) {
    const BlockQ8_0* rows[4];
    for (int j = 0; j < 4; ++j) rows[j] = reinterpret_cast<const BlockQ8_0*>(w + j * row_stride);
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
    for (int64_t b = 0; b < n / 32; ++b) {
      const __m512i xv = _mm512_load_si512(x.qs + 32 * b);
      // The four rows' block scales converted together, times the activation block's scale.
      const __m128i d01 = _mm_unpacklo_epi16(_mm_loadu_si16(&rows[0][b].d), _mm_loadu_si16(&rows[1][b].d));
      const __m128i d23 = _mm_unpacklo_epi16(_mm_loadu_si16(&rows[2][b].d), _mm_loadu_si16(&rows[3][b].d));
      const __m512 scale = _mm512_castps128_ps512(
          _mm_mul_ps(_mm_cvtph_ps(_mm_unpacklo_epi32(d01, d23)), _mm_set1_ps(x.d[b])));
      for (int j = 0; j < 4; ++j) {
        const BlockQ8_0& block = rows[j][b];
        if (b % 4 == 0) PrefetchAhead(&block, 4 * sizeof(BlockQ8_0));
        const __m512i wv =
            _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs)));
        const __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), wv, xv);
        acc[j] = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_set1_epi32(j), scale), _mm512_cvtepi32_ps(s), acc[j]);
      }
    }
    Sum16x4(acc, out);
  }
}

namespace {


// Per super-block i of a Q4_K row against one activation row: the 8 combined scales
// d·sc_s·x.d[s] (stored for broadcast loads) and the minimum term Σ dmin·mn_s·x.d[s]·x.sum[s]
// accumulated into *minus.
template <typename Block>  // Q4_K or Q5_K: the same d, dmin and scale packing
inline void ScalesQ4K(const Block& b, const Q16Row& x, int64_t i, float* scale, __m256* minus) {
  const __m128i bytes = ScaleMinBytesQ4K(b.scales);
  const __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
  const __m256 mn = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
  _mm256_storeu_ps(scale, _mm256_mul_ps(_mm256_mul_ps(sc, _mm256_set1_ps(_cvtsh_ss(b.d))), _mm256_loadu_ps(x.d + 8 * i)));
  *minus = _mm256_fmadd_ps(_mm256_mul_ps(mn, _mm256_set1_ps(_cvtsh_ss(b.dmin))), _mm256_loadu_ps(x.dsum + 8 * i), *minus);
}

inline float Sum8(__m256 v) {
  const __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 h2 = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
}

// The 32 4-bit values of sub-blocks 2c (low nibbles) and 2c+1 (high), widened to int16.
inline void NibblesQ4K(const BlockQ4_K& b, int c, __m512i* lo, __m512i* hi) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c));
  *lo = _mm512_cvtepu8_epi16(_mm256_and_si256(q, low4));
  *hi = _mm512_cvtepu8_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4));
}

// Sub-blocks b0 and b0 + 1 (widened values lo, hi) against the activations, scaled by
// scale[0], scale[1] into two accumulators.
inline void SubBlockPair(__m512i lo, __m512i hi, const Q16Row& x, int64_t b0, const float* scale, __m512* acc0,
                         __m512* acc1) {
  const __m512i s0 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), lo, _mm512_load_si512(x.qs + 32 * b0));
  const __m512i s1 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), hi, _mm512_load_si512(x.qs + 32 * (b0 + 1)));
  *acc0 = _mm512_fmadd_ps(_mm512_set1_ps(scale[0]), _mm512_cvtepi32_ps(s0), *acc0);
  *acc1 = _mm512_fmadd_ps(_mm512_set1_ps(scale[1]), _mm512_cvtepi32_ps(s1), *acc1);
}

}  // namespace

float DotQ4_KAvx512Vnni(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(w);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m256 minus = _mm256_setzero_ps();  // Σ dmin·mn·x.d·x.sum, subtracted at the end
  alignas(32) float scale[8];
  for (int64_t i = 0; i < n / 256; ++i) {
    PrefetchAhead(blocks + i, sizeof(BlockQ4_K));
    ScalesQ4K(blocks[i], x, i, scale, &minus);
    for (int c = 0; c < 4; ++c) {
      __m512i lo, hi;
      NibblesQ4K(blocks[i], c, &lo, &hi);
      SubBlockPair(lo, hi, x, 8 * i + 2 * c, scale + 2 * c, &acc0, &acc1);
    }
  }
  return Sum16(_mm512_add_ps(acc0, acc1)) - Sum8(minus);
}

void DotQ4_Kx4Avx512Vnni(const std::byte* w, const Q16Row* x, int64_t n, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(w);
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  __m256 minus[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  alignas(32) float scale[4][8];
  for (int64_t i = 0; i < n / 256; ++i) {
    for (int t = 0; t < 4; ++t) ScalesQ4K(blocks[i], x[t], i, scale[t], &minus[t]);
    for (int c = 0; c < 4; ++c) {
      __m512i lo, hi;
      NibblesQ4K(blocks[i], c, &lo, &hi);  // unpacked once for four tokens
      const int64_t b0 = 8 * i + 2 * c, b1 = b0 + 1;
      for (int t = 0; t < 4; ++t) {
        const __m512i s0 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), lo, _mm512_load_si512(x[t].qs + 32 * b0));
        const __m512i h1 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), hi, _mm512_load_si512(x[t].qs + 32 * b1));
        acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(scale[t][2 * c]), _mm512_cvtepi32_ps(s0), acc[t]);
        acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(scale[t][2 * c + 1]), _mm512_cvtepi32_ps(h1), acc[t]);
      }
    }
  }
  for (int t = 0; t < 4; ++t) out[t] = Sum16(acc[t]) - Sum8(minus[t]);
}

void PairOrderKAvx512(const int16_t* in, int64_t n, int16_t* out) {
  // Word k of the even (odd) vector: element 2k (2k + 1) of the first block for k < 16, of the
  // second block (index bit 5 selects it) for k ≥ 16.
  alignas(64) int16_t even[32], odd[32];
  for (int k = 0; k < 32; ++k) {
    even[k] = static_cast<int16_t>(k < 16 ? 2 * k : 32 + 2 * (k - 16));
    odd[k] = static_cast<int16_t>(even[k] + 1);
  }
  const __m512i ie = _mm512_load_si512(even), io = _mm512_load_si512(odd);
  for (int64_t s = 0; s < n; s += 128, in += 128, out += 128) {
    const __m512i a = _mm512_loadu_si512(in), b = _mm512_loadu_si512(in + 32);
    const __m512i c = _mm512_loadu_si512(in + 64), d = _mm512_loadu_si512(in + 96);
    _mm512_storeu_si512(out, _mm512_permutex2var_epi16(a, ie, c));
    _mm512_storeu_si512(out + 32, _mm512_permutex2var_epi16(a, io, c));
    _mm512_storeu_si512(out + 64, _mm512_permutex2var_epi16(b, ie, d));
    _mm512_storeu_si512(out + 96, _mm512_permutex2var_epi16(b, io, d));
  }
}


// Each 64-byte load of a row's quants (blocks 4h..4h+3, h = 0, 1) is read as 32 16-bit words;
// word k holds bytes 2k, 2k+1 and so four nibbles, which a shift and a mask leave as int16 —
// no widening shuffle. The activations come in PairOrderK order to match, so that one vpmaddwd
// + one vpdpwssd fill an int32 vector whose low half belongs to block 4h (or 4h+1) and high half
// to block 4h+2 (4h+3): one conversion and one multiply-add per 64 weights, with a per-lane scale.
// (frugal bench matmul --type q4_K --tokens 1 and docs/BENCHMARKS.md for the gain.)
void DotQ4_KRowsAvx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, const Q16Row& x,
                           int64_t n, float* out) {
  const __m512i low4 = _mm512_set1_epi16(0x000f);
  // Lanes 0..7 take row j's d, lanes 8..15 its dmin.
  const __m512i d_of_row[4] = {_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
                               _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2),
                               _mm512_set_epi32(5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4),
                               _mm512_set_epi32(7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6, 6, 6)};
  // Lanes 0..7 take block a's scale, lanes 8..15 block b's.
  const __m512i blocks_0_2 = _mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m512i blocks_1_3 = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
  const __m512i blocks_4_6 = _mm512_set_epi32(6, 6, 6, 6, 6, 6, 6, 6, 4, 4, 4, 4, 4, 4, 4, 4);
  const __m512i blocks_5_7 = _mm512_set_epi32(7, 7, 7, 7, 7, 7, 7, 7, 5, 5, 5, 5, 5, 5, 5, 5);
  for (int64_t r0 = 0; r0 < n_rows; r0 += 4, w += 4 * row_stride, out += 4) {
    const BlockQ4_K* rows[4];
    for (int j = 0; j < 4; ++j) rows[j] = reinterpret_cast<const BlockQ4_K*>(w + j * row_stride);
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
    for (int64_t i = 0; i < n / 256; ++i) {
      // Row j's scales in one vector: lanes 0..7 d·sc_s·x.d[s], lanes 8..15
      // dmin·mn_s·x.d[s]·x.sum[s] (x.k_scales holds x.d and x.d·x.sum side by side), the
      // minimum terms subtracted at once; then, per half h, the scale vectors of blocks 4h, 4h+2
      // and of 4h+1, 4h+3, built where they are used (all 16 at once spilled registers).
      const __m512 xk = _mm512_load_ps(x.k_scales + 16 * i);
      // The four rows' packed scales in the four 128-bit lanes, unpacked together; their d and
      // dmin converted together: [d0 dmin0 d1 dmin1 … d3 dmin3].
      __m512i packed = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[0][i].scales)));
      packed = _mm512_inserti32x4(packed, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[1][i].scales)), 1);
      packed = _mm512_inserti32x4(packed, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[2][i].scales)), 2);
      packed = _mm512_inserti32x4(packed, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[3][i].scales)), 3);
      const __m512i bytes = ScaleMinBytesQ4Kx4(packed);
      __m128i d_dmin[4];  // d and dmin: adjacent f16 fields, one 32-bit load a row
      for (int j = 0; j < 4; ++j) d_dmin[j] = _mm_loadu_si32(&rows[j][i].d);
      const __m128i all_d_dmin = _mm_unpacklo_epi64(_mm_unpacklo_epi32(d_dmin[0], d_dmin[1]), _mm_unpacklo_epi32(d_dmin[2], d_dmin[3]));
      const __m512 dd = _mm512_castps256_ps512(_mm256_cvtph_ps(all_d_dmin));
      const __m128i row_bytes[4] = {_mm512_castsi512_si128(bytes), _mm512_extracti32x4_epi32(bytes, 1),
                                    _mm512_extracti32x4_epi32(bytes, 2), _mm512_extracti32x4_epi32(bytes, 3)};
      __m512 r[4];
      for (int j = 0; j < 4; ++j) {
        PrefetchAhead(&rows[j][i], sizeof(BlockQ4_K));
        r[j] = _mm512_mul_ps(
            _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(row_bytes[j])), _mm512_permutexvar_ps(d_of_row[j], dd)),
            xk);
        acc[j] = _mm512_mask_sub_ps(acc[j], 0xFF00, acc[j], r[j]);  // lanes 8..15: the minimums
      }
      for (int h = 0; h < 2; ++h) {
        const int16_t* xp = x.qs_pairs + 256 * i + 128 * h;
        const __m512i even_lo = _mm512_load_si512(xp), odd_lo = _mm512_load_si512(xp + 32);
        const __m512i even_hi = _mm512_load_si512(xp + 64), odd_hi = _mm512_load_si512(xp + 96);
        const __m512i pick_lo = h == 0 ? blocks_0_2 : blocks_4_6, pick_hi = h == 0 ? blocks_1_3 : blocks_5_7;
        for (int j = 0; j < 4; ++j) {
          const __m512i q = _mm512_loadu_si512(rows[j][i].qs + 64 * h);
          const __m512i q_even_lo = _mm512_and_si512(q, low4),
                        q_odd_lo = _mm512_and_si512(_mm512_srli_epi16(q, 8), low4);
          const __m512i q_even_hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), low4),
                        q_odd_hi = _mm512_srli_epi16(q, 12);
          const __m512i lo =
              _mm512_dpwssd_epi32(_mm512_madd_epi16(q_even_lo, even_lo), q_odd_lo, odd_lo);
          const __m512i hi =
              _mm512_dpwssd_epi32(_mm512_madd_epi16(q_even_hi, even_hi), q_odd_hi, odd_hi);
          acc[j] = _mm512_fmadd_ps(_mm512_permutexvar_ps(pick_lo, r[j]), _mm512_cvtepi32_ps(lo), acc[j]);
          acc[j] = _mm512_fmadd_ps(_mm512_permutexvar_ps(pick_hi, r[j]), _mm512_cvtepi32_ps(hi), acc[j]);
        }
      }
    }
    Sum16x4(acc, out);
  }
}

namespace {

// Sub-blocks 2c (low nibbles + bit 2c of qh) and 2c+1 (high nibbles + bit 2c+1) of a Q5_K
// super-block, widened to int16 (0..31).
inline void ValuesQ5K(const BlockQ5_K& b, __m256i qh, int c, __m512i* lo, __m512i* hi) {
  const __m256i low4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c));
  const __m256i h0 =
      _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c)), one), 4);
  const __m256i h1 = _mm256_slli_epi16(
      _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c + 1)), one), 4);
  *lo = _mm512_cvtepu8_epi16(_mm256_or_si256(_mm256_and_si256(q, low4), h0));
  *hi = _mm512_cvtepu8_epi16(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), h1));
}

}  // namespace

float DotQ5_KAvx512Vnni(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ5_K*>(w);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m256 minus = _mm256_setzero_ps();
  alignas(32) float scale[8];
  for (int64_t i = 0; i < n / 256; ++i) {
    const BlockQ5_K& b = blocks[i];
    PrefetchAhead(&b, sizeof(BlockQ5_K));
    ScalesQ4K(b, x, i, scale, &minus);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh));
    for (int c = 0; c < 4; ++c) {
      __m512i lo, hi;
      ValuesQ5K(b, qh, c, &lo, &hi);
      SubBlockPair(lo, hi, x, 8 * i + 2 * c, scale + 2 * c, &acc0, &acc1);
    }
  }
  return Sum16(_mm512_add_ps(acc0, acc1)) - Sum8(minus);
}

void DotQ5_Kx4Avx512Vnni(const std::byte* w, const Q16Row* x, int64_t n, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ5_K*>(w);
  __m512 acc0[4], acc1[4];
  __m256 minus[4];
  for (int t = 0; t < 4; ++t) {
    acc0[t] = acc1[t] = _mm512_setzero_ps();
    minus[t] = _mm256_setzero_ps();
  }
  alignas(32) float scale[4][8];
  for (int64_t i = 0; i < n / 256; ++i) {
    const BlockQ5_K& b = blocks[i];
    for (int t = 0; t < 4; ++t) ScalesQ4K(b, x[t], i, scale[t], &minus[t]);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh));
    for (int c = 0; c < 4; ++c) {
      __m512i lo, hi;
      ValuesQ5K(b, qh, c, &lo, &hi);  // decoded once for four tokens
      for (int t = 0; t < 4; ++t) SubBlockPair(lo, hi, x[t], 8 * i + 2 * c, scale[t] + 2 * c, &acc0[t], &acc1[t]);
    }
  }
  for (int t = 0; t < 4; ++t) out[t] = Sum16(_mm512_add_ps(acc0[t], acc1[t])) - Sum8(minus[t]);
}

float DotQ4_0Avx512Vnni(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ4_0*>(w);
  const __m128i low4 = _mm_set1_epi8(0x0f);
  const __m512i eight = _mm512_set1_epi16(8);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  const int64_t nb = n / 32;
  for (int64_t b = 0; b < nb; ++b) {
    if (b % 4 == 0) PrefetchAhead(blocks + b, 4 * sizeof(BlockQ4_0));
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[b].qs));
    // Elements 0..15 are the low nibbles, 16..31 the high ones; each minus 8.
    const __m256i bytes = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), low4), _mm_and_si128(q, low4));
    const __m512i v = _mm512_sub_epi16(_mm512_cvtepu8_epi16(bytes), eight);
    const __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), v, _mm512_load_si512(x.qs + 32 * b));
    const __m512 term = _mm512_mul_ps(_mm512_set1_ps(_cvtsh_ss(blocks[b].d) * x.d[b]), _mm512_cvtepi32_ps(s));
    if (b & 1) {
      acc1 = _mm512_add_ps(acc1, term);
    } else {
      acc0 = _mm512_add_ps(acc0, term);
    }
  }
  return Sum16(_mm512_add_ps(acc0, acc1));
}

float DotMxfp4Avx512Vnni(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockMxfp4*>(w);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i table = _mm256_broadcastsi128_si256(_mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12));
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  const int64_t nb = n / 32;
  for (int64_t b = 0; b < nb; ++b) {
    if (b % 4 == 0) PrefetchAhead(blocks + b, 4 * sizeof(BlockMxfp4));
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[b].qs));
    // Elements 0..15 from the low nibbles (low lane), 16..31 from the high ones, looked up as
    // signed bytes in one shuffle.
    const __m256i codes = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), low4);
    const __m512i v = _mm512_cvtepi8_epi16(_mm256_shuffle_epi8(table, codes));
    const __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), v, _mm512_load_si512(x.qs + 32 * b));
    const __m512 term = _mm512_mul_ps(_mm512_set1_ps(Mxfp4Scale(blocks[b].e) * x.d[b]), _mm512_cvtepi32_ps(s));
    if (b & 1) {
      acc1 = _mm512_add_ps(acc1, term);
    } else {
      acc0 = _mm512_add_ps(acc0, term);
    }
  }
  return Sum16(_mm512_add_ps(acc0, acc1));
}

void DotMxfp4RowsAvx512Vnni(const std::byte* w, uint64_t row_stride, int64_t n_rows, const Q16Row& x, int64_t n,
                            float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i table = _mm256_broadcastsi128_si256(_mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12));
  for (int64_t r0 = 0; r0 < n_rows; r0 += 4, w += 4 * row_stride, out += 4) {
    const BlockMxfp4* rows[4];
    for (int j = 0; j < 4; ++j) rows[j] = reinterpret_cast<const BlockMxfp4*>(w + j * row_stride);
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int64_t b = 0; b < n / 32; ++b) {
      const __m512i xv = _mm512_load_si512(x.qs + 32 * b);
      const float xd = x.d[b];
      for (int j = 0; j < 4; ++j) {
        const BlockMxfp4& block = rows[j][b];
        if (b % 4 == 0) PrefetchAhead(&block, 4 * sizeof(BlockMxfp4));
        // Low nibbles (values 0..15) in the low lane, high ones (16..31) in the high lane, looked up
        // in one 256-bit shuffle.
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block.qs));
        const __m256i codes = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), low4);
        const __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_cvtepi8_epi16(_mm256_shuffle_epi8(table, codes)), xv);
        // The block's scale times the activation block's, broadcast (no shuffle-port permute).
        acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(Mxfp4Scale(block.e) * xd), _mm512_cvtepi32_ps(s), acc[j]);
      }
    }
    Sum16x4(acc, out);
  }
}

namespace {

// Activation block k of a Q6_K super-block (half k/4, group k%4; dequantize_k_ref.cc) as 32
// signed int16 values (−32..31).
inline __m512i ValuesQ6K(const BlockQ6_K& b, int k) {
  const __m256i low4 = _mm256_set1_epi8(0x0f), low2 = _mm256_set1_epi8(0x03);
  const int h = k / 4, g = k % 4;
  const __m256i ql = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * h + 32 * (g & 1)));
  const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h));
  const __m256i low = g < 2 ? _mm256_and_si256(ql, low4) : _mm256_and_si256(_mm256_srli_epi16(ql, 4), low4);
  const __m256i high = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * g)), low2);
  const __m256i q8 = _mm256_or_si256(low, _mm256_slli_epi16(high, 4));  // 0..63 per byte
  return _mm512_sub_epi16(_mm512_cvtepu8_epi16(q8), _mm512_set1_epi16(32));
}

// acc += the block's products with one activation row, each 16-value half with its own scale:
// lanes 0..7 hold elements 0..15 (sc[0]), lanes 8..15 elements 16..31 (sc[1]).
inline __m512 AccumulateQ6K(__m512i q16, const int8_t* sc, float d, const Q16Row& x, int64_t blk, __m512 acc) {
  const __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), q16, _mm512_load_si512(x.qs + 32 * blk));
  const float dd = d * x.d[blk];
  const __m512 scale = _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(dd * sc[0]), _mm512_set1_ps(dd * sc[1]));
  return _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(s), acc);
}

}  // namespace

float DotQ6_KAvx512Vnni(const std::byte* w, Q16Row x, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(w);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / 256; ++i) {
    const BlockQ6_K& b = blocks[i];
    PrefetchAhead(&b, sizeof(BlockQ6_K));
    const float d = _cvtsh_ss(b.d);
    for (int k = 0; k < 8; ++k) {
      acc = AccumulateQ6K(ValuesQ6K(b, k), b.scales + 8 * (k / 4) + 2 * (k % 4), d, x, 8 * i + k, acc);
    }
  }
  return Sum16(acc);
}

void DotQ6_Kx4Avx512Vnni(const std::byte* w, const Q16Row* x, int64_t n, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(w);
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int64_t i = 0; i < n / 256; ++i) {
    const BlockQ6_K& b = blocks[i];
    const float d = _cvtsh_ss(b.d);
    for (int k = 0; k < 8; ++k) {
      const __m512i q16 = ValuesQ6K(b, k);  // decoded once for four tokens
      const int8_t* sc = b.scales + 8 * (k / 4) + 2 * (k % 4);
      for (int t = 0; t < 4; ++t) acc[t] = AccumulateQ6K(q16, sc, d, x[t], 8 * i + k, acc[t]);
    }
  }
  for (int t = 0; t < 4; ++t) out[t] = Sum16(acc[t]);
}

}  // namespace frugal::kernels
