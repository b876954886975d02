// AVX-512 VNNI: Q8_0 and Q4_K rows × up to 4 tokens of 8-bit activations (q8_rows.h), summed in
// the int8 panels' order.
#include <immintrin.h>

#include <type_traits>

#include "kernels/avx512_sums.h"
#include "kernels/k_scales_avx512.h"
#include "kernels/q8_rows.h"
#include "kernels/quant_blocks.h"

namespace frugal::kernels {
namespace {

// Two vectors of vpdpbusd partial sums — lanes 0..7 four products each of segment A, 8..15 of
// segment B; then C, D — as [A | B | C | D] in 128-bit lanes of four partial sums each.
inline __m512i PairsToQuarters(__m512i ab, __m512i cd) {
  return _mm512_add_epi32(_mm512_shuffle_i32x4(ab, cd, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_i32x4(ab, cd, _MM_SHUFFLE(3, 1, 3, 1)));
}

// Four results of PairsToQuarters (segments 4q..4q + 3 in q[q]) as one vector of 16 whole
// segment sums: lane 4i + k holds segment 4k + i (integer adds: exact in any order).
inline __m512i QuartersToSums(const __m512i* q) {
  const __m512i q01 = _mm512_add_epi32(_mm512_unpacklo_epi64(q[0], q[1]), _mm512_unpackhi_epi64(q[0], q[1]));
  const __m512i q23 = _mm512_add_epi32(_mm512_unpacklo_epi64(q[2], q[3]), _mm512_unpackhi_epi64(q[2], q[3]));
  const __m512 a = _mm512_castsi512_ps(q01), b = _mm512_castsi512_ps(q23);
  return _mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))),
                          _mm512_castps_si512(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))));
}

// Lane j ← lane 4·(j % 4) + j / 4: QuartersToSums' segments in order.
inline __m512i SegmentOrder() { return _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0); }
// Q4_K: the segments of a group come as sub-blocks (0, 2), (1, 3), (4, 6), (5, 7), … per pair
// vector, so QuartersToSums puts sub-block 4k + s at lane 4·σ(s) + k with σ = (0, 2, 1, 3).
inline __m512i SubBlockOrderQ4K() { return _mm512_set_epi32(15, 7, 11, 3, 14, 6, 10, 2, 13, 5, 9, 1, 12, 4, 8, 0); }

// Q8_0, T tokens: per group of 16 blocks (8 pairs), |w| (unsigned) against q with w's sign, one
// vpdpbusd a pair; the pairs' partial sums reduced to 16 block sums; acc += Σ·(dw·dx).
template <int T>
void Tokens(const std::byte* w, const Q8Row* x, int64_t cols, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(w);
  const int64_t n_blocks = cols / 32;
  // byte offset of block j's scale within a group
  const __m512i scale_at = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                              _mm512_set1_epi32(static_cast<int>(sizeof(BlockQ8_0))));
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b0 = 0; b0 < n_blocks; b0 += 16) {
    const int64_t nb = n_blocks - b0 < 16 ? n_blocks - b0 : 16;  // (no std::min: a template here would be a weak symbol)
    const __mmask16 have = static_cast<__mmask16>(nb == 16 ? 0xFFFF : (1u << nb) - 1);
    const __m512i halves = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), have, scale_at, blocks + b0, 1);
    const __m512 dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(halves));  // the low 16 bits of each: d
    __m512i quarter[T][4], pending[T];
    for (int p = 0; p < 8; ++p) {
      const int64_t b = b0 + 2 * p;
      __m512i aw = _mm512_setzero_si512();
      __mmask64 negative = 0;
      if (b < n_blocks) {
        const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b].qs));
        const __m256i w1 = b + 1 < n_blocks ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b + 1].qs))
                                            : _mm256_setzero_si256();
        const __m512i wv = _mm512_inserti64x4(_mm512_castsi256_si512(w0), w1, 1);
        aw = _mm512_abs_epi8(wv);
        negative = _mm512_movepi8_mask(wv);
        _mm_prefetch(reinterpret_cast<const char*>(blocks + b) + 4096, _MM_HINT_T0);  // the pair 4 KiB on
      }
      for (int t = 0; t < T; ++t) {
        const __m512i q = _mm512_load_si512(x[t].qs + 32 * b);  // (zeros past cols)
        const __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), aw, _mm512_mask_sub_epi8(q, negative, _mm512_setzero_si512(), q));
        if (p % 2 == 0) {
          pending[t] = s;
        } else {
          quarter[t][p / 2] = PairsToQuarters(pending[t], s);
        }
      }
    }
    for (int t = 0; t < T; ++t) {
      const __m512i sums = _mm512_permutexvar_epi32(SegmentOrder(), QuartersToSums(quarter[t]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(dw, _mm512_load_ps(x[t].dx + b0)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) out[t] = Sum16(acc[t]);
}

// One row's [d·sc 0..7, dmin·mn 0..7] for super-block `blk` (16 floats; the products equal the
// scalar d·sc and dmin·mn). Q4_K or Q5_K: the same d, dmin and scale packing.
template <typename Block>
inline __m512 RowScalesMinsQ4K(const Block& blk) {
  const __m512 sm = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(ScaleMinBytesQ4K(blk.scales)));
  uint32_t d_dmin;  // d, dmin (f16)
  __builtin_memcpy(&d_dmin, &blk.d, sizeof d_dmin);
  const __m128 dd = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(d_dmin)));  // [d, dmin, 0, 0]
  const __m512 halves = _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
                                              _mm512_castps128_ps512(dd));
  return _mm512_mul_ps(sm, halves);
}

