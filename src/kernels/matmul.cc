#include "kernels/matmul.h"
#include "kernels/panel_rows.h"
#include "kernels/q8_rows.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "kernels/dequantize.h"
#include "kernels/quantize.h"
#include "kernels/float_dot.h"
#include "kernels/ops.h"
#include "kernels/act_quant.h"
#include "kernels/amx_matmul.h"
#include "kernels/f32_panels.h"
#include "kernels/int8_gemm.h"
#include "util/check.h"

namespace frugal::kernels {

WeightRows RowsOf(const ConstTensorView& t, int64_t first, int64_t n) {
  const auto rows = static_cast<int64_t>(t.shape.rows());
  FRUGAL_CHECK_LE(first + n, rows);
  return {t.data + static_cast<uint64_t>(first) * t.row_bytes(), t.type, static_cast<int64_t>(t.shape.ne[0]), n, 0, t.order};
}

WeightRows AllRows(const ConstTensorView& t) { return RowsOf(t, 0, static_cast<int64_t>(t.shape.rows())); }

__attribute__((target_clones("avx512f", "avx2", "default")))
float Dot(const float* a, const float* b, int64_t n) {
  // 64 running sums: four independent 16-wide vector chains under AVX-512 (one 8-wide chain
  // would wait on the FMA latency every step).
  constexpr int kLanes = 64;
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) acc[k] += a[i + k] * b[i + k];
  }
  for (int width = kLanes / 2; width >= 1; width /= 2) {
    for (int k = 0; k < width; ++k) acc[k] += acc[k + width];
  }
  float s = acc[0];
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

