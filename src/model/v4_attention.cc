#include "model/v4_attention.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "kernels/block_products.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/rope.h"
#include "util/aligned_buffer.h"

namespace frugal::model {
namespace {

constexpr int kQueryBlock = 16;  // queries sharing one gathered key set

using Buffer = AlignedBuffer<float>;  // step-sized scratch, written in full before it is read

// RoPE on the last n_rot values of each of `rows` rows of `dim` values (position < 0: undone).
void RopeTail(float* x, int rows, int dim, int n_rot, const float* freqs, float position) {
  std::vector<float> c(static_cast<size_t>(n_rot / 2)), s(static_cast<size_t>(n_rot / 2));
  kernels::RopeAngles(freqs, n_rot, position, c.data(), s.data());
  for (int r = 0; r < rows; ++r) kernels::RopeRotate(x + static_cast<size_t>(r) * dim + dim - n_rot, n_rot, c.data(), s.data());
}

// Attention's products use the block kernels MLA decode uses (block_products.h): a few query rows
// against many stored rows, in f32 arithmetic on the exact and the fast path alike, with no
// activation preparation per call. The threads split the rows (dots) or the columns (sums).
// s[r·ss + j] = q_r · row_j for r < n_q, j < n_rows (q rows of dim values).
void Dots(const kernels::StoredRows& k, int64_t n_rows, int64_t dim, const float* q, int64_t n_q, float* s, int64_t ss,
          ThreadPool& pool) {
  const kernels::BlockProductFns fns = kernels::BlockProductsFor(kernels::DetectedIsa());
  if (n_rows * n_q * dim < (1 << 16)) {
    fns.dots(k, dim, 0, n_rows, q, dim, n_q, s, ss);
    return;
  }
  pool.ParallelFor(n_rows, [&](int64_t j0, int64_t j1, int) { fns.dots(k, dim, j0, j1, q, dim, n_q, s, ss); });
}

// o[r·dim + c] = Σ_j p[r·ps + j] · row_j[c] for r < n_p (o overwritten).
void WeightedSums(const kernels::StoredRows& k, int64_t n_rows, int64_t dim, const float* p, int64_t ps, int64_t n_p, float* o,
                  ThreadPool& pool) {
  const kernels::BlockProductFns fns = kernels::BlockProductsFor(kernels::DetectedIsa());
  std::fill(o, o + n_p * dim, 0.0f);
  if (n_rows * n_p * dim < (1 << 16) || dim < 32) {  // threads take 16-column groups
    fns.weighted_sums(k, 0, n_rows, 0, dim, p, ps, n_p, o, dim);
    return;
  }
  pool.ParallelFor(dim / 16, [&](int64_t c0, int64_t c1, int) {
    fns.weighted_sums(k, 0, n_rows, 16 * c0, c1 == dim / 16 ? dim : 16 * c1, p, ps, n_p, o, dim);
  });
}

kernels::StoredRows F32Stored(const float* data, int64_t dim) {
  return {reinterpret_cast<const std::byte*>(data), GgmlType::kF32, static_cast<uint64_t>(dim) * sizeof(float)};
}

void Product(const ConstTensorView& w, const float* x, int n, bool exact, ThreadPool& pool, float* y) {
  kernels::MatMul(kernels::AllRows(w), x, y, {.n_tokens = n, .exact = exact}, &pool);
}

// Feeds a segment's projected rows (score without ape) through `state`; each completed block's
// row, RMS-normalized and roped at the block's first position, goes to store(block, row).
template <typename Store>
void Compress(CompressorState& state, const CompressorWeights& w, const float* kv, const float* score, const V4Segment& seg,
              float eps, int n_rot, const float* freqs, Store&& store) {
  const int pw = state.projected_width(), width = state.width(), r = state.ratio();
  std::vector<float> sc(static_cast<size_t>(pw)), row(static_cast<size_t>(width));
  for (int i = 0; i < seg.n; ++i) {
    const int pos = seg.pos0 + i;
    const size_t at = static_cast<size_t>(seg.row + i) * pw;
    const float* ape = w.ape.data() + static_cast<size_t>(pos % r) * pw;
    for (int c = 0; c < pw; ++c) sc[static_cast<size_t>(c)] = score[at + c] + ape[c];
    if (!state.Push(pos, kv + at, sc.data(), row.data())) continue;
    kernels::RmsNorm(row.data(), w.norm.data(), width, eps, row.data());
    RopeTail(row.data(), 1, width, n_rot, freqs, static_cast<float>(pos + 1 - r));
    store(pos / r, row.data());
  }
}

// Complete blocks a query at `pos` may see.
int VisibleBlocks(int pos, int ratio) { return (pos + 1) / ratio; }

// Per token of the segment, the blocks it attends to (ascending): the top_k visible blocks by
// Σ_h w_h·relu(q_h·k_b) (ties: the lower block), or all while no more are visible.
// iq: [n, heads, dim] roped index queries; iw: [n, heads] head weights.
std::vector<std::vector<int>> SelectBlocks(const float* iq, const float* iw, int layer, int ratio, const V4Segment& seg,
                                           int heads, int dim, int top_k, ThreadPool& pool) {
  const GgmlType stored = GgmlTypeOf(seg.blocks.layout().dtype);
  const uint64_t key_bytes = static_cast<uint64_t>(dim) * KvValueBytes(seg.blocks.layout().dtype);
  std::vector<std::vector<int>> chosen(static_cast<size_t>(seg.n));
  std::vector<float> dots, score;
  for (int i0 = 0; i0 < seg.n; i0 += kQueryBlock) {
    const int i1 = std::min(seg.n, i0 + kQueryBlock);
    const int n_keys = VisibleBlocks(seg.pos0 + i1 - 1, ratio);
    if (n_keys > top_k) {  // q·k for every visible key, a pool block's run of keys at a time
      dots.resize(static_cast<size_t>(i1 - i0) * heads * n_keys);
      seg.blocks.ForEachKeyRun(layer, n_keys, [&](int first, int count, const std::byte* keys) {
        Dots({keys, stored, key_bytes}, count, dim, iq + static_cast<size_t>(seg.row + i0) * heads * dim, (i1 - i0) * heads,
             dots.data() + first, n_keys, pool);
      });
    }
    for (int i = i0; i < i1; ++i) {
      const int visible = VisibleBlocks(seg.pos0 + i, ratio);
      std::vector<int>& out = chosen[static_cast<size_t>(i)];
      out.resize(static_cast<size_t>(visible));
      std::iota(out.begin(), out.end(), 0);
      if (visible <= top_k) continue;
      score.assign(static_cast<size_t>(visible), 0.0f);
      const float* w = iw + static_cast<size_t>(seg.row + i) * heads;
      for (int h = 0; h < heads; ++h) {
        const float* d = dots.data() + (static_cast<size_t>(i - i0) * heads + h) * n_keys;
        for (int b = 0; b < visible; ++b) score[static_cast<size_t>(b)] += w[h] * std::max(d[b], 0.0f);
      }
      std::partial_sort(out.begin(), out.begin() + top_k, out.end(), [&](int a, int b) {
        return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)] || (score[static_cast<size_t>(a)] == score[static_cast<size_t>(b)] && a < b);
      });
      out.resize(static_cast<size_t>(top_k));
      std::sort(out.begin(), out.end());
    }
  }
  return chosen;
}