// 128 activations (sub-blocks 4k..4k + 3 of a super-block) regrouped as the low and high nibbles
// of their 64 quant bytes meet them: [4k | 4k + 2] and [4k + 1 | 4k + 3].
inline void RegroupQ4K(const int8_t* x, __m512i* lo, __m512i* hi) {
  const __m512i x0 = _mm512_load_si512(x), x1 = _mm512_load_si512(x + 64);  // [4k | 4k + 1], [4k + 2 | 4k + 3]
  *lo = _mm512_shuffle_i64x2(x0, x1, _MM_SHUFFLE(1, 0, 1, 0));
  *hi = _mm512_shuffle_i64x2(x0, x1, _MM_SHUFFLE(3, 2, 3, 2));
}

// Q4_K, T tokens: per group of two super-blocks (16 sub-blocks), each 64 bytes of quants give the
// low nibbles of sub-blocks (4k, 4k + 2) and the high ones of (4k + 1, 4k + 3) against regrouped
// activations; the partial sums reduced to 16 sub-block sums; acc += Σ·(d·sc·dx), then
// acc −= dmin·mn·(dx·Σq) — the int8 panels' scale-then-offset order.
template <int T>
void TokensQ4K(const std::byte* w, const Q8Row* x, int64_t cols, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(w);
  const int64_t n_super = cols / 256;
  const __m512i low4 = _mm512_set1_epi8(15);
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t s0 = 0; s0 < n_super; s0 += 2) {
    const bool both = s0 + 1 < n_super;
    const __m512 sm0 = RowScalesMinsQ4K(blocks[s0]);
    const __m512 sm1 = both ? RowScalesMinsQ4K(blocks[s0 + 1]) : _mm512_setzero_ps();
    const __m512 scale = _mm512_shuffle_f32x4(sm0, sm1, _MM_SHUFFLE(1, 0, 1, 0));    // d·sc of the 16 sub-blocks
    const __m512 minimum = _mm512_shuffle_f32x4(sm0, sm1, _MM_SHUFFLE(3, 2, 3, 2));  // dmin·mn
    __m512i quarter[T][4];
    for (int h = 0; h < 2; ++h) {
      const int64_t sb = s0 + h;
      for (int k = 0; k < 2; ++k) {
        __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
        if (sb < n_super) {
          const __m512i bytes = _mm512_loadu_si512(blocks[sb].qs + 64 * k);
          lo = _mm512_and_si512(bytes, low4);
          hi = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), low4);
          if (k == 0) {  // the super-block 4 KiB on (its three lines)
            for (int off = 0; off < static_cast<int>(sizeof(BlockQ4_K)); off += 64) {
              _mm_prefetch(reinterpret_cast<const char*>(blocks + sb) + 4096 + off, _MM_HINT_T0);
            }
          }
        }
        for (int t = 0; t < T; ++t) {
          __m512i x_lo, x_hi;
          RegroupQ4K(x[t].qs + 256 * sb + 128 * k, &x_lo, &x_hi);  // (zeros past cols)
          quarter[t][2 * h + k] = PairsToQuarters(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, x_lo),
                                                  _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, x_hi));
        }
      }
    }
    const int64_t b0 = 8 * s0;
    for (int t = 0; t < T; ++t) {
      const __m512i sums = _mm512_permutexvar_epi32(SubBlockOrderQ4K(), QuartersToSums(quarter[t]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(scale, _mm512_load_ps(x[t].dx + b0)), acc[t]);
      acc[t] = _mm512_fnmadd_ps(minimum, _mm512_load_ps(x[t].dsums + b0), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) out[t] = Sum16(acc[t]);
}

// Calls kernel(std::integral_constant<int, T>) for T = n_tokens (1..kQ8RowsMaxTokens).
template <typename Kernel>
void ForTokenCount(int n_tokens, Kernel kernel) {
  static_assert(kQ8RowsMaxTokens == 4);
  switch (n_tokens) {
    case 1: return kernel(std::integral_constant<int, 1>{});
    case 2: return kernel(std::integral_constant<int, 2>{});
    case 3: return kernel(std::integral_constant<int, 3>{});
    default: return kernel(std::integral_constant<int, 4>{});
  }
}

inline float Sum8(__m256 v) {
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 h2 = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
}

// Q4_0, T tokens: two blocks (64 values) a vector — block b's 16 bytes in 128-bit lanes 0 and 1
// (low nibbles: values 0–15, high: 16–31), block b + 1's in lanes 2 and 3 —, vpdpbusd of the
// unsigned nibbles against q, each lane scaled by its block's d·dx in floats; the −8 of every
// nibble as −8·d·(dx·Σq) per block (dsums), summed apart and subtracted at the end.
template <int T>
void TokensQ40(const std::byte* w, const Q8Row* x, int64_t cols, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ4_0*>(w);
  const __m512i low4 = _mm512_set1_epi8(15);
  const __m512i nibble_shift = _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0);
  const __m512i d_at = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  __m512 acc[T][2];
  __m128 offsets[T];
  for (int t = 0; t < T; ++t) {
    acc[t][0] = acc[t][1] = _mm512_setzero_ps();
    offsets[t] = _mm_setzero_ps();
  }
  for (int64_t b = 0; b < cols / 32; b += 2) {
    const BlockQ4_0& b0 = blocks[b];
    const BlockQ4_0& b1 = blocks[b + 1];
    _mm_prefetch(reinterpret_cast<const char*>(&b0) + 2048, _MM_HINT_T0);
    const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b0.qs)), q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b1.qs));
    const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set_m128i(q0, q0)), _mm256_set_m128i(q1, q1), 1);
    const __m512i values = _mm512_and_si512(_mm512_srlv_epi64(both, nibble_shift), low4);
    const __m128 d = _mm_cvtph_ps(_mm_insert_epi16(_mm_cvtsi32_si128(b0.d), b1.d, 1));  // [d_b, d_b+1, 0, 0]
    for (int t = 0; t < T; ++t) {
      const __m128 dx = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x[t].dx + b)));
      const __m128 dsums = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x[t].dsums + b)));
      offsets[t] = _mm_fmadd_ps(d, dsums, offsets[t]);
      const __m512 scale = _mm512_permutexvar_ps(d_at, _mm512_castps128_ps512(_mm_mul_ps(d, dx)));
      const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), values, _mm512_load_si512(x[t].qs + 32 * b));
      acc[t][(b / 2) % 2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), scale, acc[t][(b / 2) % 2]);
    }
  }
  for (int t = 0; t < T; ++t) {
    const __m128 o = _mm_add_ps(offsets[t], _mm_movehl_ps(offsets[t], offsets[t]));
    out[t] = Sum16(_mm512_add_ps(acc[t][0], acc[t][1])) - 8.0f * _mm_cvtss_f32(_mm_add_ss(o, _mm_movehdup_ps(o)));
  }
}

