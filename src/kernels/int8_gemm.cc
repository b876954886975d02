// The int8 products' scalar definitions (activation quantization, block decomposition, panel
// packing, the quad kernel) and the driver; the AVX-512 VNNI code is in int8_gemm_avx512.cc.
#include "kernels/int8_gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/int8_gemm_internal.h"
#include "kernels/quant_blocks.h"
#include "util/check.h"
#include "util/half.h"

namespace frugal::kernels {

bool Int8PanelSupports(GgmlType type) {
  switch (type) {
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      return true;
    default:
      return false;
  }
}

bool Int8ProductsUsable() { return DetectedIsa() == IsaLevel::kAvx512Vnni; }

__attribute__((target_clones("avx512f", "avx2", "default")))
void QuantizeInt8Token(const float* x, Int8Shape s, uint8_t* out) {
  uint8_t* u = out;
  float* lane_scale = reinterpret_cast<float*>(out + s.padded_cols());
  float* dx = lane_scale + s.padded_cols() / 4;
  float* sx = dx + s.padded_blocks();
  const int64_t nb = s.blocks();
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t k0 = 32 * b, n = std::min<int64_t>(32, s.cols - k0);
    float amax = 0;
    for (int64_t j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[k0 + j]));
    const float d = amax / 127.0f;
    const float inv = d > 0 ? 1.0f / d : 0.0f;
    int32_t sum = 0;
    for (int64_t j = 0; j < 32; ++j) {
      int32_t q = 0;
      if (j < n) {
        const float v = x[k0 + j] * inv;  // |v| ≤ 127
        q = static_cast<int32_t>(v + (v >= 0 ? 0.5f : -0.5f));  // half away from zero
      }
      sum += q;
      u[k0 + j] = static_cast<uint8_t>(q + 128);
    }
    for (int j = 0; j < 8; ++j) lane_scale[8 * b + j] = d;
    dx[b] = d;
    sx[b] = d * static_cast<float>(sum);
  }
  for (int64_t k = 32 * nb; k < s.padded_cols(); ++k) u[k] = 128;
  for (int64_t l = 8 * nb; l < s.padded_cols() / 4; ++l) lane_scale[l] = 0.0f;
  for (int64_t b = nb; b < s.padded_blocks(); ++b) dx[b] = sx[b] = 0.0f;
}

Int8Activations::Int8Activations(const float* x, int64_t n_tokens, int64_t cols, int64_t x_stride)
    : n_tokens_(n_tokens), shape_{cols}, storage_(static_cast<size_t>(n_tokens) * TokenBytes(shape_), /*zeroed=*/false) {
  for (int64_t t = 0; t < n_tokens; ++t) QuantizeInt8Token(x + t * x_stride, shape_, storage_.data() + t * TokenBytes(shape_));
}

