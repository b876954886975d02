// The int8 products on AVX-512 VNNI (int8_gemm.h): Q8_0 and Q4_K rows packed in registers,
// and the 4-row × 4-token kernel. Compiled with AVX-512 F/BW/VL/VNNI flags; called only when
// the CPU has them. Everything local has internal linkage and no std:: template is used (no weak
// symbols, ARCHITECTURE "Kernels").
#include <immintrin.h>

#include <cstring>

#include "kernels/avx512_sums.h"
#include "kernels/int8_gemm_internal.h"
#include "kernels/quant_blocks.h"

namespace frugal::kernels {
namespace {

float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

float Sum8(__m256 v) {
  const __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 h2 = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
}

// 16 lane scales: the first 8 lanes s0, the last 8 s1.
__m512 TwoScales(float s0, float s1) { return _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(s0), _mm512_set1_ps(s1)); }

struct Quad {
  uint8_t* base;
  Int8Shape s;
  uint8_t* w(int64_t c, int r) const { return base + c * 512 + r * 64; }
  float* scale(int64_t c, int r) const { return reinterpret_cast<float*>(base + c * 512 + 256 + r * 64); }
  float* a(int r) const { return reinterpret_cast<float*>(base + s.chunks() * 512) + r * s.padded_blocks(); }
  float* m(int r) const { return a(4) + r * s.padded_blocks(); }
};

void ZeroFloats(float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = 0.0f;
}

void PackRowQ8_0(const std::byte* row, const Quad& q, int r) {
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(row);
  const int64_t nb = q.s.blocks();
  for (int64_t c = 0; c < q.s.chunks(); ++c) {
    const BlockQ8_0& b0 = blocks[2 * c];
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0.qs));
    __m256i w1 = _mm256_setzero_si256();
    float d1 = 0.0f;
    if (2 * c + 1 < nb) {
      w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[2 * c + 1].qs));
      d1 = HalfToFloat(blocks[2 * c + 1].d);
    }
    _mm512_store_si512(q.w(c, r), _mm512_inserti64x4(_mm512_castsi256_si512(w0), w1, 1));
    _mm512_store_ps(q.scale(c, r), TwoScales(HalfToFloat(b0.d), d1));
  }
}

void PackRowQ4_K(const std::byte* row, const Quad& q, int r) {
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(row);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  float* m = q.m(r);
  for (int64_t i = 0; i < q.s.cols / 256; ++i) {
    const BlockQ4_K& b = blocks[i];
    const float d = HalfToFloat(b.d), dmin = HalfToFloat(b.dmin);
    float sc[8];
    for (int s = 0; s < 8; ++s) {
      uint8_t scale, mn;
      UnpackScaleMinK4(b.scales, s, &scale, &mn);
      sc[s] = d * static_cast<float>(scale);
      m[8 * i + s] = -(dmin * static_cast<float>(mn));
    }
    for (int c = 0; c < 4; ++c) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c));
      const __m256i lo = _mm256_and_si256(v, low4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
      _mm512_store_si512(q.w(4 * i + c, r), _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
      _mm512_store_ps(q.scale(4 * i + c, r), TwoScales(sc[2 * c], sc[2 * c + 1]));
    }
  }
}

// A = −128·Σ scale·w per block, from the packed weights and scales (vpdpbusd with ones).
void BlockTerms(const Quad& q) {
  const __m512i ones = _mm512_set1_epi8(1);
  for (int r = 0; r < 4; ++r) {
    float* a = q.a(r);
    for (int64_t c = 0; c < q.s.chunks(); ++c) {
      const __m512i lanes = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, _mm512_load_si512(q.w(c, r)));
      const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(lanes), _mm512_load_ps(q.scale(c, r)));
      a[2 * c] = -128.0f * Sum8(_mm512_castps512_ps256(f));
      a[2 * c + 1] = -128.0f * Sum8(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1)));
    }
    for (int64_t b = 2 * q.s.chunks(); b < q.s.padded_blocks(); ++b) a[b] = 0.0f;
  }
}

