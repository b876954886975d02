// The int8 products on AVX-512 VNNI (int8_gemm.h): activation quantization, Q8_0 and Q4_K rows
// packed in registers, and the 4-row × 4-token kernel. Compiled with AVX-512 F/BW/VL/VNNI flags;
// called only when the CPU has them. Everything local has internal linkage and no std:: template
// is used (no weak symbols, ARCHITECTURE "Kernels").
#include <immintrin.h>

#include <cfloat>

#include "kernels/avx512_sums.h"
#include "kernels/int8_gemm_internal.h"
#include "kernels/k_scales_avx512.h"
#include "kernels/quant_blocks.h"

// (GCC 12 bug 105593: the AVX-512 shuffle intrinsics read an "uninitialized" placeholder.)
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace frugal::kernels {
namespace {

float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

// Natural order → interleaved order of one group. in[i] holds blocks 2i and 2i + 1 (32 bytes
// each, natural column order); out[c] gets lane j = bytes 4c..4c+3 of block j. The 8 dword
// pairs (c, 8 + c) of each input are made adjacent, then an 8 × 8 transpose of 64-bit units.
void Interleave(const __m512i* in, __m512i* out) {
  const __m512i pairs = _mm512_set_epi32(15, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8, 0);
  __m512i w[8], t[8], u[8];
  for (int i = 0; i < 8; ++i) w[i] = _mm512_permutexvar_epi32(pairs, in[i]);  // qword c: (block 2i, 2i+1) bytes 4c..
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm512_unpacklo_epi64(w[i], w[i + 1]);      // qwords 0,2,4,6 of w[i], w[i+1] interleaved
    t[i + 1] = _mm512_unpackhi_epi64(w[i], w[i + 1]);  // qwords 1,3,5,7
  }
  for (int i = 0; i < 8; i += 4) {
    for (int odd = 0; odd < 2; ++odd) {
      u[i + 2 * odd] = _mm512_shuffle_i64x2(t[i + odd], t[i + 2 + odd], 0x88);      // 128-bit lanes 0, 2
      u[i + 2 * odd + 1] = _mm512_shuffle_i64x2(t[i + odd], t[i + 2 + odd], 0xDD);  // lanes 1, 3
    }
  }
  // u[0]: qwords 0 and 4 of w[0..3]; u[1]: 2 and 6; u[2]: 1 and 5; u[3]: 3 and 7 (u[4..7]: w[4..7]).
  const int first[4] = {0, 2, 1, 3};
  for (int v = 0; v < 4; ++v) {
    out[first[v]] = _mm512_shuffle_i64x2(u[v], u[4 + v], 0x88);
    out[first[v] + 4] = _mm512_shuffle_i64x2(u[v], u[4 + v], 0xDD);
  }
}

// The parts of one group of a quad (the offsets of Int8Panel; QuadGroup's, without its inline
// members).
struct Group {
  uint8_t* base;
};
uint8_t* Weights(Group q, int c, int r) { return q.base + 256 * c + 64 * r; }
float* Scales(Group q, int h, int r) { return reinterpret_cast<float*>(q.base + Int8Panel::kScalesAt + 256 * h + 64 * r); }
int32_t* Starts(Group q, int h, int r) { return reinterpret_cast<int32_t*>(q.base + Int8Panel::kStartsAt + 256 * h + 64 * r); }
float* Offsets(Group q, int r) { return reinterpret_cast<float*>(q.base + Int8Panel::kOffsetsAt + 64 * r); }

int64_t GroupsOf(int64_t cols) { return (cols + 511) / 512; }

// Row r's scales (both halves) and offsets in a group.
struct RowParts {
  float *scale0, *scale1, *offsets;
};
RowParts PartsOf(Group q, int r) { return {Scales(q, 0, r), Scales(q, 1, r), Offsets(q, r)}; }

void StoreChunks(Group q, int r, const __m512i* natural) {
  __m512i chunks[8];
  Interleave(natural, chunks);
  for (int c = 0; c < 8; ++c) _mm512_store_si512(Weights(q, c, r), chunks[c]);
}

// Blocks 16g .. 16g + 15 of a Q8_0 row (zeros past the last block).
void PackGroupQ8_0(const BlockQ8_0* blocks, int64_t nb, int64_t g, Group q, int r) {
  __m512i natural[8];
  for (int i = 0; i < 8; ++i) {
    __m256i half[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    for (int k = 0; k < 2; ++k) {
      const int64_t b = 16 * g + 2 * i + k;
      if (b < nb) half[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b].qs));
    }
    natural[i] = _mm512_inserti64x4(_mm512_castsi256_si512(half[0]), half[1], 1);
  }
  StoreChunks(q, r, natural);
  const RowParts o = PartsOf(q, r);
  float *scale0 = o.scale0, *scale1 = o.scale1, *m = o.offsets;
  for (int j = 0; j < 16; ++j) {
    const int64_t b = 16 * g + j;
    scale0[j] = scale1[j] = b < nb ? HalfToFloat(blocks[b].d) : 0.0f;
    m[j] = 0.0f;
  }
}