namespace {

bool IsFloatType(GgmlType type) { return type == GgmlType::kF32 || type == GgmlType::kF16 || type == GgmlType::kBF16; }

// How a product's rows are shared among threads: in whole granules (the last may be partial),
// and, when chunk > 0, taken dynamically `chunk` granules at a time.
struct RowSplit {
  int64_t granule = 1;
  int64_t chunk = 0;
};

void ForRows(int64_t n_rows, RowSplit split, ThreadPool* pool, const std::function<void(int64_t, int64_t, int)>& work) {
  const int64_t g = split.granule;
  const int64_t n_granules = (n_rows + g - 1) / g;
  if (pool == nullptr || n_granules < 2 * pool->size()) {
    work(0, n_rows, 0);
    return;
  }
  auto rows = [&](int64_t begin, int64_t end, int thread) { work(begin * g, std::min(n_rows, end * g), thread); };
  if (split.chunk > 0) {
    // At least four chunks a thread, so that the faster threads can take more.
    const int64_t chunk = std::clamp<int64_t>(n_granules / (4 * pool->size()), 1, split.chunk);
    pool->ParallelForDynamic(n_granules, chunk, rows);
  } else {
    pool->ParallelFor(n_granules, rows);
  }
}

// From this many tokens on, a product runs on AMX tiles (when the CPU has them).
constexpr int64_t kAmxMinTokens = 8;
// From this many tokens on, on 8-bit activations repacked per call (int8_gemm.h; AVX-512 VNNI)
// — up to kAmxMinTokens − 1 where AMX is usable, any number where it is not. Below it the
// kernels that read rows as stored win (batched decode of 4 sequences on a 2-core Zen 5, mini:
// q8_0 S_TG 125-143 → 188-225 t/s, q4_K 127 → 239 t/s; pp512 unchanged within noise).
constexpr int64_t kInt8MinTokens = 16;
// Batch invariance: without AMX, Q8_0 and Q4_K products take 8-bit activations at every token
// count — panel rows (panel_rows.h), rows as stored (q8_rows.h, up to 4 tokens a pass over each
// row) and the int8 panels all quantize a token by the same rule (QuantizeInt8Block), sum each
// block exactly in integers and add the blocks' terms in one order, so a token's products have
// the same bits however many others share them (docs/ARCHITECTURE.md, "Batch invariance"). Row views
// (attention's per-head products) take 16-bit activations at every count. Where AMX is usable,
// products of 8+ tokens run on AMX tiles (bf16 head + tail) and decode keeps 16-bit activations
// below kQ8RowsMinTokens (rows as stored; 8-bit from there up to the AMX threshold).
constexpr int64_t kQ8RowsMinTokens = 4;

// From this many tokens on, Q4_K panel rows are repacked into int8 panels per call (int8_gemm.h)
// instead of taking the panel kernel: its 4 × 4 tiles unpack nibbles and apply scales per group,
// which costs more than the repacking there (`bench matmul --type q4_K --panels`, 8192 × 1024,
// one thread: 343 vs 385 GFLOP/s at 512 tokens, equal at 64; Q8_0 panels stay ahead at 512).
constexpr int64_t kQ4KPanelsInt8MinTokens = 128;

// One weight matrix times prepared activations, evaluated for any range of weight rows.
class RowProduct {
 public:
  RowProduct(const WeightRows& w, const PreparedInput& x) : w_(w), x_(x) {
    FRUGAL_CHECK_EQ(w.cols, x.cols());
    if (w.order == RowOrder::kPanels) {
      FRUGAL_CHECK(HasPanelOrder(w.type));
      // Otherwise (the exact path, inputs prepared without panel activations): exact rows.
      if (x.exact()) return;
      if (w.type == GgmlType::kQ4_K && x.int8_path() && x.n_tokens() >= kQ4KPanelsInt8MinTokens) {
        int8_ = x.int8();  // packed from the panel rows (int8_gemm.h)
        return;
      }
      panels8_ = x.panel_rows();
      return;
    }
    if (x.exact()) return;
    if (x.amx() != nullptr && CanDequantize(w.type)) {
      amx_ = x.amx();
      return;
    }
    if (x.int8_path() && Int8PanelSupports(w.type)) {
      int8_ = x.int8();
      return;
    }
    if (x.int8_path() && IsFloatType(w.type)) {  // many tokens, no AMX: f32 panels of the rows
      f32_panels_ = true;
      return;
    }
    if (x.q16() == nullptr) return;
    const IsaLevel isa = DetectedIsa();
    // (the activations are quantized for these kernels only where one exists for the type)
    if (Q8TokensSupport(w.type, w.cols) && x.q8() != nullptr) dot_tokens_ = DotQ8TokensFor(w.type, w.cols, isa);
    if (dot_tokens_ != nullptr) return;
    if (w.type == GgmlType::kQ8_0) {
      dot_ = DotQ8_0For(isa);
      dot4_ = DotQ8_0x4For(isa);
      rows4_ = DotQ8_0RowsFor(isa);
      x4_is_rows4_ = isa == IsaLevel::kAvx512Vnni;  // (kernels_test checks the bits)
    } else if (w.type == GgmlType::kQ4_K && isa != IsaLevel::kScalar) {
      dot_ = DotQ4_KFor(isa);
      dot4_ = DotQ4_Kx4For(isa);
      rows4_ = DotQ4_KRowsFor(isa);
      rows4_needs_pairs_ = true;
    } else if (w.type == GgmlType::kQ4_0) {
      dot_ = DotQ4_0For(isa);
    } else if (w.type == GgmlType::kMXFP4) {
      dot_ = DotMxfp4For(isa);
      rows4_ = DotMxfp4RowsFor(isa);
    } else if (w.type == GgmlType::kQ6_K && isa != IsaLevel::kScalar) {
      dot_ = DotQ6_KFor(isa);
      dot4_ = DotQ6_Kx4For(isa);
    } else if (w.type == GgmlType::kQ5_K && isa != IsaLevel::kScalar) {
      dot_ = DotQ5_KFor(isa);
      dot4_ = DotQ5_Kx4For(isa);
    }
  }

  // Cores shared with other tenants run at uneven speeds, so rows are taken dynamically: AMX a
  // panel at a time (16-row tiles), the other paths ~64 KiB of weights at a time (long enough
  // runs for the prefetcher).
  // (In whole fours where the four-row decode kernel runs, so that no range ends in rows for
  // the one-row kernel.)
  RowSplit split() const {
    if (amx_ != nullptr) return RowSplit{16, AmxPanelRows(*amx_) / 16};
    if (panels8_ != nullptr) {  // four-row tiles, ~64 KiB of rows a unit
      return RowSplit{4, std::max<int64_t>(4, static_cast<int64_t>((64 << 10) / std::max<uint64_t>(1, w_.row_bytes()))) / 4};
    }
    if (int8_ != nullptr) return RowSplit{4, Int8PanelRows(int8_->shape()) / 4};
    if (f32_panels_) {  // ~64 KiB of packed rows a unit
      return RowSplit{F32Panels::kPanelRows, std::max<int64_t>(1, (16 << 10) / std::max<int64_t>(1, w_.cols) / F32Panels::kPanelRows)};
    }
    const int64_t rows = std::max<int64_t>(16, static_cast<int64_t>((64 << 10) / std::max<uint64_t>(1, w_.row_bytes())));
    return FourRowDecode() ? RowSplit{4, rows / 4} : RowSplit{1, rows};
  }