// The 4 rows × NT tokens of one quad over every chunk, then the block terms; out[4·t + r].
// (A fixed token count per instantiation keeps the accumulators in registers; internal
// linkage, so no weak symbol.)
template <int NT>
void QuadTimes(const uint8_t* quad, const Int8Shape& s, const uint8_t* const* u, const float* const* ls,
               const float* const* dx, const float* const* sx, float* out) {
  __m512 acc[4][NT];
  for (int r = 0; r < 4; ++r) {
    for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  const int64_t chunks = s.chunks();
  for (int64_t c = 0; c < chunks; ++c) {
    const uint8_t* wc = quad + c * 512;
    __m512i w[4];
    __m512 sc[4];
    for (int r = 0; r < 4; ++r) {
      w[r] = _mm512_load_si512(wc + 64 * r);
      sc[r] = _mm512_load_ps(reinterpret_cast<const float*>(wc + 256 + 64 * r));
    }
    for (int t = 0; t < NT; ++t) {
      const __m512i xu = _mm512_load_si512(u[t] + 64 * c);
      const __m512 xs = _mm512_load_ps(ls[t] + 16 * c);
      for (int r = 0; r < 4; ++r) {
        const __m512i sum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), xu, w[r]);
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(xs, sc[r]), acc[r][t]);
      }
    }
  }
  const float* a = reinterpret_cast<const float*>(quad + chunks * 512);
  const int64_t pb = s.padded_blocks();
  for (int64_t b = 0; b < pb; b += 16) {
    for (int r = 0; r < 4; ++r) {
      const __m512 ar = _mm512_load_ps(a + r * pb + b), mr = _mm512_load_ps(a + (4 + r) * pb + b);
      for (int t = 0; t < NT; ++t) {
        acc[r][t] = _mm512_fmadd_ps(ar, _mm512_load_ps(dx[t] + b), acc[r][t]);
        acc[r][t] = _mm512_fmadd_ps(mr, _mm512_load_ps(sx[t] + b), acc[r][t]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) {
    const __m512 rows[4] = {acc[0][t], acc[1][t], acc[2][t], acc[3][t]};
    Sum16x4(rows, out + 4 * t);
  }
}

}  // namespace

void PackInt8PanelAvx512(const WeightRows& w, int64_t begin, int64_t end, uint8_t* panel) {
  if (w.type != GgmlType::kQ8_0 && w.type != GgmlType::kQ4_K) {
    PackInt8PanelRef(w, begin, end, panel);
    return;
  }
  const Int8Shape s{w.cols};
  const uint64_t quad_bytes = Int8Panel::QuadBytes(s);
  for (int64_t r0 = begin; r0 < end; r0 += 4) {
    const Quad q{panel + static_cast<uint64_t>((r0 - begin) / 4) * quad_bytes, s};
    for (int r = 0; r < 4; ++r) {
      ZeroFloats(q.m(r), s.padded_blocks());
      if (r0 + r >= end) {  // padding: zero weights
        for (int64_t c = 0; c < s.chunks(); ++c) {
          _mm512_store_si512(q.w(c, r), _mm512_setzero_si512());
          _mm512_store_ps(q.scale(c, r), _mm512_setzero_ps());
        }
      } else if (w.type == GgmlType::kQ8_0) {
        PackRowQ8_0(w.row(r0 + r), q, r);
      } else {
        PackRowQ4_K(w.row(r0 + r), q, r);
      }
    }
    BlockTerms(q);
  }
}

void Int8PanelTimesTokensAvx512(const uint8_t* panel, int64_t quads, Int8Shape s, const Int8Activations& x, float* y,
                                int64_t ys, int64_t n_rows) {
  const uint64_t quad_bytes = Int8Panel::QuadBytes(s);
  for (int64_t t0 = 0; t0 < x.n_tokens(); t0 += 4) {
    const int64_t left = x.n_tokens() - t0;
    const int nt = left < 4 ? static_cast<int>(left) : 4;
    const uint8_t* u[4];
    const float *ls[4], *dx[4], *sx[4];
    for (int t = 0; t < nt; ++t) {
      u[t] = x.u(t0 + t), ls[t] = x.lane_scale(t0 + t), dx[t] = x.dx(t0 + t), sx[t] = x.sx(t0 + t);
    }
    for (int64_t q = 0; q < quads; ++q) {
      const uint8_t* quad = panel + q * quad_bytes;
      float out[16];
      switch (nt) {
        case 4: QuadTimes<4>(quad, s, u, ls, dx, sx, out); break;
        case 3: QuadTimes<3>(quad, s, u, ls, dx, sx, out); break;
        case 2: QuadTimes<2>(quad, s, u, ls, dx, sx, out); break;
        default: QuadTimes<1>(quad, s, u, ls, dx, sx, out); break;
      }
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