void DecomposeBlock32(GgmlType type, const std::byte* row, int64_t j, Block32* out) {
  out->m = 0.0f;
  switch (type) {
    case GgmlType::kQ8_0: {
      const BlockQ8_0& b = reinterpret_cast<const BlockQ8_0*>(row)[j];
      std::memcpy(out->q, b.qs, 32);
      std::fill_n(out->scale, 8, F16ToF32(b.d));
      return;
    }
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1: {
      const uint8_t* qs;
      if (type == GgmlType::kQ4_0) {
        const BlockQ4_0& b = reinterpret_cast<const BlockQ4_0*>(row)[j];
        qs = b.qs;
        std::fill_n(out->scale, 8, F16ToF32(b.d));
      } else {
        const BlockQ4_1& b = reinterpret_cast<const BlockQ4_1*>(row)[j];
        qs = b.qs;
        std::fill_n(out->scale, 8, F16ToF32(b.d));
        out->m = F16ToF32(b.m);
      }
      const int offset = type == GgmlType::kQ4_0 ? 8 : 0;
      for (int l = 0; l < 16; ++l) {
        out->q[l] = static_cast<int8_t>((qs[l] & 15) - offset);
        out->q[l + 16] = static_cast<int8_t>((qs[l] >> 4) - offset);
      }
      return;
    }
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1: {
      const uint8_t *qs, *qh;
      if (type == GgmlType::kQ5_0) {
        const BlockQ5_0& b = reinterpret_cast<const BlockQ5_0*>(row)[j];
        qs = b.qs;
        qh = b.qh;
        std::fill_n(out->scale, 8, F16ToF32(b.d));
      } else {
        const BlockQ5_1& b = reinterpret_cast<const BlockQ5_1*>(row)[j];
        qs = b.qs;
        qh = b.qh;
        std::fill_n(out->scale, 8, F16ToF32(b.d));
        out->m = F16ToF32(b.m);
      }
      uint32_t h;
      std::memcpy(&h, qh, 4);
      const int offset = type == GgmlType::kQ5_0 ? 16 : 0;
      for (int l = 0; l < 16; ++l) {
        out->q[l] = static_cast<int8_t>(((qs[l] & 15) | static_cast<int>(((h >> l) & 1) << 4)) - offset);
        out->q[l + 16] = static_cast<int8_t>(((qs[l] >> 4) | static_cast<int>(((h >> (l + 16)) & 1) << 4)) - offset);
      }
      return;
    }
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K: {
      const int64_t i = j / 8;
      const int s = static_cast<int>(j % 8), c = s / 2;
      const uint8_t *scales, *qs, *qh = nullptr;
      uint16_t d, dmin;
      if (type == GgmlType::kQ4_K) {
        const BlockQ4_K& b = reinterpret_cast<const BlockQ4_K*>(row)[i];
        scales = b.scales, qs = b.qs, d = b.d, dmin = b.dmin;
      } else {
        const BlockQ5_K& b = reinterpret_cast<const BlockQ5_K*>(row)[i];
        scales = b.scales, qs = b.qs, qh = b.qh, d = b.d, dmin = b.dmin;
      }
      uint8_t sc, mn;
      UnpackScaleMinK4(scales, s, &sc, &mn);
      std::fill_n(out->scale, 8, F16ToF32(d) * static_cast<float>(sc));
      out->m = -(F16ToF32(dmin) * static_cast<float>(mn));
      for (int l = 0; l < 32; ++l) {
        int v = s % 2 == 0 ? (qs[32 * c + l] & 15) : (qs[32 * c + l] >> 4);
        if (qh != nullptr) v |= ((qh[l] >> s) & 1) << 4;
        out->q[l] = static_cast<int8_t>(v);
      }
      return;
    }
    case GgmlType::kQ6_K: {
      const BlockQ6_K& b = reinterpret_cast<const BlockQ6_K*>(row)[j / 8];
      const int s = static_cast<int>(j % 8), h = s / 4, bq = s % 4;
      const uint8_t* ql = b.ql + 64 * h + (bq % 2 == 1 ? 32 : 0);
      const uint8_t* qh = b.qh + 32 * h;
      const float d = F16ToF32(b.d);
      for (int l = 0; l < 32; ++l) {
        const int low = bq < 2 ? (ql[l] & 15) : (ql[l] >> 4);
        const int high = (qh[l] >> (2 * bq)) & 3;
        out->q[l] = static_cast<int8_t>((low | (high << 4)) - 32);
      }
      for (int lane = 0; lane < 8; ++lane) {
        out->scale[lane] = d * static_cast<float>(b.scales[8 * h + 2 * bq + lane / 4]);
      }
      return;
    }
    default:
      ::frugal::internal::CheckFailed(__FILE__, __LINE__, fmt::format("no int8 panel for {}", TypeName(type)));
  }
}

namespace {

// The parts of quad q of a panel.
struct QuadParts {
  int8_t* w(int64_t c, int r) const { return reinterpret_cast<int8_t*>(base + c * 512 + r * 64); }
  float* scale(int64_t c, int r) const { return reinterpret_cast<float*>(base + c * 512 + 256 + r * 64); }
  float* a(int r) const { return reinterpret_cast<float*>(base + s.chunks() * 512) + r * s.padded_blocks(); }
  float* m(int r) const { return a(4) + r * s.padded_blocks(); }
  uint8_t* base;
  Int8Shape s;
};

}  // namespace

void FinishQuadBlockTerms(uint8_t* quad, Int8Shape s) {
  const QuadParts p{quad, s};
  for (int r = 0; r < 4; ++r) {
    for (int64_t b = 0; b < s.padded_blocks(); ++b) {
      float sum = 0.0f;
      if (b < 2 * s.chunks()) {
        const int64_t c = b / 2;
        const int8_t* w = p.w(c, r) + 32 * (b % 2);
        const float* sc = p.scale(c, r) + 8 * (b % 2);
        for (int lane = 0; lane < 8; ++lane) {
          const int32_t lane_sum = w[4 * lane] + w[4 * lane + 1] + w[4 * lane + 2] + w[4 * lane + 3];
          sum += sc[lane] * static_cast<float>(lane_sum);
        }
      }
      p.a(r)[b] = -128.0f * sum;
    }
  }
}