  // y[t·ys + r] for r in [begin, end) and every token.
  void Rows(int64_t begin, int64_t end, float* y, int64_t ys) const {
    if (amx_ != nullptr) {
      AmxRows(w_, *amx_, begin, end, y, ys);
    } else if (panels8_ != nullptr) {
      PanelRows(begin, end, y, ys);
    } else if (int8_ != nullptr) {
      Int8Rows(w_, *int8_, begin, end, y, ys);
    } else if (f32_panels_) {
      F32Rows(begin, end, y, ys);
    } else if (dot_tokens_ != nullptr) {
      Q8TokenRows(begin, end, y, ys);
    } else if (dot_ != nullptr) {
      QuantizedRows(begin, end, y, ys);
    } else {
      ExactRows(begin, end, y, ys);
    }
  }

 private:
  // Q8_0/Q4_K panel rows (panel_rows.h), every token in tiles whose activations stay in cache.
  void PanelRows(int64_t begin, int64_t end, float* y, int64_t ys) const {
    constexpr int kTokenTile = 32;
    const uint64_t rb = w_.row_stride();
    const std::byte* rows = w_.data + static_cast<uint64_t>(begin) * rb;
    const bool vnni = Int8ProductsUsable(), q8_0 = w_.type == GgmlType::kQ8_0;
    const auto kernel = vnni ? (q8_0 ? Q8_0PanelProduct8Avx512Vnni : Q4KPanelProduct8Avx512Vnni)
                             : (q8_0 ? Q8_0PanelProduct8Ref : Q4KPanelProduct8Ref);
    for (int64_t t0 = 0; t0 < x_.n_tokens(); t0 += kTokenTile) {
      const int n = static_cast<int>(std::min<int64_t>(kTokenTile, x_.n_tokens() - t0));
      Q8PanelRow tile[kTokenTile];
      for (int i = 0; i < n; ++i) tile[i] = panels8_->row(t0 + i);
      kernel(rows, rb, end - begin, w_.cols, tile, n, y + t0 * ys + begin, ys);
    }
  }

  // Decode with a four-row kernel: each call reads one activation row against four weight rows.
  // Row views (attention's per-head products) take the one-token kernels at every count, so that
  // a query's product has the same bits however many queries share the view.
  bool FourRowDecode() const {
    return rows4_ != nullptr && (!rows4_needs_pairs_ || x_.q16()->has_pair_order()) &&
           (dot4_ == nullptr || x_.n_tokens() < 4 || x_.for_views());
  }

  // Tokens in tiles whose activations stay in cache while every row of the range passes over
  // them; within a tile, four tokens share each weight block when a 4-token kernel exists.
  void QuantizedRows(int64_t begin, int64_t end, float* y, int64_t ys) const {
    constexpr int64_t kTokenTile = 32;
    const uint64_t rb = w_.row_stride();
    const Q16Rows& xq = *x_.q16();
    Q16Row tile[kTokenTile];  // built once per tile: rebuilt per row, the 32-byte argument stalled on store forwarding
    for (int64_t t0 = 0; t0 < x_.n_tokens(); t0 += kTokenTile) {
      const int64_t t1 = std::min(x_.n_tokens(), t0 + kTokenTile);
      for (int64_t t = t0; t < t1; ++t) tile[t - t0] = xq.row(x_.source_row(t));
      int64_t r = begin;
      if (FourRowDecode()) {
        const int64_t fours = (end - begin) / 4 * 4;
        if (t1 - t0 == 1) {  // one call for the whole range
          rows4_(w_.data + static_cast<uint64_t>(r) * rb, rb, fours, tile[0], w_.cols, y + t0 * ys + r);
          r += fours;
        } else {  // four rows at a time for every token, so that they stay in L1
          for (; r + 4 <= end; r += 4) {
            int64_t t = t0;
            // Q8_0: four tokens a row where four remain (the same bits as the four-row kernel's)
            for (; x4_is_rows4_ && t + 4 <= t1; t += 4) {
              for (int64_t i = 0; i < 4; ++i) {
                float out[4];
                dot4_(w_.data + static_cast<uint64_t>(r + i) * rb, tile + (t - t0), w_.cols, out);
                for (int64_t k = 0; k < 4; ++k) y[(t + k) * ys + r + i] = out[k];
              }
            }
            for (; t < t1; ++t) rows4_(w_.data + static_cast<uint64_t>(r) * rb, rb, 4, tile[t - t0], w_.cols, y + t * ys + r);
          }
        }
      }
      for (; r < end; ++r) {
        const std::byte* row = w_.data + static_cast<uint64_t>(r) * rb;
        int64_t t = t0;
        for (; dot4_ != nullptr && !x_.for_views() && t + 4 <= t1; t += 4) {
          float out[4];
          dot4_(row, tile + (t - t0), w_.cols, out);
          for (int i = 0; i < 4; ++i) y[(t + i) * ys + r] = out[i];
        }
        for (; t < t1; ++t) y[t * ys + r] = dot_(row, tile[t - t0], w_.cols);
      }
    }
  }

