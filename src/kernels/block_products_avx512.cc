// AVX-512 versions of block_products.h; compiled with AVX-512 flags, called after detection. Uses
// no template or inline helper from shared headers (cmake/check_isa_objects.py).
#include <immintrin.h>

#include <cstdlib>

#include "kernels/block_products.h"

namespace frugal::kernels {
namespace {

constexpr int64_t kRows = 16;  // query (weight) rows per pass: one accumulator each
constexpr int64_t kKeyBlock = 64;  // stored rows whose dots wait in a local buffer before the scatter
// How far ahead of the row being multiplied its successor is prefetched: a long cache streams
// from memory, where the hardware prefetcher alone kept the dots waiting in a standalone test on
// a Zen 5 (V3's 1,152-byte f16 rows, 16 query rows); end to end no gain was measurable there
// (docs/BENCHMARKS.md, "Experts in panel order").
constexpr int64_t kRowsAhead = 4;

int64_t Min(int64_t a, int64_t b) { return a < b ? a : b; }

__mmask16 FirstLanes(int64_t n) { return static_cast<__mmask16>(n >= 16 ? 0xffff : (1u << n) - 1); }

// 16 values of a stored row from column c (lanes past `m` zero), as f32.
template <GgmlType kType>
inline __m512 Load16(const std::byte* row, int64_t c, __mmask16 m) {
  if constexpr (kType == GgmlType::kF16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + c));
  } else if constexpr (kType == GgmlType::kBF16) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + c);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + c);
  }
}

template <GgmlType kType>
inline __m512 Load16(const std::byte* row, int64_t c) {
  if constexpr (kType == GgmlType::kF16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(reinterpret_cast<const uint16_t*>(row) + c)));
  } else if constexpr (kType == GgmlType::kBF16) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(reinterpret_cast<const uint16_t*>(row) + c));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + c);
  }
}

constexpr int64_t ValueBytes(GgmlType type) { return type == GgmlType::kF32 ? 4 : 2; }

// Lane r of the result: the sum of a[r]'s 16 lanes.
inline __m512 Reduce16(const __m512* a) {
  __m512 t[8], u[4];
  for (int i = 0; i < 8; ++i) {  // per 128-bit lane: [a2i x+z, a2i+1 x+z, a2i y+w, a2i+1 y+w]
    t[i] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]),
                         _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]));
  }
  for (int i = 0; i < 4; ++i) {  // per 128-bit lane: the lane's partial sums of a4i .. a4i+3
    u[i] = _mm512_add_ps(_mm512_shuffle_ps(t[2 * i], t[2 * i + 1], 0x44),
                         _mm512_shuffle_ps(t[2 * i], t[2 * i + 1], 0xEE));
  }
  // u[i]'s 128-bit lane L holds rows 4i..4i+3 summed over lane L; add the four lanes of each.
  const __m512 v0 =
      _mm512_add_ps(_mm512_shuffle_f32x4(u[0], u[1], 0x88), _mm512_shuffle_f32x4(u[0], u[1], 0xDD));
  const __m512 v1 =
      _mm512_add_ps(_mm512_shuffle_f32x4(u[2], u[3], 0x88), _mm512_shuffle_f32x4(u[2], u[3], 0xDD));
  // v0 lanes: [u0 L0+L1, u0 L2+L3, u1 L0+L1, u1 L2+L3]; v1 likewise for u2, u3.
  return _mm512_add_ps(_mm512_shuffle_f32x4(v0, v1, 0x88), _mm512_shuffle_f32x4(v0, v1, 0xDD));
}

float* AllocFloats(int64_t n) {
  const auto bytes = static_cast<size_t>((n * 4 + 63) / 64 * 64);
  return static_cast<float*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
}

