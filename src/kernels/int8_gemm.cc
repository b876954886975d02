// The int8 products' scalar definitions (activation quantization, block decomposition, panel
// packing, the quad kernel) and the driver; the AVX-512 VNNI code is in int8_gemm_avx512.cc.
#include "kernels/int8_gemm.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "kernels/int8_gemm_internal.h"
#include "kernels/panel_rows.h"
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
    case GgmlType::kMXFP4:
      return true;
    default:
      return false;
  }
}

bool Int8ProductsUsable() { return DetectedIsa() == IsaLevel::kAvx512Vnni; }

float QuantizeInt8Block(const float* x, int64_t n, int8_t* q, int32_t* sum) {
  float amax = 0;
  for (int64_t j = 0; j < n; ++j) {
    const float a = std::fabs(x[j]);
    if (!(a <= amax)) amax = a;  // a NaN wins: the block's scale becomes NaN and so does the product
  }
  const float d = amax / 127.0f;
  const float inv = d >= FLT_MIN ? 1.0f / d : 0.0f;  // (1/d of a subnormal d overflows: such blocks round to 0)
  *sum = 0;
  for (int64_t j = 0; j < 32; ++j) {
    int32_t v = 0;
    if (j < n) {
      const float f = x[j] * inv;  // |f| ≤ 127, or NaN (a non-finite x): then 0, no undefined conversion
      if (f == f) v = static_cast<int32_t>(f + (f >= 0 ? 0.5f : -0.5f));  // half away from zero
    }
    q[j] = static_cast<int8_t>(v);
    *sum += v;
  }
  return d;
}

void QuantizeInt8Token(const float* x, Int8Shape s, uint8_t* out) {
  uint8_t* u = out;
  float* dx = reinterpret_cast<float*>(out + s.padded_cols());
  float* sx = dx + s.padded_blocks();
  for (int64_t b = 0; b < s.padded_blocks(); ++b) {
    const int64_t k0 = 32 * b, n = std::clamp<int64_t>(s.cols - k0, 0, 32);
    int8_t q[32];
    int32_t sum = 0;
    const float d = QuantizeInt8Block(x + k0, n, q, &sum);
    for (int64_t j = 0; j < 32; ++j) u[Int8InterleavedOffset(k0 + j)] = static_cast<uint8_t>(q[j] + 128);
    dx[b] = d;
    sx[b] = d * static_cast<float>(sum);
  }
}