  // Each row read once for up to kQ8RowsMaxTokens tokens of 8-bit activations.
  void Q8TokenRows(int64_t begin, int64_t end, float* y, int64_t ys) const {
    const Q8Rows& xq = *x_.q8();
    const uint64_t rb = w_.row_stride();
    for (int64_t t0 = 0; t0 < x_.n_tokens(); t0 += kQ8RowsMaxTokens) {
      const int n = static_cast<int>(std::min<int64_t>(kQ8RowsMaxTokens, x_.n_tokens() - t0));
      Q8Row rows[kQ8RowsMaxTokens];
      for (int i = 0; i < n; ++i) rows[i] = xq.row(x_.source_row(t0 + i));
      float out[kQ8RowsMaxTokens];
      for (int64_t r = begin; r < end; ++r) {
        dot_tokens_(w_.data + static_cast<uint64_t>(r) * rb, rows, n, w_.cols, out);
        for (int i = 0; i < n; ++i) y[(t0 + i) * ys + r] = out[i];
      }
    }
  }

  // Rows [begin, end) packed into f32 panels here, times every token (f32 arithmetic).
  void F32Rows(int64_t begin, int64_t end, float* y, int64_t ys) const {
    WeightRows part = w_;
    part.data = w_.row(begin);
    part.n_rows = end - begin;
    part.stride_bytes = w_.row_stride();
    const F32Panels panels(part);
    F32PanelRowsFast(panels, 0, end - begin, w_.cols, x_.x(), x_.x_stride(), x_.n_tokens(), y + begin, ys);
  }

  // The exact float path: each row dequantized once (f32 rows read in place), f32 dot products;
  // tokens in tiles so that their activations stay in cache across the rows.
  void ExactRows(int64_t begin, int64_t end, float* y, int64_t ys) const {
    constexpr int64_t kTokenTile = 64;
    const int64_t n = x_.n_tokens(), xs = x_.x_stride(), cols = w_.cols;
    const bool in_place = w_.type == GgmlType::kF32;
    // f16/bf16 rows convert on the fly (exactly) for a few tokens: no copy, 2 bytes a weight
    // read; for more, each row is converted once (the same values) and dotted with every token.
    const bool few = n < 4;
    const FloatDotFn half_dot = !few                         ? nullptr
                                : w_.type == GgmlType::kF16  ? DotF16For(DetectedIsa())
                                : w_.type == GgmlType::kBF16 ? DotBF16For(DetectedIsa())
                                                             : nullptr;
    const HalfToFloatFn half_row = HalfToFloatFor(w_.type, DetectedIsa());  // nullptr unless f16/bf16
    std::vector<float> row(in_place || half_dot ? 0 : static_cast<size_t>(cols));
    for (int64_t t0 = 0; t0 < n; t0 += kTokenTile) {
      const int64_t t1 = std::min(n, t0 + kTokenTile);
      for (int64_t r = begin; r < end; ++r) {
        const std::byte* src = w_.row(r);
        if (half_dot != nullptr) {
          for (int64_t t = t0; t < t1; ++t) y[t * ys + r] = half_dot(src, x_.x() + t * xs, cols);
          continue;
        }
        const float* wr = reinterpret_cast<const float*>(src);
        if (half_row != nullptr) {
          half_row(src, row.data(), cols);
          wr = row.data();
        } else if (w_.order == RowOrder::kPanels) {
          DequantizePanelRow(w_.type, src, cols, row.data());
          wr = row.data();
        } else if (!in_place) {
          DequantizeRow(w_.type, src, row.data(), cols);
          wr = row.data();
        }
        for (int64_t t = t0; t < t1; ++t) y[t * ys + r] = Dot(wr, x_.x() + t * xs, cols);
      }
    }
  }