// Q5_K, T tokens: per pair j of 32-value sub-blocks (2j: low nibbles of qs[32j..32j+31] with bit
// 2j of qh; 2j + 1: high nibbles with bit 2j + 1), one vector of 64 unsigned 5-bit values,
// vpdpbusd against q, each lane (four values, of one sub-block and one activation block)
// converted and scaled by d·sc·dx; the minimums dmin·mn·dx·Σq per super-block in one 8-float
// multiply-add a token, subtracted at the end.
template <int T>
void TokensQ5K(const std::byte* w, const Q8Row* x, int64_t cols, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ5_K*>(w);
  const __m512i low4 = _mm512_set1_epi8(15), bit4 = _mm512_set1_epi8(0x10);
  const __m512i nibble_shift = _mm512_set_epi64(4, 4, 4, 4, 0, 0, 0, 0);  // first 32 bytes low nibbles, then high
  __m512 acc[T][2];
  __m256 mins[T];
  for (int t = 0; t < T; ++t) {
    acc[t][0] = acc[t][1] = _mm512_setzero_ps();
    mins[t] = _mm256_setzero_ps();
  }
  for (int64_t sb = 0; sb < cols / 256; ++sb) {
    const BlockQ5_K& blk = blocks[sb];
    _mm_prefetch(reinterpret_cast<const char*>(&blk) + 4096, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(&blk) + 4096 + 64, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(&blk) + 4096 + 128, _MM_HINT_T0);
    const __m512 sm = RowScalesMinsQ4K(blk);  // [d·sc 0..7, dmin·mn 0..7]
    const __m256 mn = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sm), 1));
    const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh)));
    __m512 dx8[T];
    for (int t = 0; t < T; ++t) {
      mins[t] = _mm256_fmadd_ps(mn, _mm256_loadu_ps(x[t].dsums + 8 * sb), mins[t]);
      dx8[t] = _mm512_castps256_ps512(_mm256_loadu_ps(x[t].dx + 8 * sb));
    }
    for (int j = 0; j < 4; ++j) {
      const __m512i ql = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * j)));
      const __m512i high_bits = _mm512_set_epi64(2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j, 2 * j, 2 * j, 2 * j);
      const __m512i values = _mm512_or_si512(_mm512_and_si512(_mm512_srlv_epi64(ql, nibble_shift), low4),
                                             _mm512_and_si512(_mm512_slli_epi16(_mm512_srlv_epi64(qh, high_bits), 4), bit4));
      // lanes 0..7: sub-block (and activation block) 2j, 8..15: 2j + 1
      const __m512i at = _mm512_set_epi32(2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1,
                                          2 * j, 2 * j, 2 * j, 2 * j, 2 * j, 2 * j, 2 * j, 2 * j);
      const __m512 lane_sc = _mm512_permutexvar_ps(at, sm);
      for (int t = 0; t < T; ++t) {
        const __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), values, _mm512_load_si512(x[t].qs + 256 * sb + 64 * j));
        const __m512 scale = _mm512_mul_ps(lane_sc, _mm512_permutexvar_ps(at, dx8[t]));
        acc[t][j % 2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), scale, acc[t][j % 2]);
      }
    }
  }
  for (int t = 0; t < T; ++t) out[t] = Sum16(_mm512_add_ps(acc[t][0], acc[t][1])) - Sum8(mins[t]);
}