// The 32 integers of one block of a 32-value format: nibbles (value l: low nibble of qs[l],
// value 16 + l: high nibble), the fifth bit l of qh where present, minus `offset`.
__m256i Values32(const uint8_t* qs, const uint8_t* qh, int offset) {
  const __m128i low4 = _mm_set1_epi8(0x0f);
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  __m256i q = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), low4), _mm_and_si128(v, low4));
  if (qh != nullptr) {
    uint32_t h;
    __builtin_memcpy(&h, qh, 4);
    q = _mm256_or_si256(q, _mm256_and_si256(_mm256_movm_epi8(h), _mm256_set1_epi8(0x10)));
  }
  return _mm256_sub_epi8(q, _mm256_set1_epi8(static_cast<char>(offset)));
}

// Blocks 16g .. 16g + 15 of a Q4_0/Q4_1/Q5_0/Q5_1 row (zeros past the last block).
template <typename Block>
void PackGroup32(const Block* blocks, int64_t nb, int64_t g, Group q, int r) {
  constexpr bool kFifthBit = sizeof(Block) == sizeof(BlockQ5_0) || sizeof(Block) == sizeof(BlockQ5_1);
  constexpr bool kOffsets = sizeof(Block) == sizeof(BlockQ4_1) || sizeof(Block) == sizeof(BlockQ5_1);
  constexpr int kOffset = kOffsets ? 0 : kFifthBit ? 16 : 8;
  __m512i natural[8];
  const RowParts o = PartsOf(q, r);
  float *scale0 = o.scale0, *scale1 = o.scale1, *m = o.offsets;
  for (int j = 0; j < 16; ++j) {
    const int64_t b = 16 * g + j;
    __m256i values = _mm256_setzero_si256();
    scale0[j] = scale1[j] = m[j] = 0.0f;
    if (b < nb) {
      const Block& block = blocks[b];
      const uint8_t* qh = nullptr;
      if constexpr (kFifthBit) qh = block.qh;
      values = Values32(block.qs, qh, kOffset);
      scale0[j] = scale1[j] = HalfToFloat(block.d);
      if constexpr (kOffsets) m[j] = HalfToFloat(block.m);
    }
    if (j % 2 == 0) {
      natural[j / 2] = _mm512_castsi256_si512(values);
    } else {
      natural[j / 2] = _mm512_inserti64x4(natural[j / 2], values, 1);
    }
  }
  StoreChunks(q, r, natural);
}