  const WeightRows& w_;
  const PreparedInput& x_;
  DotQ8Fn dot_ = nullptr;
  DotQ8x4Fn dot4_ = nullptr;
  DotQ8TokensFn dot_tokens_ = nullptr;
  DotRowsFn rows4_ = nullptr;
  bool rows4_needs_pairs_ = false;  // rows4_ reads Q16Row::qs_pairs
  bool x4_is_rows4_ = false;        // dot4_ gives each (row, token) rows4_'s bits (Q8_0)
  const AmxActivations* amx_ = nullptr;
  const Int8Activations* int8_ = nullptr;
  const Q8PanelRows* panels8_ = nullptr;
  bool f32_panels_ = false;
};

}  // namespace

namespace {

// How activations are prepared for a product (whatever the weight type).
ProductPath InputPath(int64_t cols, const MatMulParams& p) {
  if (p.exact) return ProductPath::kExact;
  if (p.n_tokens >= kAmxMinTokens && AmxUsable() && !p.row_views) return ProductPath::kAmx;
  if (p.n_tokens >= kInt8MinTokens && Int8ProductsUsable() && !p.row_views && cols % 32 == 0) return ProductPath::kInt8;
  // Without AMX at every count, else from kQ8RowsMinTokens; never for row views (16-bit).
  if (Int8ProductsUsable() && !p.row_views && cols % 32 == 0 && (!AmxUsable() || p.n_tokens >= kQ8RowsMinTokens)) {
    return ProductPath::kQ8Rows;
  }
  return ProductPath::kQ16;
}

}  // namespace

ProductPath PathOf(GgmlType type, int64_t cols, const MatMulParams& p, RowOrder order) {
  const ProductPath input = InputPath(cols, p);
  if (order == RowOrder::kPanels) {
    if (input == ProductPath::kExact || !PanelRowsUsable() || !PanelRowsFit(cols)) return ProductPath::kExact;
    if (type == GgmlType::kQ4_K && input == ProductPath::kInt8 && p.n_tokens >= kQ4KPanelsInt8MinTokens) return input;
    return ProductPath::kPanels8;
  }
  if (input == ProductPath::kAmx) return CanDequantize(type) ? input : ProductPath::kExact;
  if (input == ProductPath::kInt8) {
    return Int8PanelSupports(type) ? input : IsFloatType(type) ? ProductPath::kF32Panels : ProductPath::kExact;
  }
  if (input == ProductPath::kQ8Rows) {
    return Q8TokensSupport(type, cols) ? input : ProductPath::kQ16;
  }
  return input;
}

const char* PathName(ProductPath path) {
  switch (path) {
    case ProductPath::kExact: return "exact";
    case ProductPath::kQ16: return "16-bit activations";
    case ProductPath::kInt8: return "8-bit activations (VNNI)";
    case ProductPath::kQ8Rows: return "8-bit activations (rows as stored)";
    case ProductPath::kAmx: return "AMX";
    case ProductPath::kF32Panels: return "f32 panels";
    case ProductPath::kPanels8: return "panel rows, 8-bit activations";
  }
  return "?";
}

PreparedInput::PreparedInput(const float* x, int64_t cols, const MatMulParams& p)
    : x_(x), cols_(cols), n_tokens_(p.n_tokens), x_stride_(p.x_stride ? p.x_stride : cols), exact_(p.exact),
      path_(InputPath(cols, p)), row_views_(p.row_views) {
  if (path_ == ProductPath::kExact) return;
  if (path_ == ProductPath::kAmx) {
    amx_ = std::make_unique<AmxActivations>(x, n_tokens_, cols, x_stride_);
    return;
  }
  // Decode-sized 16-bit inputs also get the pair order of the four-row K-quant kernel (a
  // reordered copy of a few KiB per token).
  pair_order_ = path_ == ProductPath::kQ16 && (n_tokens_ < 4 || p.row_views) && cols % 256 == 0 &&
                DotQ4_KRowsFor(DetectedIsa()) != nullptr;
  // Panel rows exist where they fit and the CPU runs them (the same test as at load).
  panels_ = PanelRowsUsable() && PanelRowsFit(cols);
}