Int8Activations::Int8Activations(const float* x, int64_t n_tokens, int64_t cols, int64_t x_stride)
    : n_tokens_(n_tokens), shape_{cols}, storage_(static_cast<size_t>(n_tokens) * TokenBytes(shape_), /*zeroed=*/false) {
  const QuantizeInt8Fn quantize = Int8ProductsUsable() ? QuantizeInt8TokenAvx512 : QuantizeInt8Token;
  for (int64_t t = 0; t < n_tokens; ++t) quantize(x + t * x_stride, shape_, storage_.data() + t * TokenBytes(shape_));
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
    case GgmlType::kMXFP4: {
      const BlockMxfp4& b = reinterpret_cast<const BlockMxfp4*>(row)[j];
      std::fill_n(out->scale, 8, Mxfp4Scale(b.e));
      for (int l = 0; l < 16; ++l) {
        out->q[l] = kMxfp4Doubled[b.qs[l] & 15];
        out->q[l + 16] = kMxfp4Doubled[b.qs[l] >> 4];
      }
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

void FinishGroupStarts(const QuadGroup& q, int halves) {
  for (int h = 0; h < 2; ++h) {
    for (int r = 0; r < 4; ++r) {
      for (int j = 0; j < 16; ++j) {
        int32_t sum = 0;
        if (h < halves) {
          for (int c = 8 / halves * h; c < 8 / halves * (h + 1); ++c) {
            for (int i = 0; i < 4; ++i) sum += q.w(c, r)[4 * j + i];
          }
        }
        q.start(h, r)[j] = -128 * sum;
      }
    }
  }
}

void PackInt8PanelRef(const WeightRows& w, int64_t begin, int64_t end, uint8_t* panel) {
  const Int8Shape s{w.cols};
  const int64_t nb = s.blocks();
  const int halves = Int8Panel::HalvesOf(w.type);
  for (int64_t r0 = begin; r0 < end; r0 += 4) {
    uint8_t* quad = panel + static_cast<uint64_t>((r0 - begin) / 4) * Int8Panel::QuadBytes(s);
    for (int64_t g = 0; g < s.groups(); ++g) {
      const QuadGroup q = GroupOf(quad, g);
      for (int r = 0; r < 4; ++r) {
        for (int j = 0; j < 16; ++j) {
          const int64_t b = 16 * g + j;
          Block32 block{};  // padding: zero weights, scales and offsets
          if (r0 + r < end && b < nb) {
            if (w.order == RowOrder::kPanels) {
              DecomposePanelBlock32(w.type, w.row(r0 + r), w.cols, b, &block);
            } else {
              DecomposeBlock32(w.type, w.row(r0 + r), b, &block);
            }
          }
          for (int i = 0; i < 32; ++i) q.w(i / 4, r)[4 * j + i % 4] = block.q[i];
          q.scale(0, r)[j] = block.scale[0];
          q.scale(1, r)[j] = block.scale[4];
          q.m(r)[j] = block.m;
          for (int l = 0; l < 8; ++l) {  // one scale per half block (bits: a NaN scale is data, not a bug)
            FRUGAL_CHECK(std::memcmp(&block.scale[l], &block.scale[l < 4 ? 0 : 4], sizeof(float)) == 0);
          }
        }
      }
      FinishGroupStarts(q, halves);
    }
  }
}

void Int8QuadRef(const uint8_t* quad, GgmlType type, const Int8Activations& x, int64_t t0, int n_tok, float* out) {
  const Int8Shape s = x.shape();
  const int halves = Int8Panel::HalvesOf(type);
  for (int r = 0; r < 4; ++r) {
    for (int t = 0; t < n_tok; ++t) {
      float lanes[16] = {};
      for (int64_t g = 0; g < s.groups(); ++g) {
        const QuadGroup q = GroupOf(const_cast<uint8_t*>(quad), g);
        const uint8_t* u = x.u(t0 + t) + 512 * g;
        const float* dx = x.dx(t0 + t) + 16 * g;
        const float* sx = x.sx(t0 + t) + 16 * g;
        for (int h = 0; h < halves; ++h) {
          for (int j = 0; j < 16; ++j) {
            int32_t sum = q.start(h, r)[j];
            for (int c = 8 / halves * h; c < 8 / halves * (h + 1); ++c) {
              for (int i = 0; i < 4; ++i) sum += u[64 * c + 4 * j + i] * q.w(c, r)[4 * j + i];
            }
            lanes[j] += static_cast<float>(sum) * (q.scale(h, r)[j] * dx[j]);
          }
        }
        for (int j = 0; j < 16; ++j) lanes[j] += q.m(r)[j] * sx[j];
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
          Int8QuadRef(panel.data() + q * quad_bytes, w.type, x, t0, n_tok, out);
          for (int t = 0; t < n_tok; ++t) {
            for (int r = 0; r < 4 && p0 + 4 * q + r < p1; ++r) y[(t0 + t) * ys + p0 + 4 * q + r] = out[4 * t + r];
          }
        }
      }
    } else {
      PackInt8PanelAvx512(w, p0, p1, panel.data());
      Int8PanelTimesTokensAvx512(panel.data(), quads, s.groups(), Int8Panel::HalvesOf(w.type), Int8Panel::HasOffsets(w.type),
                                 x.u(0), Int8Activations::TokenBytes(s), x.n_tokens(), y + p0, ys, p1 - p0);
    }
  }
}

}  // namespace frugal::kernels