// Blocks 16g .. 16g + 15 of an MXFP4 row: each code looked up as its doubled E2M1 integer
// (kMxfp4Doubled), the block's scale 2^(e − 128) (zeros past the last block).
void PackGroupMxfp4(const BlockMxfp4* blocks, int64_t nb, int64_t g, Group q, int r) {
  const __m128i low4 = _mm_set1_epi8(0x0f);
  const __m128i table = _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
  __m512i natural[8];
  const RowParts o = PartsOf(q, r);
  for (int j = 0; j < 16; ++j) {
    const int64_t b = 16 * g + j;
    __m256i values = _mm256_setzero_si256();
    o.scale0[j] = o.scale1[j] = o.offsets[j] = 0.0f;
    if (b < nb) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[b].qs));
      values = _mm256_set_m128i(_mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(v, 4), low4)),
                                _mm_shuffle_epi8(table, _mm_and_si128(v, low4)));
      o.scale0[j] = o.scale1[j] = Mxfp4Scale(blocks[b].e);
    }
    if (j % 2 == 0) {
      natural[j / 2] = _mm512_castsi256_si512(values);
    } else {
      natural[j / 2] = _mm512_inserti64x4(natural[j / 2], values, 1);
    }
  }
  StoreChunks(q, r, natural);
}

// Super-block i of a Q5_K row into natural[4k .. 4k + 3]: Q4_K's nibbles with the fifth bit of
// sub-block s from bit s of qh (per byte: a 16-bit shift, then a mask that keeps bit 0).
void PackSuperQ5_K(const BlockQ5_K& b, __m512i* natural) {
  const __m256i low4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
  const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh));
  for (int c = 0; c < 4; ++c) {  // sub-blocks 2c (low nibbles) and 2c + 1 (high)
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c));
    const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4);
    const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4);
    const __m256i lo = _mm256_or_si256(_mm256_and_si256(v, low4), h0);
    const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low4), h1);
    natural[c] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
  }
}

// Super-blocks 2g and 2g + 1 of a Q4_K or Q5_K row (zeros past the last): the 6-bit scales
// and minimums, and the integers.
template <typename Block>
void PackGroupK4(const Block* blocks, int64_t n_super, int64_t g, Group q, int r) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m512i natural[8];
  const RowParts o = PartsOf(q, r);
  float *scale0 = o.scale0, *scale1 = o.scale1, *m = o.offsets;
  for (int k = 0; k < 2; ++k) {
    const int64_t i = 2 * g + k;
    if (i >= n_super) {
      for (int c = 0; c < 4; ++c) natural[4 * k + c] = _mm512_setzero_si512();
      for (int s = 0; s < 8; ++s) scale0[8 * k + s] = scale1[8 * k + s] = m[8 * k + s] = 0.0f;
      continue;
    }
    const Block& b = blocks[i];
    const float d = HalfToFloat(b.d), dmin = HalfToFloat(b.dmin);
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, mn;
      UnpackScaleMinK4(b.scales, s, &sc, &mn);
      scale0[8 * k + s] = scale1[8 * k + s] = d * static_cast<float>(sc);
      m[8 * k + s] = -(dmin * static_cast<float>(mn));
    }
    if constexpr (sizeof(Block) == sizeof(BlockQ5_K)) {
      PackSuperQ5_K(b, natural + 4 * k);
    } else {
      for (int c = 0; c < 4; ++c) {  // sub-blocks 2c (low nibbles) and 2c + 1 (high)
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c));
        const __m256i lo = _mm256_and_si256(v, low4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
        natural[4 * k + c] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
      }
    }
  }
  StoreChunks(q, r, natural);
}