PreparedInput::PreparedInput(const PreparedInput& all, int64_t first, int64_t step, int64_t n)
    : x_(all.x_ + first * all.x_stride_), cols_(all.cols_), n_tokens_(n), x_stride_(all.x_stride_ * step),
      exact_(all.exact_), path_(all.path_), view_(true), row_views_(all.row_views_), viewed_(&all), first_(all.source_row(first)),
      step_(all.step_ * step) {
  FRUGAL_CHECK(all.path_ != ProductPath::kAmx && all.path_ != ProductPath::kInt8);
  FRUGAL_CHECK(first >= 0 && step >= 1 && n >= 1 && first + (n - 1) * step < all.n_tokens_);
}

const Int8Activations* PreparedInput::int8() const {
  if (view_ || path_ != ProductPath::kInt8) return nullptr;
  int8_once_.Run([&] { int8_ = std::make_unique<Int8Activations>(x_, n_tokens_, cols_, x_stride_); });
  return int8_.get();
}

const Q16Rows* PreparedInput::q16() const {
  if (view_) return viewed_->q16();
  if ((path_ != ProductPath::kQ16 && path_ != ProductPath::kQ8Rows) || cols_ % 32 != 0) return nullptr;
  q16_once_.Run([&] { q16_owned_ = std::make_unique<Q16Rows>(x_, n_tokens_, cols_, x_stride_, pair_order_); });
  return q16_owned_.get();
}

// Q8_0 and Q4_K rows take 8-bit activations here; other types keep the 16-bit ones.
const Q8Rows* PreparedInput::q8() const {
  if (path_ != ProductPath::kQ8Rows) return nullptr;
  if (view_) return viewed_->q8();
  q8_once_.Run([&] { q8_ = std::make_unique<Q8Rows>(x_, n_tokens_, cols_, x_stride_); });
  return q8_.get();
}

const Q8PanelRows* PreparedInput::panel_rows() const {
  if (view_ || !panels_ || row_views_) return nullptr;
  panel_rows_once_.Run([&] {
    // Many tokens: from the int8 products' activations (the same values; quantized once for both).
    const Int8Activations* many = int8();
    panel_rows_ = many != nullptr ? std::make_unique<Q8PanelRows>(*many) : std::make_unique<Q8PanelRows>(x_, n_tokens_, cols_, x_stride_);
  });
  return panel_rows_.get();
}

PreparedInput::~PreparedInput() = default;

void MatMul(const WeightRows& w, const PreparedInput& x, float* y, int64_t y_stride, ThreadPool* pool) {
  const RowProduct product(w, x);
  const int64_t ys = y_stride ? y_stride : w.n_rows;
  ForRows(w.n_rows, product.split(), pool, [&](int64_t begin, int64_t end, int) { product.Rows(begin, end, y, ys); });
}

void MatMul(const WeightRows& w, const float* x, float* y, const MatMulParams& p, ThreadPool* pool) {
  const PreparedInput input(x, w.cols, p);
  MatMul(w, input, y, p.y_stride, pool);
}

OwnedRows TransposedForProducts(const WeightRows& w, bool exact) {
  const int64_t rows = w.n_rows, cols = w.cols;
  std::vector<float> f(static_cast<size_t>(rows * cols)), t(f.size());  // f: [rows, cols], t: [cols, rows]
  for (int64_t r = 0; r < rows; ++r) DequantizeRow(w.type, w.row(r), f.data() + r * cols, cols);
  Transpose(f.data(), rows, cols, t.data());
  OwnedRows out;
  // Float weights stay float: rounding them to 8 bits would lose what the file holds (V3.2's
  // indexer choices flipped on an f32 model). Quantized ones lose nothing q8_0 cannot hold.
  const bool q8 = !exact && !IsFloatType(w.type) && rows % TraitsOf(GgmlType::kQ8_0).block_elems == 0;
  const GgmlType type = q8 ? GgmlType::kQ8_0 : GgmlType::kF32;
  const size_t row_bytes = RowBytes(type, static_cast<uint64_t>(rows));
  out.bytes.resize(row_bytes * static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) {
    if (q8) {
      QuantizeRow(type, t.data() + c * rows, out.bytes.data() + static_cast<size_t>(c) * row_bytes, rows);
    } else {
      std::memcpy(out.bytes.data() + static_cast<size_t>(c) * row_bytes, t.data() + c * rows, row_bytes);
    }
  }
  out.rows = WeightRows{out.bytes.data(), type, rows, cols};
  return out;
}