struct LayerShape {
  int heads, dim, n_rot, window, ratio;
  float scale;
};

// Attention of one segment's queries q [n, heads, dim] over its window and compressed rows;
// out: [n, heads, dim] (RoPE undone). kv: the step's new rows [step rows, dim].
void AttendSegment(const LayerShape& s, int layer, const V4LayerTail& lc, const V4Segment& seg, const float* q, const float* kv,
                   const std::vector<std::vector<int>>& selected, const float* sinks, const float* freqs, ThreadPool& pool,
                   float* out) {
  const int d = s.dim, nh = s.heads;
  std::vector<float> keys, scores, probs;
  std::vector<int> blocks, mark;
  for (int i0 = 0, step = kQueryBlock; i0 < seg.n; i0 += step) {
    // CSA queries whose indexer chose among more blocks than it keeps go one at a time: the
    // union of 16 queries' top-k sets would be up to 16 times larger than each.
    step = s.ratio == 4 && static_cast<int>(selected[static_cast<size_t>(i0)].size()) < VisibleBlocks(seg.pos0 + i0, s.ratio)
               ? 1 : kQueryBlock;
    const int i1 = std::min(seg.n, i0 + step), nq = i1 - i0;
    const int first = seg.pos0 + i0, last = seg.pos0 + i1 - 1;
    const int raw_lo = std::max(0, first - s.window + 1), n_raw = last - raw_lo + 1;
    blocks.clear();
    if (s.ratio == 128) {
      blocks.resize(static_cast<size_t>(VisibleBlocks(last, s.ratio)));
      std::iota(blocks.begin(), blocks.end(), 0);
    } else if (s.ratio == 4) {
      for (int i = i0; i < i1; ++i) blocks.insert(blocks.end(), selected[static_cast<size_t>(i)].begin(), selected[static_cast<size_t>(i)].end());
      std::sort(blocks.begin(), blocks.end());
      blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
    }
    const int m = n_raw + static_cast<int>(blocks.size());
    keys.resize(static_cast<size_t>(m) * d);
    for (int j = 0; j < n_raw; ++j) {
      const int pos = raw_lo + j;
      const float* src = pos < seg.pos0 ? lc.window.data() + static_cast<size_t>(pos % s.window) * d
                                        : kv + static_cast<size_t>(seg.row + pos - seg.pos0) * d;
      std::copy(src, src + d, keys.begin() + static_cast<long>(j) * d);
    }
    for (size_t k = 0; k < blocks.size(); ++k) seg.blocks.ReadRow(layer, blocks[k], keys.data() + (n_raw + k) * static_cast<size_t>(d));
    scores.resize(static_cast<size_t>(nq) * nh * m);
    Dots(F32Stored(keys.data(), d), m, d, q + static_cast<size_t>(seg.row + i0) * nh * d, nq * nh, scores.data(), m, pool);
    probs.assign(scores.size(), 0.0f);
    for (int i = i0; i < i1; ++i) {
      const int pos = seg.pos0 + i;
      // Which gathered compressed rows this query sees.
      mark.assign(blocks.size(), 0);
      if (s.ratio == 128) {
        for (size_t k = 0; k < blocks.size(); ++k) mark[k] = blocks[k] < VisibleBlocks(pos, s.ratio);
      } else if (s.ratio == 4) {
        for (int b : selected[static_cast<size_t>(i)]) mark[static_cast<size_t>(std::lower_bound(blocks.begin(), blocks.end(), b) - blocks.begin())] = 1;
      }
      auto visible = [&](int j) {
        if (j < n_raw) {
          const int p = raw_lo + j;
          return p <= pos && pos - p < s.window;
        }
        return mark[static_cast<size_t>(j - n_raw)] != 0;
      };
      for (int h = 0; h < nh; ++h) {
        const size_t at = (static_cast<size_t>(i - i0) * nh + h) * m;
        const float* sc = scores.data() + at;
        float* p = probs.data() + at;
        float mx = sinks[h];
        for (int j = 0; j < m; ++j) {
          if (visible(j)) mx = std::max(mx, sc[j] * s.scale);
        }
        double den = std::exp(static_cast<double>(sinks[h]) - mx);
        for (int j = 0; j < m; ++j) {
          if (!visible(j)) continue;
          p[j] = std::exp(sc[j] * s.scale - mx);
          den += p[j];
        }
        const float inv = static_cast<float>(1.0 / den);
        for (int j = 0; j < m; ++j) p[j] *= inv;
      }
    }
    float* o = out + static_cast<size_t>(i0) * nh * d;
    WeightedSums(F32Stored(keys.data(), d), m, d, probs.data(), m, nq * nh, o, pool);
    for (int i = i0; i < i1; ++i) RopeTail(o + static_cast<size_t>(i - i0) * nh * d, nh, d, s.n_rot, freqs, -static_cast<float>(seg.pos0 + i));
  }
}

}  // namespace