void PackInt8PanelRef(const WeightRows& w, int64_t begin, int64_t end, uint8_t* panel) {
  const Int8Shape s{w.cols};
  const int64_t nb = s.blocks();
  for (int64_t r0 = begin; r0 < end; r0 += 4) {
    const QuadParts p{panel + static_cast<uint64_t>((r0 - begin) / 4) * Int8Panel::QuadBytes(s), s};
    for (int r = 0; r < 4; ++r) {
      float* m = p.m(r);
      for (int64_t b = 0; b < s.padded_blocks(); ++b) m[b] = 0.0f;
      for (int64_t b = 0; b < 2 * s.chunks(); ++b) {
        int8_t* q = p.w(b / 2, r) + 32 * (b % 2);
        float* sc = p.scale(b / 2, r) + 8 * (b % 2);
        if (r0 + r >= end || b >= nb) {  // padding: zero weights
          std::fill_n(q, 32, int8_t{0});
          std::fill_n(sc, 8, 0.0f);
          continue;
        }
        Block32 block;
        DecomposeBlock32(w.type, w.row(r0 + r), b, &block);
        std::memcpy(q, block.q, 32);
        std::copy_n(block.scale, 8, sc);
        m[b] = block.m;
      }
    }
    FinishQuadBlockTerms(p.base, s);
  }
}

void Int8QuadRef(const uint8_t* quad, Int8Shape s, const Int8Activations& x, int64_t t0, int n_tok, float* out) {
  const QuadParts p{const_cast<uint8_t*>(quad), s};
  for (int r = 0; r < 4; ++r) {
    for (int t = 0; t < n_tok; ++t) {
      const uint8_t* u = x.u(t0 + t);
      const float* ls = x.lane_scale(t0 + t);
      float lanes[16] = {};
      for (int64_t c = 0; c < s.chunks(); ++c) {
        for (int lane = 0; lane < 16; ++lane) {
          int32_t sum = 0;
          for (int k = 0; k < 4; ++k) sum += u[64 * c + 4 * lane + k] * p.w(c, r)[4 * lane + k];
          lanes[lane] += static_cast<float>(sum) * (ls[16 * c + lane] * p.scale(c, r)[lane]);
        }
      }
      for (int64_t b = 0; b < s.padded_blocks(); ++b) {
        lanes[b % 16] += p.a(r)[b] * x.dx(t0 + t)[b] + p.m(r)[b] * x.sx(t0 + t)[b];
      }
      float sum = 0.0f;
      for (float v : lanes) sum += v;
      out[4 * t + r] = sum;
    }
  }
}

double Int8RoundingBound(const float* w, const float* x, int64_t cols) {
  double bound = 0;
  for (int64_t k0 = 0; k0 < cols; k0 += 32) {
    const int64_t k1 = std::min(cols, k0 + 32);
    double amax = 0, wsum = 0;
    for (int64_t k = k0; k < k1; ++k) {
      amax = std::max(amax, std::fabs(static_cast<double>(x[k])));
      wsum += std::fabs(static_cast<double>(w[k]));
    }
    bound += 0.5 * (amax / 127.0) * wsum;
  }
  return bound;
}

int64_t Int8PanelRows(Int8Shape s) {
  return 4 * std::clamp<int64_t>(static_cast<int64_t>((64 << 10) / Int8Panel::QuadBytes(s)), 1, 16);
}

void Int8Rows(const WeightRows& w, const Int8Activations& x, int64_t begin, int64_t end, float* y, int64_t ys,
              bool reference) {
  if (begin >= end) return;
  const Int8Shape s = x.shape();
  FRUGAL_CHECK_EQ(w.cols, s.cols);
  const uint64_t quad_bytes = Int8Panel::QuadBytes(s);
  const int64_t panel_rows = reference ? end - begin : Int8PanelRows(s);
  AlignedBuffer<uint8_t> panel(static_cast<size_t>((std::min(panel_rows, end - begin) + 3) / 4 * quad_bytes), /*zeroed=*/false);
  for (int64_t p0 = begin; p0 < end; p0 += panel_rows) {
    const int64_t p1 = std::min(end, p0 + panel_rows), quads = (p1 - p0 + 3) / 4;
    if (reference) {
      PackInt8PanelRef(w, p0, p1, panel.data());
      for (int64_t t0 = 0; t0 < x.n_tokens(); t0 += 4) {
        const int n_tok = static_cast<int>(std::min<int64_t>(4, x.n_tokens() - t0));
        for (int64_t q = 0; q < quads; ++q) {
          float out[16];
          Int8QuadRef(panel.data() + q * quad_bytes, s, x, t0, n_tok, out);
          for (int t = 0; t < n_tok; ++t) {
            for (int r = 0; r < 4 && p0 + 4 * q + r < p1; ++r) y[(t0 + t) * ys + p0 + 4 * q + r] = out[4 * t + r];
          }
        }
      }
    } else {
      PackInt8PanelAvx512(w, p0, p1, panel.data());
      Int8PanelTimesTokensAvx512(panel.data(), quads, s, x, y + p0, ys, p1 - p0);
    }
  }
}

}  // namespace frugal::kernels