PreparedWeights::PreparedWeights(const WeightRows& w, bool exact) : w_(w) {
  if (exact) return;
  if (AmxUsable() && CanDequantize(w.type)) {
    amx_ = std::make_unique<AmxWeights>(w);
  } else if (F32PanelsUsable() && CanDequantize(w.type) && !Int8PanelSupports(w.type)) {
    f32_ = std::make_unique<F32Panels>(w);
  }
}

PreparedWeights::~PreparedWeights() = default;

void MatMul(const PreparedWeights& w, int64_t n_rows, int64_t cols, const float* x, float* y, const MatMulParams& p,
            ThreadPool* pool) {
  FRUGAL_CHECK(n_rows <= w.rows().n_rows && cols <= w.rows().cols);
  FRUGAL_CHECK(cols % TraitsOf(w.rows().type).block_elems == 0);  // whole blocks of each row
  const int64_t ys = p.y_stride ? p.y_stride : n_rows;
  if (cols == 0) {  // empty sums
    for (int64_t t = 0; t < p.n_tokens; ++t) std::fill_n(y + t * ys, n_rows, 0.0f);
    return;
  }
  if (w.amx() != nullptr && !p.exact) {
    const AmxActivations input(x, p.n_tokens, cols, p.x_stride ? p.x_stride : cols);
    ForRows(n_rows, RowSplit{16, AmxPanelRows(input) / 16}, pool,
            [&](int64_t begin, int64_t end, int) { AmxRows(*w.amx(), input, begin, end, y, ys); });
    return;
  }
  if (w.f32() != nullptr && !p.exact) {
    const int64_t xs = p.x_stride ? p.x_stride : cols;
    ForRows(n_rows, RowSplit{F32Panels::kPanelRows, 2}, pool, [&](int64_t begin, int64_t end, int) {
      F32PanelRowsFast(*w.f32(), begin, end, cols, x, xs, p.n_tokens, y, ys);
    });
    return;
  }
  WeightRows part = w.rows();
  part.n_rows = n_rows;
  part.cols = cols;
  part.stride_bytes = w.rows().row_stride();  // a prefix of each row
  MatMul(part, x, y, {.n_tokens = p.n_tokens, .x_stride = p.x_stride, .y_stride = ys, .exact = p.exact}, pool);
}

namespace {

// A unit of grouped work: rows [begin, end) of group g.
struct RowUnit {
  size_t group;
  int64_t begin, end;
};

// Cuts each group's rows into units of whole granules, about `target` rows each.
template <typename Products>
std::vector<RowUnit> UnitsOf(const Products& products, const std::vector<int64_t>& rows, int64_t target) {
  std::vector<RowUnit> units;
  for (size_t g = 0; g < products.size(); ++g) {
    const RowSplit split = products[g].split();
    const int64_t step = std::max(split.granule, (target + split.granule - 1) / split.granule * split.granule);
    for (int64_t r = 0; r < rows[g]; r += step) units.push_back({g, r, std::min(rows[g], r + step)});
  }
  return units;
}

// Rows a unit of grouped work gets: weights of ~64 KiB in decode (enough for the prefetcher,
// small enough for balance), whole AMX panels in prefill.
int64_t UnitRows(const RowProduct& p) {
  const RowSplit split = p.split();
  return split.chunk * split.granule;
}

void ForUnits(const std::vector<RowUnit>& units, ThreadPool* pool, const std::function<void(const RowUnit&)>& work) {
  if (pool == nullptr || units.size() < 2) {
    for (const RowUnit& u : units) work(u);
    return;
  }
  pool->ParallelForDynamic(static_cast<int64_t>(units.size()), 1, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) work(units[static_cast<size_t>(i)]);
  });
}

// silu(gate) ⊙ up over rows [begin, end) of every token: out and up are [T, ff].
void SwiGluRows(const RowProduct& g, const RowProduct& u, int64_t n_tokens, int64_t ff, int64_t begin, int64_t end,
                float limit, float* out, float* up_values) {
  g.Rows(begin, end, out, ff);
  u.Rows(begin, end, up_values, ff);
  for (int64_t t = 0; t < n_tokens; ++t) {
    if (limit > 0) {
      SiluMulClamped(out + t * ff + begin, up_values + t * ff + begin, end - begin, limit);
    } else {
      SiluMul(out + t * ff + begin, up_values + t * ff + begin, end - begin);
    }
  }
}

}  // namespace