V4RopeTables V4RopeTablesOf(const ModelConfig& c) {
  return {RopeFrequencies(c.rope, c.mla.qk_rope_head_dim), RopeFrequencies(c.v4.compressed_rope, c.mla.qk_rope_head_dim)};
}

void V4Attention(const V4AttentionInput& in, const float* xn, ThreadPool& pool, float* out) {
  const ModelConfig& c = in.config;
  const LayerWeights& w = in.w;
  const CompressedAttentionConfig& v = c.v4;
  const int n = in.n, l = in.layer, nh = c.mla.n_heads, d = v.head_dim, n_rot = c.mla.qk_rope_head_dim;
  const int ratio = v.compress_ratios[static_cast<size_t>(l)];
  const float eps = static_cast<float>(c.rms_eps);
  const float* freqs = ratio == 0 ? in.rope.window.data() : in.rope.compressed.data();
  const LayerShape shape{nh, d, n_rot, v.window, ratio, static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)))};
  // Queries: [n, heads, dim], weightless RMSNorm per head, roped.
  Buffer qr(static_cast<size_t>(n) * c.mla.q_lora_rank, false), q(static_cast<size_t>(n) * nh * d, false);
  Product(w.q_a, xn, n, in.exact, pool, qr.data());
  for (int t = 0; t < n; ++t) {
    float* r = qr.data() + static_cast<size_t>(t) * c.mla.q_lora_rank;
    kernels::RmsNorm(r, w.q_a_norm.data(), c.mla.q_lora_rank, eps, r);
  }
  Product(w.q_b, qr.data(), n, in.exact, pool, q.data());
  const std::vector<float> ones(static_cast<size_t>(d), 1.0f);
  Buffer kv(static_cast<size_t>(n) * d, false);
  Product(w.kv, xn, n, in.exact, pool, kv.data());
  for (const V4Segment& seg : in.segments) {
    for (int i = 0; i < seg.n; ++i) {
      const int t = seg.row + i;
      float* qt = q.data() + static_cast<size_t>(t) * nh * d;
      for (int h = 0; h < nh; ++h) kernels::RmsNorm(qt + static_cast<size_t>(h) * d, ones.data(), d, eps, qt + static_cast<size_t>(h) * d);
      RopeTail(qt, nh, d, n_rot, freqs, static_cast<float>(seg.pos0 + i));
      float* kt = kv.data() + static_cast<size_t>(t) * d;
      kernels::RmsNorm(kt, w.kv_a_norm.data(), d, eps, kt);
      RopeTail(kt, 1, d, n_rot, freqs, static_cast<float>(seg.pos0 + i));
    }
  }
  if (in.sink) {
    in.sink->Put(fmt::format("blk.{}.attn_q", l), q.data(), {n, nh * d});
    in.sink->Put(fmt::format("blk.{}.attn_kv", l), kv.data(), {n, d});
  }
  // Compressed rows (and index keys) of the blocks this step completes, before any query looks.
  if (ratio > 0) {
    const int pw = (ratio == 4 ? 2 : 1) * d;
    Buffer ckv(static_cast<size_t>(n) * pw, false), cscore(static_cast<size_t>(n) * pw, false);
    Product(w.compressor.kv, xn, n, in.exact, pool, ckv.data());
    Product(w.compressor.gate, xn, n, in.exact, pool, cscore.data());
    for (const V4Segment& seg : in.segments) {
      Compress(seg.tail->layer(l).compressor, w.compressor, ckv.data(), cscore.data(), seg, eps, n_rot, freqs,
               [&](int index, const float* row) { seg.blocks.WriteRow(l, index, row); });
    }
  }
  std::vector<std::vector<std::vector<int>>> selected(in.segments.size());
  if (ratio == 4) {
    const IndexerConfig& x = c.indexer;
    const int pw = 2 * x.head_dim;
    Buffer ikv(static_cast<size_t>(n) * pw, false), iscore(static_cast<size_t>(n) * pw, false);
    Product(w.idx_compressor.kv, xn, n, in.exact, pool, ikv.data());
    Product(w.idx_compressor.gate, xn, n, in.exact, pool, iscore.data());
    Buffer iq(static_cast<size_t>(n) * x.n_heads * x.head_dim, false), iw(static_cast<size_t>(n) * x.n_heads, false);
    Product(w.idx_q_b, qr.data(), n, in.exact, pool, iq.data());
    Product(w.idx_proj, xn, n, in.exact, pool, iw.data());
    const float w_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(x.head_dim) * x.n_heads));
    for (size_t i = 0; i < iw.size(); ++i) iw.data()[i] *= w_scale;
    for (size_t s = 0; s < in.segments.size(); ++s) {
      const V4Segment& seg = in.segments[s];
      Compress(seg.tail->layer(l).index_compressor, w.idx_compressor, ikv.data(), iscore.data(), seg, eps, n_rot, freqs,
               [&](int index, const float* key) { seg.blocks.WriteKey(l, index, key); });
      for (int i = 0; i < seg.n; ++i) {
        RopeTail(iq.data() + static_cast<size_t>(seg.row + i) * x.n_heads * x.head_dim, x.n_heads, x.head_dim, n_rot, freqs,
                 static_cast<float>(seg.pos0 + i));
      }
      selected[s] = SelectBlocks(iq.data(), iw.data(), l, ratio, seg, x.n_heads, x.head_dim, x.top_k, pool);
    }
  }
  Buffer heads(static_cast<size_t>(n) * nh * d, false);  // [n, heads, dim], every row written
  for (size_t s = 0; s < in.segments.size(); ++s) {
    const V4Segment& seg = in.segments[s];
    V4LayerTail& lc = seg.tail->layer(l);
    AttendSegment(shape, l, lc, seg, q.data(), kv.data(), selected[s], w.sinks.data(), freqs, pool,
                  heads.data() + static_cast<size_t>(seg.row) * nh * d);
    for (int i = std::max(0, seg.n - v.window); i < seg.n; ++i) {  // the window ring keeps the newest rows
      const float* src = kv.data() + static_cast<size_t>(seg.row + i) * d;
      std::copy(src, src + d, lc.window.begin() + static_cast<long>((seg.pos0 + i) % v.window) * d);
    }
  }
  if (in.sink) in.sink->Put(fmt::format("blk.{}.attn_heads", l), heads.data(), {n, nh * d});
  // Grouped low-rank output: group g's heads through rows [g·o_lora, (g+1)·o_lora) of W_o_a.
  const int groups = v.output_groups, rank = v.output_lora_rank, group_dim = nh * d / groups;
  Buffer low(static_cast<size_t>(n) * groups * rank, false);
  for (int g = 0; g < groups; ++g) {
    kernels::MatMul(kernels::RowsOf(w.output_a, int64_t{g} * rank, rank), heads.data() + static_cast<size_t>(g) * group_dim,
                    low.data() + static_cast<size_t>(g) * rank,
                    {.n_tokens = n, .x_stride = int64_t{nh} * d, .y_stride = int64_t{groups} * rank, .exact = in.exact}, &pool);
  }
  Product(w.output_b, low.data(), n, in.exact, pool, out);
}

}  // namespace frugal::model