// Super-blocks 2g and 2g + 1 of a Q6_K row (zeros past the last). Per half h of a super-block
// (128 values): low 4 bits from ql[64h + l] (blocks 4h, 4h + 2) and ql[64h + 32 + l] (4h + 1,
// 4h + 3), low and high nibbles; 2 high bits from qh[32h + l] at shift 0, 2, 4, 6; minus 32.
// One scale per 16 values: half 0 and half 1 of each block.
void PackGroupQ6_K(const BlockQ6_K* blocks, int64_t n_super, int64_t g, Group q, int r) {
  const __m256i low4 = _mm256_set1_epi8(0x0f), two = _mm256_set1_epi8(3), bias = _mm256_set1_epi8(32);
  __m512i natural[8];
  const RowParts o = PartsOf(q, r);
  float *scale0 = o.scale0, *scale1 = o.scale1, *m = o.offsets;
  for (int k = 0; k < 2; ++k) {
    const int64_t i = 2 * g + k;
    for (int s = 0; s < 8; ++s) m[8 * k + s] = 0.0f;
    if (i >= n_super) {
      for (int c = 0; c < 4; ++c) natural[4 * k + c] = _mm512_setzero_si512();
      for (int s = 0; s < 8; ++s) scale0[8 * k + s] = scale1[8 * k + s] = 0.0f;
      continue;
    }
    const BlockQ6_K& b = blocks[i];
    const float d = HalfToFloat(b.d);
    for (int s = 0; s < 8; ++s) {  // block s = 4h + bq: scales 8h + 2bq (first 16 values), + 1
      const int h = s / 4, bq = s % 4;
      scale0[8 * k + s] = d * static_cast<float>(b.scales[8 * h + 2 * bq]);
      scale1[8 * k + s] = d * static_cast<float>(b.scales[8 * h + 2 * bq + 1]);
    }
    for (int h = 0; h < 2; ++h) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * h));
      const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * h + 32));
      const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h));
      auto high = [&](int shift) { return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, shift), two), 4); };
      const __m256i q1 = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(a, low4), high(0)), bias);
      const __m256i q2 = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(c, low4), high(2)), bias);
      const __m256i q3 = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), low4), high(4)), bias);
      const __m256i q4 = _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(c, 4), low4), high(6)), bias);
      natural[4 * k + 2 * h] = _mm512_inserti64x4(_mm512_castsi256_si512(q1), q2, 1);      // blocks 4h, 4h + 1
      natural[4 * k + 2 * h + 1] = _mm512_inserti64x4(_mm512_castsi256_si512(q3), q4, 1);  // blocks 4h + 2, 4h + 3
    }
  }
  StoreChunks(q, r, natural);
}

// Group g of a Q8_0 or Q4_K row in panel order (panel_rows.h): its chunks are the panel's
// interleaving already (Q8_0: w + 128 back to w; Q4_K: a vector's low and high nibbles are
// chunks v and v + 4).
void PackGroupFromPanels(GgmlType type, const std::byte* row, int64_t cols, int64_t g, Group q, int r) {
  const RowParts o = PartsOf(q, r);
  if (type == GgmlType::kQ8_0) {
    for (int c = 0; c < 8; ++c) {
      const __m512i u = _mm512_loadu_si512(row + 512 * g + 64 * c);
      _mm512_store_si512(Weights(q, c, r), _mm512_xor_si512(u, _mm512_set1_epi8(static_cast<char>(0x80))));
    }
    const __m512 scale = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + cols + 32 * g)));
    _mm512_store_ps(o.scale0, scale);
    _mm512_store_ps(o.scale1, scale);
    _mm512_store_ps(o.offsets, _mm512_setzero_ps());
    return;
  }
  const __m512i low4 = _mm512_set1_epi8(15);
  for (int v = 0; v < 4; ++v) {
    const __m512i bytes = _mm512_loadu_si512(row + 256 * g + 64 * v);
    _mm512_store_si512(Weights(q, v, r), _mm512_and_si512(bytes, low4));
    _mm512_store_si512(Weights(q, v + 4, r), _mm512_and_si512(_mm512_srli_epi16(bytes, 4), low4));
  }
  __m512 scale, minimum;
  ScalesMinsQ4K(row + cols / 2 + 32 * g, &scale, &minimum);
  _mm512_store_ps(o.scale0, scale);
  _mm512_store_ps(o.scale1, scale);
  _mm512_store_ps(o.offsets, _mm512_sub_ps(_mm512_setzero_ps(), minimum));
}