void MatMulSwiGlu(const WeightRows& gate, const WeightRows& up, const float* x, float* out, const MatMulParams& p,
                  ThreadPool* pool) {
  const PreparedInput input(x, gate.cols, p);
  MatMulSwiGluGrouped({{gate, up, &input, out}}, pool);
}

void MatMulGrouped(const std::vector<ProductGroup>& groups, ThreadPool* pool) {
  std::vector<RowProduct> products;
  std::vector<int64_t> rows;
  products.reserve(groups.size());
  int64_t target = 0;
  for (const ProductGroup& g : groups) {
    products.emplace_back(g.w, *g.x);
    rows.push_back(g.w.n_rows);
    target = std::max(target, UnitRows(products.back()));
  }
  const std::vector<RowUnit> units = UnitsOf(products, rows, target);
  ForUnits(units, pool, [&](const RowUnit& u) {
    products[u.group].Rows(u.begin, u.end, groups[u.group].y, groups[u.group].w.n_rows);
  });
}

void MatMulSwiGluGrouped(const std::vector<SwiGluGroup>& groups, ThreadPool* pool) {
  std::vector<RowProduct> gates, ups;
  std::vector<int64_t> rows;
  std::vector<std::unique_ptr<float[]>> up_values(groups.size());  // [T, ff] per group (written before read)
  gates.reserve(groups.size());
  ups.reserve(groups.size());
  int64_t target = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    const SwiGluGroup& g = groups[i];
    FRUGAL_CHECK_EQ(g.gate.n_rows, g.up.n_rows);
    FRUGAL_CHECK_EQ(g.gate.cols, g.up.cols);
    gates.emplace_back(g.gate, *g.x);
    ups.emplace_back(g.up, *g.x);
    rows.push_back(g.gate.n_rows);
    up_values[i].reset(new float[static_cast<size_t>(g.x->n_tokens() * g.gate.n_rows)]);
    target = std::max(target, UnitRows(gates.back()));
  }
  const std::vector<RowUnit> units = UnitsOf(gates, rows, target);
  ForUnits(units, pool, [&](const RowUnit& u) {
    const SwiGluGroup& g = groups[u.group];
    SwiGluRows(gates[u.group], ups[u.group], g.x->n_tokens(), g.gate.n_rows, u.begin, u.end, g.limit, g.out,
               up_values[u.group].get());
  });
}

namespace {
// y[t·ys + k] += a[t·as]·row[k] for every token: one call per weight row (a call per row and
// token cost more than the arithmetic for short rows and many tokens).
__attribute__((target_clones("avx512f", "avx2", "default")))
void AxpyRowAllTokens(const float* row, int64_t n, const float* a, int64_t as, int64_t n_tokens, float* y, int64_t ys) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float at = a[t * as];
    float* yt = y + t * ys;
    for (int64_t k = 0; k < n; ++k) yt[k] += at * row[k];
  }
}
}  // namespace

void MatMulTransposed(const WeightRows& w, const float* x, float* y, const MatMulParams& p) {
  const int64_t xs = p.x_stride ? p.x_stride : w.n_rows;
  const int64_t ys = p.y_stride ? p.y_stride : w.cols;
  const uint64_t rb = w.row_stride();
  for (int64_t t = 0; t < p.n_tokens; ++t) {
    for (int64_t k = 0; k < w.cols; ++k) y[t * ys + k] = 0.0f;
  }
  std::vector<float> row(static_cast<size_t>(w.cols));
  const HalfToFloatFn half = HalfToFloatFor(w.type, DetectedIsa());
  for (int64_t r = 0; r < w.n_rows; ++r) {
    if (half != nullptr) {
      half(w.data + static_cast<uint64_t>(r) * rb, row.data(), w.cols);
    } else {
      DequantizeRow(w.type, w.data + static_cast<uint64_t>(r) * rb, row.data(), w.cols);
    }
    AxpyRowAllTokens(row.data(), w.cols, x + r, xs, p.n_tokens, y, ys);
  }
}

}  // namespace frugal::kernels