// Q6_K, T tokens: per half of a super-block (128 values), the 6-bit values of its first and
// second 64 as two vectors of unsigned bytes (low nibbles of ql[0..63] with qh's bits 0–1 for
// values 0–31 and 2–3 for 32–63; high nibbles with bits 4–5 and 6–7), vpdpbusd against q, minus
// 32·Σq per four values (a second vpdpbusd); each lane (four values, of one 16-value sub-block)
// converted and scaled by d·sc·dx. Two accumulators a token, so that consecutive vectors do not
// wait on one multiply-add chain.
template <int T>
void TokensQ6K(const std::byte* w, const Q8Row* x, int64_t cols, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(w);
  const __m512i low4 = _mm512_set1_epi8(15), bits45 = _mm512_set1_epi8(0x30), thirty_two = _mm512_set1_epi8(32);
  // qh (32 bytes, both 256-bit halves) shifted right per 64-bit lane: first half by 2k, second by 2k + 2
  const __m512i shift_first = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0), shift_second = _mm512_set_epi64(6, 6, 6, 6, 4, 4, 4, 4);
  __m512 acc[T][2];
  for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < cols / 256; ++sb) {
    const BlockQ6_K& blk = blocks[sb];
    _mm_prefetch(reinterpret_cast<const char*>(&blk) + 4096, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(&blk) + 4096 + 64, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(&blk) + 4096 + 128, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(&blk) + 4096 + 192, _MM_HINT_T0);
    const __m512 sc = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)))),
                                    _mm512_set1_ps(_cvtsh_ss(blk.d)));  // d·sc of the 16 sub-blocks
    __m512 dx8[T];  // the 8 activation blocks' scales, per token
    for (int t = 0; t < T; ++t) dx8[t] = _mm512_castps256_ps512(_mm256_loadu_ps(x[t].dx + 8 * sb));
    for (int half = 0; half < 2; ++half) {
      const __m512i ql = _mm512_loadu_si512(blk.ql + 64 * half);
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * half)));
      const __m512i values[2] = {
          _mm512_or_si512(_mm512_and_si512(ql, low4), _mm512_and_si512(_mm512_slli_epi16(_mm512_srlv_epi64(qh, shift_first), 4), bits45)),
          _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                          _mm512_and_si512(_mm512_slli_epi16(_mm512_srlv_epi64(qh, shift_second), 4), bits45))};
      for (int part = 0; part < 2; ++part) {
        const int v = 2 * half + part;  // values 64v..64v+63: sub-blocks 4v..4v+3, activation blocks 2v, 2v+1
        const __m512 lane_sc = _mm512_permutexvar_ps(
            _mm512_set_epi32(4 * v + 3, 4 * v + 3, 4 * v + 3, 4 * v + 3, 4 * v + 2, 4 * v + 2, 4 * v + 2, 4 * v + 2, 4 * v + 1,
                             4 * v + 1, 4 * v + 1, 4 * v + 1, 4 * v, 4 * v, 4 * v, 4 * v),
            sc);
        const __m512i dx_at = _mm512_set_epi32(2 * v + 1, 2 * v + 1, 2 * v + 1, 2 * v + 1, 2 * v + 1, 2 * v + 1, 2 * v + 1,
                                               2 * v + 1, 2 * v, 2 * v, 2 * v, 2 * v, 2 * v, 2 * v, 2 * v, 2 * v);
        for (int t = 0; t < T; ++t) {
          const __m512i q = _mm512_load_si512(x[t].qs + 256 * sb + 64 * v);
          const __m512i sums = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), values[part], q),
                                                _mm512_dpbusd_epi32(_mm512_setzero_si512(), thirty_two, q));
          const __m512 scale = _mm512_mul_ps(lane_sc, _mm512_permutexvar_ps(dx_at, dx8[t]));
          acc[t][part] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), scale, acc[t][part]);
        }
      }
    }
  }
  for (int t = 0; t < T; ++t) out[t] = Sum16(_mm512_add_ps(acc[t][0], acc[t][1]));
}

}  // namespace

void DotQ4_0TokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  ForTokenCount(n_tokens, [&](auto t) { TokensQ40<decltype(t)::value>(w, x, cols, out); });
}

void DotQ5_KTokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  ForTokenCount(n_tokens, [&](auto t) { TokensQ5K<decltype(t)::value>(w, x, cols, out); });
}

void DotQ6_KTokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  ForTokenCount(n_tokens, [&](auto t) { TokensQ6K<decltype(t)::value>(w, x, cols, out); });
}

void DotQ4_KTokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  ForTokenCount(n_tokens, [&](auto t) { TokensQ4K<decltype(t)::value>(w, x, cols, out); });
}

void DotQ8_0TokensAvx512Vnni(const std::byte* w, const Q8Row* x, int n_tokens, int64_t cols, float* out) {
  ForTokenCount(n_tokens, [&](auto t) { Tokens<decltype(t)::value>(w, x, cols, out); });
}

}  // namespace frugal::kernels