// start[h][r] = −128·Σ w of each block over the chunks of half h (all 8 when halves == 1; then
// start[1][r] = 0).
void GroupStarts(Group q, int halves) {
  const __m512i ones = _mm512_set1_epi8(1);
  for (int r = 0; r < 4; ++r) {
    for (int h = 0; h < 2; ++h) {
      __m512i sum = _mm512_setzero_si512();
      if (h < halves) {
        for (int c = 8 / halves * h; c < 8 / halves * (h + 1); ++c) {
          sum = _mm512_dpbusd_epi32(sum, ones, _mm512_load_si512(Weights(q, c, r)));
        }
      }
      _mm512_store_si512(Starts(q, h, r), _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sum, 7)));
    }
  }
}

// The 4 rows × NT tokens of one quad over every group; out[4·t + r]. HALVES: scales per block
// (1, or 2 for Q6_K); OFFSETS: per-block offsets m. (A fixed size per instantiation keeps the
// sums in registers; internal linkage, so no weak symbol.)
template <int NT, int HALVES, bool OFFSETS>
void QuadTimes(const uint8_t* quad, int64_t groups, const uint8_t* const* u, const float* const* dx,
               const float* const* sx, float* out) {
  __m512 acc[4][NT];
  for (int r = 0; r < 4; ++r) {
    for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* base = quad + g * Int8Panel::kGroupBytes;
    for (int h = 0; h < HALVES; ++h) {
      __m512i sum[4][NT];
      for (int r = 0; r < 4; ++r) {
        const __m512i start = _mm512_load_si512(base + Int8Panel::kStartsAt + 256 * h + 64 * r);
        for (int t = 0; t < NT; ++t) sum[r][t] = start;
      }
      for (int c = 8 / HALVES * h; c < 8 / HALVES * (h + 1); ++c) {
        __m512i w[4];
        for (int r = 0; r < 4; ++r) w[r] = _mm512_load_si512(base + 256 * c + 64 * r);
        for (int t = 0; t < NT; ++t) {
          const __m512i xu = _mm512_load_si512(u[t] + 512 * g + 64 * c);
          for (int r = 0; r < 4; ++r) sum[r][t] = _mm512_dpbusd_epi32(sum[r][t], xu, w[r]);
        }
      }
      for (int r = 0; r < 4; ++r) {
        const __m512 scale = _mm512_load_ps(reinterpret_cast<const float*>(base + Int8Panel::kScalesAt + 256 * h + 64 * r));
        for (int t = 0; t < NT; ++t) {
          const __m512 s = _mm512_mul_ps(scale, _mm512_loadu_ps(dx[t] + 16 * g));
          acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[r][t]), s, acc[r][t]);
        }
      }
    }
    if (OFFSETS) {
      for (int r = 0; r < 4; ++r) {
        const __m512 m = _mm512_load_ps(reinterpret_cast<const float*>(base + Int8Panel::kOffsetsAt + 64 * r));
        for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_fmadd_ps(m, _mm512_loadu_ps(sx[t] + 16 * g), acc[r][t]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) {
    const __m512 rows[4] = {acc[0][t], acc[1][t], acc[2][t], acc[3][t]};
    Sum16x4(rows, out + 4 * t);
  }
}

using QuadFn = void (*)(const uint8_t*, int64_t, const uint8_t* const*, const float* const*, const float* const*, float*);

template <int HALVES, bool OFFSETS>
QuadFn QuadFor(int nt) {
  switch (nt) {
    case 4: return QuadTimes<4, HALVES, OFFSETS>;
    case 3: return QuadTimes<3, HALVES, OFFSETS>;
    case 2: return QuadTimes<2, HALVES, OFFSETS>;
    default: return QuadTimes<1, HALVES, OFFSETS>;
  }
}

QuadFn QuadFor(int halves, bool offsets, int nt) {
  if (halves == 2) return offsets ? QuadFor<2, true>(nt) : QuadFor<2, false>(nt);
  return offsets ? QuadFor<1, true>(nt) : QuadFor<1, false>(nt);
}

}  // namespace