// The queries packed group by group and chunk by chunk: group g's chunk ch at
// packed + ((g·chunks + ch)·16 + r)·16, zeros past n and n_q, so that every load of the products
// has a constant offset from one pointer. Null when out of memory.
float* PackQueries(int64_t n, const float* q, int64_t qs, int64_t n_q) {
  const int64_t chunks = (n + 15) / 16, groups = (n_q + kRows - 1) / kRows;
  float* packed = AllocFloats(groups * chunks * kRows * 16);
  if (packed == nullptr) return nullptr;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t nr = Min(kRows, n_q - g * kRows);
    for (int64_t ch = 0; ch < chunks; ++ch) {
      const __mmask16 m = FirstLanes(n - 16 * ch);
      for (int64_t r = 0; r < kRows; ++r) {
        const __m512 v = r < nr ? _mm512_maskz_loadu_ps(m, q + (g * kRows + r) * qs + 16 * ch) : _mm512_setzero_ps();
        _mm512_store_ps(packed + ((g * chunks + ch) * kRows + r) * 16, v);
      }
    }
  }
  return packed;
}

// s[r·ss + out + j] for j ∈ [j0, j1) from packed queries.
template <GgmlType kType>
void PackedDots(const StoredRows& k, int64_t n, int64_t j0, int64_t j1, const float* packed, int64_t n_q, float* s,
                int64_t ss, int64_t out) {
  const int64_t chunks = (n + 15) / 16, full = n / 16, groups = (n_q + kRows - 1) / kRows;
  const __mmask16 tail = FirstLanes(n - 16 * full);
  const int64_t row_bytes = n * ValueBytes(kType);
  // Blocks of stored rows outside, groups of 16 query rows inside: each block is read from memory once.
  alignas(64) float sums[kKeyBlock * kRows];
  for (int64_t b0 = j0; b0 < j1; b0 += kKeyBlock) {
    const int64_t b1 = Min(j1, b0 + kKeyBlock);
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t nr = Min(kRows, n_q - g * kRows);
      const float* pg = packed + g * chunks * kRows * 16;
      for (int64_t j = b0; j < b1; ++j) {
        const std::byte* row = k.data + static_cast<uint64_t>(j) * k.stride;
        if (g == 0 && j + kRowsAhead < j1) {  // a row a few ahead on its way from memory
          const std::byte* ahead = row + kRowsAhead * k.stride;
          for (int64_t b = 0; b < row_bytes; b += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + b), _MM_HINT_T0);
        }
        __m512 acc[kRows];
#pragma GCC unroll 16
        for (int r = 0; r < kRows; ++r) acc[r] = _mm512_setzero_ps();
        for (int64_t ch = 0; ch < chunks; ++ch) {
          const __m512 v = ch < full ? Load16<kType>(row, 16 * ch) : Load16<kType>(row, 16 * ch, tail);
          const float* pq = pg + ch * kRows * 16;
#pragma GCC unroll 16
          for (int r = 0; r < kRows; ++r) acc[r] = _mm512_fmadd_ps(_mm512_load_ps(pq + 16 * r), v, acc[r]);
        }
        _mm512_store_ps(sums + (j - b0) * kRows, Reduce16(acc));
      }
      for (int64_t r = 0; r < nr; ++r) {
        float* dst = s + (g * kRows + r) * ss + out;
        for (int64_t j = b0; j < b1; ++j) dst[j] = sums[(j - b0) * kRows + r];
      }
    }
  }
}

void PackedDotsOfType(const StoredRows& k, int64_t n, int64_t j0, int64_t j1, const float* packed, int64_t n_q, float* s,
                      int64_t ss, int64_t out) {
  if (k.type == GgmlType::kF16) return PackedDots<GgmlType::kF16>(k, n, j0, j1, packed, n_q, s, ss, out);
  if (k.type == GgmlType::kBF16) return PackedDots<GgmlType::kBF16>(k, n, j0, j1, packed, n_q, s, ss, out);
  return PackedDots<GgmlType::kF32>(k, n, j0, j1, packed, n_q, s, ss, out);
}