void QuantizeInt8TokenAvx512(const float* x, Int8Shape s, uint8_t* out) {
  const int64_t groups = GroupsOf(s.cols);
  float* dx = reinterpret_cast<float*>(out + 512 * groups);
  float* sx = dx + 16 * groups;
  const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  const __m512i half = _mm512_castps_si512(_mm512_set1_ps(0.5f));
  for (int64_t g = 0; g < groups; ++g) {
    __m512i natural[8];
    __m128i bytes[32];  // block j: bytes[2j], bytes[2j + 1]
    for (int j = 0; j < 16; ++j) {
      const int64_t k0 = 512 * g + 32 * j;
      const int64_t n = s.cols - k0 < 0 ? 0 : s.cols - k0 > 32 ? 32 : s.cols - k0;
      const __mmask16 m0 = static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1u);
      const __mmask16 m1 = static_cast<__mmask16>(n >= 32 ? 0xFFFF : n <= 16 ? 0 : (1u << (n - 16)) - 1u);
      const __m512 v0 = _mm512_maskz_loadu_ps(m0, x + k0), v1 = _mm512_maskz_loadu_ps(m1, x + k0 + 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
      const float d = amax / 127.0f;
      const float inv = d >= FLT_MIN ? 1.0f / d : 0.0f;  // as QuantizeInt8Token
      const __m512 vinv = _mm512_set1_ps(inv);
      __m512i q[2];
      const __m512 v[2] = {_mm512_mul_ps(v0, vinv), _mm512_mul_ps(v1, vinv)};
      for (int k = 0; k < 2; ++k) {  // round half away from zero: truncate v ± 0.5
        const __m512i sign_bit = _mm512_and_si512(_mm512_castps_si512(v[k]), sign);
        q[k] = _mm512_cvttps_epi32(_mm512_add_ps(v[k], _mm512_castsi512_ps(_mm512_or_si512(half, sign_bit))));
        bytes[2 * j + k] = _mm_xor_si128(_mm512_cvtepi32_epi8(q[k]), _mm_set1_epi8(static_cast<char>(0x80)));
      }
      dx[16 * g + j] = d;
      sx[16 * g + j] = d * static_cast<float>(_mm512_reduce_add_epi32(_mm512_add_epi32(q[0], q[1])));
    }
    for (int i = 0; i < 8; ++i) {
      const __m256i lo = _mm256_set_m128i(bytes[4 * i + 1], bytes[4 * i]);
      const __m256i hi = _mm256_set_m128i(bytes[4 * i + 3], bytes[4 * i + 2]);
      natural[i] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
    __m512i chunks[8];
    Interleave(natural, chunks);
    for (int c = 0; c < 8; ++c) _mm512_store_si512(out + 512 * g + 64 * c, chunks[c]);
  }
}

void PackInt8PanelAvx512(const WeightRows& w, int64_t begin, int64_t end, uint8_t* panel) {
  switch (w.type) {
    case GgmlType::kQ8_0: case GgmlType::kQ4_0: case GgmlType::kQ4_1: case GgmlType::kQ5_0: case GgmlType::kQ5_1:
    case GgmlType::kQ4_K: case GgmlType::kQ5_K: case GgmlType::kQ6_K: case GgmlType::kMXFP4:
      break;
    default:
      PackInt8PanelRef(w, begin, end, panel);
      return;
  }
  const int halves = w.type == GgmlType::kQ6_K ? 2 : 1;
  const int64_t groups = GroupsOf(w.cols);
  const uint64_t quad_bytes = static_cast<uint64_t>(groups) * Int8Panel::kGroupBytes;
  const uint64_t stride = w.stride_bytes ? w.stride_bytes : RowBytes(w.type, static_cast<uint64_t>(w.cols));
  for (int64_t r0 = begin; r0 < end; r0 += 4) {
    uint8_t* quad = panel + static_cast<uint64_t>((r0 - begin) / 4) * quad_bytes;
    for (int64_t g = 0; g < groups; ++g) {
      const Group q{quad + static_cast<uint64_t>(g) * Int8Panel::kGroupBytes};
      for (int r = 0; r < 4; ++r) {
        if (r0 + r >= end) {  // padding: zero weights
          for (int c = 0; c < 8; ++c) _mm512_store_si512(Weights(q, c, r), _mm512_setzero_si512());
          for (int h = 0; h < 2; ++h) _mm512_store_ps(Scales(q, h, r), _mm512_setzero_ps());
          _mm512_store_ps(Offsets(q, r), _mm512_setzero_ps());
        } else if (w.order == RowOrder::kPanels) {
          PackGroupFromPanels(w.type, w.data + static_cast<uint64_t>(r0 + r) * stride, w.cols, g, q, r);
        } else if (w.type == GgmlType::kQ8_0) {
          const std::byte* row = w.data + static_cast<uint64_t>(r0 + r) * stride;
          PackGroupQ8_0(reinterpret_cast<const BlockQ8_0*>(row), (w.cols + 31) / 32, g, q, r);
        } else {
          const std::byte* row = w.data + static_cast<uint64_t>(r0 + r) * stride;
          const int64_t nb = (w.cols + 31) / 32;
          if (w.type == GgmlType::kMXFP4) {
            PackGroupMxfp4(reinterpret_cast<const BlockMxfp4*>(row), nb, g, q, r);
          } else if (w.type == GgmlType::kQ4_0) {
            PackGroup32(reinterpret_cast<const BlockQ4_0*>(row), nb, g, q, r);
          } else if (w.type == GgmlType::kQ4_1) {
            PackGroup32(reinterpret_cast<const BlockQ4_1*>(row), nb, g, q, r);
          } else if (w.type == GgmlType::kQ5_0) {
            PackGroup32(reinterpret_cast<const BlockQ5_0*>(row), nb, g, q, r);
          } else if (w.type == GgmlType::kQ5_1) {
            PackGroup32(reinterpret_cast<const BlockQ5_1*>(row), nb, g, q, r);
          } else if (w.type == GgmlType::kQ4_K) {
            PackGroupK4(reinterpret_cast<const BlockQ4_K*>(row), w.cols / 256, g, q, r);
          } else if (w.type == GgmlType::kQ5_K) {
            PackGroupK4(reinterpret_cast<const BlockQ5_K*>(row), w.cols / 256, g, q, r);
          } else {
            PackGroupQ6_K(reinterpret_cast<const BlockQ6_K*>(row), w.cols / 256, g, q, r);
          }
        }
      }
      GroupStarts(q, halves);
    }
  }
}

void Int8PanelTimesTokensAvx512(const uint8_t* panel, int64_t quads, int64_t groups, int halves, bool offsets,
                                const uint8_t* acts, uint64_t token_bytes, int64_t n_tokens, float* y, int64_t ys,
                                int64_t n_rows) {
  const uint64_t quad_bytes = static_cast<uint64_t>(groups) * Int8Panel::kGroupBytes;
  for (int64_t t0 = 0; t0 < n_tokens; t0 += 4) {
    const int64_t left = n_tokens - t0;
    const int nt = left < 4 ? static_cast<int>(left) : 4;
    const QuadFn kernel = QuadFor(halves, offsets, nt);
    const uint8_t* u[4];
    const float *dx[4], *sx[4];
    for (int t = 0; t < nt; ++t) {
      u[t] = acts + static_cast<uint64_t>(t0 + t) * token_bytes;
      dx[t] = reinterpret_cast<const float*>(u[t] + 512 * groups);
      sx[t] = dx[t] + 16 * groups;
    }
    for (int64_t q = 0; q < quads; ++q) {
      float out[16];
      kernel(panel + q * quad_bytes, groups, u, dx, sx, out);
      const int64_t r0 = 4 * q;
      for (int t = 0; t < nt; ++t) {
        float* yt = y + (t0 + t) * ys + r0;
        if (r0 + 4 <= n_rows) {
          _mm_storeu_ps(yt, _mm_loadu_ps(out + 4 * t));
        } else {
          for (int r = 0; r < n_rows - r0; ++r) yt[r] = out[4 * t + r];
        }
      }
    }
  }
}

}  // namespace frugal::kernels