template <GgmlType kType>
void WeightedSums(const StoredRows& k, int64_t j0, int64_t j1, int64_t c0, int64_t c1, const float* p, int64_t ps,
                  int64_t n_p, float* o, int64_t os) {
  constexpr int64_t kBlock = 32;  // stored rows per pass: 36 KiB of V3's f16 latents, L1-resident
  // The weights of a block packed key by key: packed[(j − b0)·16 + r], zeros past n_p. Blocks of
  // stored rows outside, groups of 16 weight rows inside: each block is read from memory once.
  alignas(64) float packed[kBlock * kRows];
  for (int64_t b0 = j0; b0 < j1; b0 += kBlock) {
    const int64_t b1 = Min(j1, b0 + kBlock), next_end = Min(j1, b1 + kBlock);
    for (int64_t r0 = 0; r0 < n_p; r0 += kRows) {
      const int64_t nr = Min(kRows, n_p - r0);
      for (int64_t j = b0; j < b1; ++j) {
        for (int64_t r = 0; r < kRows; ++r) packed[(j - b0) * kRows + r] = r < nr ? p[(r0 + r) * ps + j] : 0.0f;
      }
      for (int64_t c = c0; c < c1; c += 16) {
        const __mmask16 m = FirstLanes(c1 - c);
        if (r0 == 0) {  // the next block's rows at these columns on their way to L2
          for (int64_t j = b1; j < next_end; ++j) {
            _mm_prefetch(reinterpret_cast<const char*>(k.data + static_cast<uint64_t>(j) * k.stride + c * ValueBytes(kType)),
                         _MM_HINT_T1);
          }
        }
        __m512 acc[kRows];
#pragma GCC unroll 16
        for (int r = 0; r < kRows; ++r) acc[r] = r < nr ? _mm512_maskz_loadu_ps(m, o + (r0 + r) * os + c) : _mm512_setzero_ps();
        for (int64_t j = b0; j < b1; ++j) {
          const __m512 v = Load16<kType>(k.data + static_cast<uint64_t>(j) * k.stride, c, m);
          const float* w = packed + (j - b0) * kRows;
#pragma GCC unroll 16
          for (int r = 0; r < kRows; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(w[r]), v, acc[r]);
        }
#pragma GCC unroll 16
        for (int r = 0; r < kRows; ++r) {
          if (r < nr) _mm512_mask_storeu_ps(o + (r0 + r) * os + c, m, acc[r]);
        }
      }
    }
  }
}

}  // namespace

void BlockDotsAvx512(const StoredRows& k, int64_t n, int64_t j0, int64_t j1, const float* q, int64_t qs,
                     int64_t n_q, float* s, int64_t ss) {
  const RowRun run{k, j0, j1, 0};
  BlockDotsRunsAvx512(&run, 1, n, q, qs, n_q, s, ss);
}

void BlockDotsRunsAvx512(const RowRun* runs, int64_t n_runs, int64_t n, const float* q, int64_t qs, int64_t n_q,
                         float* s, int64_t ss) {
  float* packed = PackQueries(n, q, qs, n_q);
  if (packed == nullptr) {  // out of memory: the reference needs none beyond a row
    BlockDotsRunsRef(runs, n_runs, n, q, qs, n_q, s, ss);
    return;
  }
  for (int64_t i = 0; i < n_runs; ++i) {
    PackedDotsOfType(runs[i].rows, n, runs[i].j0, runs[i].j1, packed, n_q, s, ss, runs[i].out);
  }
  std::free(packed);
}

void BlockWeightedSumsAvx512(const StoredRows& k, int64_t j0, int64_t j1, int64_t c0, int64_t c1, const float* p,
                             int64_t ps, int64_t n_p, float* o, int64_t os) {
  if (k.type == GgmlType::kF16) return WeightedSums<GgmlType::kF16>(k, j0, j1, c0, c1, p, ps, n_p, o, os);
  if (k.type == GgmlType::kBF16) return WeightedSums<GgmlType::kBF16>(k, j0, j1, c0, c1, p, ps, n_p, o, os);
  return WeightedSums<GgmlType::kF32>(k, j0, j1, c0, c1, p, ps, n_p, o, os);
}

}  // namespace frugal::kernels
