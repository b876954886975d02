#include "model/attention.h"

#include <fmt/format.h>

#include <cmath>
#include <algorithm>
#include <limits>
#include <memory>
#include <optional>

#include "kernels/attention_block.h"
#include "kernels/block_products.h"
#include "kernels/dequantize.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/sparse_indexer.h"
#include "util/aligned_buffer.h"

namespace frugal::model {
namespace {

using kernels::MatMul;
using kernels::MatMulParams;
using kernels::PreparedInput;
using kernels::MatMulTransposed;
using kernels::RowsOf;
using kernels::WeightRows;

// Per-head views of the up-projections, for either storage layout.
struct HeadProjections {
  WeightRows k;  // split: rows = kv_lora latent dims, cols = nope; legacy: rows = nope, cols = kv_lora
  WeightRows v;  // rows = v dims, cols = kv_lora (both layouts)
  bool k_rows_are_latent;
};

HeadProjections ProjectionsOf(const MlaConfig& m, const LayerWeights& w, int h) {
  if (m.kv_b_layout == KvBLayout::kSplit) {
    return {RowsOf(w.k_b, int64_t{h} * m.kv_lora_rank, m.kv_lora_rank), RowsOf(w.v_b, int64_t{h} * m.v_head_dim, m.v_head_dim), true};
  }
  const int64_t base = int64_t{h} * (m.qk_nope_head_dim + m.v_head_dim);
  return {RowsOf(w.kv_b, base, m.qk_nope_head_dim), RowsOf(w.kv_b, base + m.qk_nope_head_dim, m.v_head_dim), false};
}

// cos/sin of every rope angle of the step's tokens (each at its own position): [T, rope/2]
// each, computed once per layer call for all heads and the shared key.
struct RopeTable {
  std::vector<float> cos, sin;
  int half;
  RopeTable(const AttentionInput& in, int rope) : cos(static_cast<size_t>(in.n_tokens) * (rope / 2)), sin(cos.size()), half(rope / 2) {
    for (const AttentionSegment& seg : in.segments) {
      for (int i = 0; i < seg.n; ++i) {
        const size_t t = static_cast<size_t>(seg.row + i);
        kernels::RopeAngles(in.rope_freqs.data(), rope, static_cast<float>(seg.pos0 + i), cos.data() + t * half,
                            sin.data() + t * half);
      }
    }
  }
  void Rotate(float* x, int t) const {
    kernels::RopeRotate(x, 2 * half, cos.data() + static_cast<size_t>(t) * half, sin.data() + static_cast<size_t>(t) * half);
  }
};

// The two products of the layer input: the queries (q, or q_a with query compression) and the
// latent with the shared rope key (kv_a_mqa), as one grouped product over one prepared input.
// first: [T, q_lora] or [T, n_heads·(nope+rope)]; kva: [T, kv_lora + rope].
void InputProducts(const AttentionInput& in, const float* xn, ThreadPool& pool, std::vector<float>* first,
                   std::vector<float>* kva) {
  const MlaConfig& m = in.config.mla;
  const int T = in.n_tokens;
  const kernels::WeightRows q_rows = kernels::AllRows(m.q_lora_rank > 0 ? in.weights.q_a : in.weights.q);
  first->resize(static_cast<size_t>(T * q_rows.n_rows));
  kva->resize(static_cast<size_t>(T) * m.latent_width());
  const PreparedInput x(xn, in.config.hidden, {.n_tokens = T, .exact = in.exact});
  kernels::MatMulGrouped({{q_rows, &x, first->data()}, {kernels::AllRows(in.weights.kv_a_mqa), &x, kva->data()}}, &pool);
}

// q: [T, n_heads·(nope+rope)] — queries with query compression or without (first: the first
// product, InputProducts).
void ComputeQueries(const AttentionInput& in, std::vector<float>& first, const RopeTable& rope, ThreadPool& pool,
                    std::vector<float>* q) {
  const MlaConfig& m = in.config.mla;
  const int T = in.n_tokens;
  if (m.q_lora_rank > 0) {
    std::vector<float>& qa = first;  // [T, q_lora]
    for (int t = 0; t < T; ++t) {
      float* row = qa.data() + static_cast<size_t>(t) * m.q_lora_rank;
      kernels::RmsNorm(row, in.weights.q_a_norm.data(), m.q_lora_rank, static_cast<float>(in.config.rms_eps), row);
    }
    q->resize(static_cast<size_t>(T) * m.n_heads * m.qk_head_dim());
    MatMul(kernels::AllRows(in.weights.q_b), qa.data(), q->data(), {.n_tokens = T, .exact = in.exact}, &pool);
  } else {
    q->swap(first);
  }
  for (int t = 0; t < T; ++t) {
    for (int h = 0; h < m.n_heads; ++h) {
      float* q_rope = q->data() + (static_cast<size_t>(t) * m.n_heads + h) * m.qk_head_dim() + m.qk_nope_head_dim;
      rope.Rotate(q_rope, t);
    }
  }
}

// Latent (normalized) and roped shared key of each new token (kva, InputProducts), stored in
// its sequence's cache.
void StoreLatents(const AttentionInput& in, std::vector<float>& kva, const RopeTable& rope) {
  const MlaConfig& m = in.config.mla;
  const int T = in.n_tokens, width = m.latent_width();
  for (const AttentionSegment& seg : in.segments) {
    for (int i = 0; i < seg.n; ++i) {
      const int t = seg.row + i;
      float* row = kva.data() + static_cast<size_t>(t) * width;
      kernels::RmsNorm(row, in.weights.kv_a_norm.data(), m.kv_lora_rank, static_cast<float>(in.config.rms_eps), row);
      rope.Rotate(row + m.kv_lora_rank, t);
      seg.cache.Write(in.layer, seg.pos0 + i, row);
    }
  }
  if (in.sink) {
    std::vector<float> lat(static_cast<size_t>(T) * m.kv_lora_rank), k_rope(static_cast<size_t>(T) * m.qk_rope_head_dim);
    for (int t = 0; t < T; ++t) {
      const float* row = kva.data() + static_cast<size_t>(t) * width;
      std::copy(row, row + m.kv_lora_rank, lat.begin() + static_cast<long>(t) * m.kv_lora_rank);
      std::copy(row + m.kv_lora_rank, row + width, k_rope.begin() + static_cast<long>(t) * m.qk_rope_head_dim);
    }
    in.sink->Put(fmt::format("blk.{}.kv_latent", in.layer), lat.data(), {T, m.kv_lora_rank});
    in.sink->Put(fmt::format("blk.{}.k_rope", in.layer), k_rope.data(), {T, m.qk_rope_head_dim});
  }
}

// A row-major f32 matrix as product weights.
WeightRows F32Rows(const float* data, int64_t rows, int64_t cols) {
  return {reinterpret_cast<const std::byte*>(data), GgmlType::kF32, cols, rows};
}

// Causal softmax-weighted sum for query t: scores[j] for j < n_visible.
void SoftmaxRow(float* scores, int n_visible) { kernels::Softmax(scores, n_visible); }

// Scratch of the naive path for one thread, reused by the heads it computes (grown to the
// largest context seen, never shrunk; not zero-filled: every use writes before it reads).
class NaiveScratch {
 public:
  float* k(size_t n) { return Grow(k_, k_size_, n); }
  float* v(size_t n) { return Grow(v_, v_size_, n); }
  float* vt(size_t n) { return Grow(vt_, vt_size_, n); }
  float* scores(size_t n) { return Grow(scores_, scores_size_, n); }
  float* block(size_t n) {  // attention_block.h's scratch (64-byte aligned)
    if (block_.size() < n) block_ = AlignedBuffer<float>(n, /*zeroed=*/false);
    return block_.data();
  }
  uint32_t* bf16_pairs(size_t n) {  // K and V rounded for attention_block.h's bf16 kernel
    if (bf16_pairs_size_ < n) {
      bf16_pairs_ = std::make_unique_for_overwrite<uint32_t[]>(n);
      bf16_pairs_size_ = n;
    }
    return bf16_pairs_.get();
  }

 private:
  static float* Grow(std::unique_ptr<float[]>& p, size_t& size, size_t n) {
    if (size < n) {
      p = std::make_unique_for_overwrite<float[]>(n);
      size = n;
    }
    return p.get();
  }
  std::unique_ptr<float[]> k_, v_, vt_, scores_;
  size_t k_size_ = 0, v_size_ = 0, vt_size_ = 0, scores_size_ = 0;
  AlignedBuffer<float> block_;
  std::unique_ptr<uint32_t[]> bf16_pairs_;
  size_t bf16_pairs_size_ = 0;
};

// One head, naive path: K (= [W_UK·c | k_rope]) and V for every cached position, then standard
// attention. On AVX-512 without AMX (fast path, no V3.2 selection) a block of queries at a time
// on attention_block.h's kernel, which reads K and V as built; elsewhere as matrix products
// (scores = Q·Kᵀ, out = P·V, causal rows masked after the product) on the prepared-weights
// kernels (AMX tiles, or the exact path's), queries in blocks to bound the score matrix.
// q and o: the segment's first rows.
// selection: V3.2's indexer choice for this segment (sparse_indexer.h); empty: every visible position.
void HeadNaive(const AttentionInput& in, const AttentionSegment& seg, const HeadProjections& p, const float* q,
               const float* ctx, const kernels::PreparedInput& latents, int n_ctx, int h, const TokenSelection& selection,
               NaiveScratch& scratch, float* o) {
  const MlaConfig& m = in.config.mla;
  const int T = seg.n, qk = m.qk_head_dim(), width = m.latent_width(), qs = m.n_heads * qk;
  const int nope = m.qk_nope_head_dim, kv = m.kv_lora_rank, vd = m.v_head_dim;
  float* k = scratch.k(static_cast<size_t>(n_ctx) * qk);  // [n_ctx, nope + rope]
  if (p.k_rows_are_latent) {
    // Stored as [kv_lora, nope]: its transpose makes K a plain product.
    const kernels::OwnedRows wt = kernels::TransposedForProducts(p.k, in.exact);
    MatMul(wt.rows, latents, k, qk, nullptr);
  } else {
    MatMul(p.k, latents, k, qk, nullptr);
  }
  for (int j = 0; j < n_ctx; ++j) {  // the shared rope key completes each row
    std::copy_n(ctx + static_cast<size_t>(j) * width + kv, m.qk_rope_head_dim, k + static_cast<size_t>(j) * qk + nope);
  }
  float* v = scratch.v(static_cast<size_t>(n_ctx) * vd);  // [n_ctx, v]
  MatMul(p.v, latents, v, vd, nullptr);
  constexpr int kQueryBlock = kernels::kAttentionBlockMaxQueries;
  if (!in.exact && selection.keep.empty() && kernels::AttentionBlockFastUsable()) {
    float* block = scratch.block(static_cast<size_t>(kernels::AttentionBlockScratchFloats(n_ctx, qk, vd)));
    // bf16 products where K and V come from 8-bit products anyway (the same accuracy class;
    // attention_block.h) and the CPU runs them fast.
    const bool bf16 = kernels::PathOf(p.v.type, kv, {.n_tokens = n_ctx, .exact = in.exact}) == kernels::ProductPath::kInt8 &&
                      kernels::AttentionBlockBf16Preferred();
    kernels::AttentionBf16Packed packed;
    if (bf16) {
      uint32_t* words = scratch.bf16_pairs(static_cast<size_t>(kernels::AttentionBf16PackedPairs(n_ctx, qk, vd)));
      kernels::PackAttentionBf16Avx512(k, qk, qk, v, vd, vd, n_ctx, words);
      packed = kernels::AttentionBf16Layout(words, n_ctx, qk);
    }
    for (int t0 = 0; t0 < T; t0 += kQueryBlock) {
      const int nt = std::min(kQueryBlock, T - t0);
      const kernels::AttentionBlockArgs args{
          .q = q + (static_cast<size_t>(t0) * qs + static_cast<size_t>(h) * qk), .q_stride = qs, .n_queries = nt, .k = k,
          .k_stride = qk, .dk = qk, .v = v, .v_stride = vd, .dv = vd, .first_visible = seg.pos0 + t0 + 1,
          .scale = in.scale, .o = o + (static_cast<size_t>(t0) * m.n_heads * vd + static_cast<size_t>(h) * vd),
          .o_stride = m.n_heads * vd};
      if (bf16) {
        kernels::AttentionBlockBf16Avx512(args, packed, block);
      } else {
        kernels::AttentionBlockAvx512(args, block);
      }
    }
    return;
  }
  float* vt = scratch.vt(static_cast<size_t>(n_ctx) * vd);  // [v, n_ctx]
  kernels::Transpose(v, n_ctx, vd, vt);
  // Query blocks: a block sees keys up to its last token's position, so the products stop there.
  // K and Vᵀ are prepared for the products once (split into AMX tiles on the fast path), and each
  // block uses the first rows of K and the first columns of Vᵀ.
  const kernels::PreparedWeights keys(F32Rows(k, n_ctx, qk), in.exact);
  const kernels::PreparedWeights values_t(F32Rows(vt, vd, n_ctx), in.exact);
  float* scores = scratch.scores(static_cast<size_t>(std::min(T, kQueryBlock)) * n_ctx);
  for (int t0 = 0; t0 < T; t0 += kQueryBlock) {
    const int nt = std::min(kQueryBlock, T - t0), n_keys = seg.pos0 + t0 + nt;
    MatMul(keys, n_keys, qk, q + (static_cast<size_t>(t0) * qs + static_cast<size_t>(h) * qk), scores,
           {.n_tokens = nt, .x_stride = qs, .y_stride = n_keys, .exact = in.exact}, nullptr);
    for (int i = 0; i < nt; ++i) {
      float* row = scores + static_cast<size_t>(i) * n_keys;
      const int n_visible = seg.pos0 + t0 + i + 1;
      for (int j = 0; j < n_visible; ++j) row[j] *= in.scale;
      if (!selection.keep.empty()) {  // positions the indexer did not choose: weight e^−87·… ≈ 0
        const uint8_t* keep = selection.keep.data() + static_cast<size_t>(t0 + i) * selection.n_ctx;
        for (int j = 0; j < n_visible; ++j) {
          if (!keep[j]) row[j] = -1e30f;
        }
      }
      SoftmaxRow(row, n_visible);
      std::fill(row + n_visible, row + n_keys, 0.0f);  // positions after this token's
    }
    MatMul(values_t, vd, n_keys, scores, o + (static_cast<size_t>(t0) * m.n_heads * vd + static_cast<size_t>(h) * vd),
           {.n_tokens = nt, .x_stride = n_keys, .y_stride = m.n_heads * vd, .exact = in.exact}, nullptr);
  }
}

kernels::BlockProductFns BlockKernels() { return kernels::BlockProductsFor(kernels::DetectedIsa()); }

kernels::StoredRows StoredRun(const LatentBlocks& cache, const std::byte* rows) {
  return {rows, GgmlTypeOf(cache.layout().dtype), cache.layout().row_bytes()};
}

// Part of a segment on the absorbed path: its n tokens are tokens [row, row + n) of the token
// block, i.e. (token, head) rows [row·H, (row + n)·H) of q_abs and o_lat.
struct Piece {
  const AttentionSegment* seg;
  int t0;  // first token within the segment
  int n;   // tokens
  int row;  // first token within the token block
  const TokenSelection* selection;  // V3.2's choice for the segment (empty: every visible position)
};

// Scaled causal softmax of the (token, head) rows r ∈ [begin, end) of a piece's scores [rows, n_keys].
void CausalSoftmax(const AttentionInput& in, const Piece& pc, int H, int n_keys, int64_t begin, int64_t end, float* scores) {
  for (int64_t r = begin; r < end; ++r) {
    const int n_visible = pc.seg->pos0 + pc.t0 + static_cast<int>(r / H) + 1;
    float* row = scores + static_cast<size_t>(r) * n_keys;
    for (int j = 0; j < n_visible; ++j) row[j] *= in.scale;
    if (!pc.selection->keep.empty()) {  // positions the indexer did not choose: weight ≈ 0
      const uint8_t* keep = pc.selection->keep.data() + static_cast<size_t>(pc.t0 + r / H) * pc.selection->n_ctx;
      for (int j = 0; j < n_visible; ++j) {
        if (!keep[j]) row[j] = -1e30f;
      }
    }
    SoftmaxRow(row, n_visible);
    std::fill(row + n_visible, row + n_keys, 0.0f);
  }
}

// A piece's attention in latent space, on the calling thread: scores of its (token, head) rows
// against every visible cached row, causal softmax, and the softmax-weighted sums of the
// latents. q_abs: [n·H, width]; o_lat: [n·H, kv].
void PieceSerial(const AttentionInput& in, const Piece& pc, const float* q_abs, float* o_lat) {
  const MlaConfig& m = in.config.mla;
  const int H = m.n_heads, width = m.latent_width(), kv = m.kv_lora_rank, rows = pc.n * H;
  const int n_keys = pc.seg->pos0 + pc.t0 + pc.n;
  const kernels::BlockProductFns fns = BlockKernels();
  const LatentBlocks& cache = pc.seg->cache;
  std::vector<float> scores(static_cast<size_t>(rows) * n_keys);
  std::vector<kernels::RowRun> runs;  // the cache's blocks, the queries prepared once for all
  cache.ForEachRun(in.layer, n_keys, [&](const std::byte* data, int first, int count) {
    runs.push_back({StoredRun(cache, data), 0, count, first});
  });
  fns.dots_runs(runs.data(), static_cast<int64_t>(runs.size()), width, q_abs, width, rows, scores.data(), n_keys);
  CausalSoftmax(in, pc, H, n_keys, 0, rows, scores.data());
  std::fill(o_lat, o_lat + static_cast<size_t>(rows) * kv, 0.0f);
  cache.ForEachRun(in.layer, n_keys, [&](const std::byte* data, int first, int count) {
    fns.weighted_sums(StoredRun(cache, data), 0, count, 0, kv, scores.data() + first, n_keys, rows, o_lat, kv);
  });
}

// The same for one piece with the threads sharing its work: the cached rows split among them
// for the scores, the (token, head) rows for the softmax, and for the weighted sums either the
// cached rows (each thread summing into its own copy, added in thread order) or units of
// 16 rows × 64 latent columns.
void PieceParallel(const AttentionInput& in, const Piece& pc, const float* q_abs, ThreadPool& pool, float* o_lat) {
  const MlaConfig& m = in.config.mla;
  const int H = m.n_heads, width = m.latent_width(), kv = m.kv_lora_rank, rows = pc.n * H;
  const int n_keys = pc.seg->pos0 + pc.t0 + pc.n;
  const kernels::BlockProductFns fns = BlockKernels();
  const LatentBlocks& cache = pc.seg->cache;
  const int bt = cache.layout().block_tokens;
  // Calls fn(stored run, j0, j1, first) for the parts of the runs within cached rows [begin, end).
  const auto for_runs_in = [&](int64_t begin, int64_t end, const auto& fn) {
    for (int64_t first = begin / bt * bt; first < end; first += bt) {
      const int64_t j0 = std::max(begin, first), j1 = std::min({end, first + bt, static_cast<int64_t>(n_keys)});
      if (j0 < j1) fn(StoredRun(cache, cache.Row(in.layer, static_cast<int>(first))), j0 - first, j1 - first, first);
    }
  };
  std::vector<float> scores(static_cast<size_t>(rows) * n_keys);
  // With more than 16 rows (128-head models, or several tokens) AMX tiles beat the f32
  // multiply-adds even though each cached row is converted for them first.
  if (rows > 16 && kernels::AmxUsable()) {
    const PreparedInput queries(q_abs, width, {.n_tokens = rows, .exact = in.exact});
    cache.ForEachRun(in.layer, n_keys, [&](const std::byte* data, int first, int count) {
      const kernels::WeightRows run{data, GgmlTypeOf(cache.layout().dtype), width, count};
      MatMul(run, queries, scores.data() + first, n_keys, &pool);
    });
  } else {
    // The queries are prepared once per call, so a call takes several blocks: at least four
    // calls a thread (the faster thread takes more), of at least 256 cached rows.
    const int64_t chunk = std::max<int64_t>(256, (n_keys + 4 * pool.size() - 1) / (4 * pool.size()));
    pool.ParallelForDynamic(n_keys, chunk, [&](int64_t begin, int64_t end, int) {
      std::vector<kernels::RowRun> runs;
      for_runs_in(begin, end, [&](const kernels::StoredRows& run, int64_t j0, int64_t j1, int64_t first) {
        runs.push_back({run, j0, j1, first});
      });
      fns.dots_runs(runs.data(), static_cast<int64_t>(runs.size()), width, q_abs, width, rows, scores.data(), n_keys);
    });
  }
  pool.ParallelForDynamic(rows, 1, [&](int64_t begin, int64_t end, int) { CausalSoftmax(in, pc, H, n_keys, begin, end, scores.data()); });
  // Each output is summed in an order that does not depend on scheduling (run-to-run identical
  // results). With enough cached rows per thread, the threads split the cached rows statically
  // (each streams a contiguous part of the cache) into sums of their own, added up in thread
  // order: zeroing and adding those costs (threads − 1)·rows·kv, so only where a thread's share
  // is ≥ 16·threads rows. Otherwise units of 16 rows × 64 latent columns, each over every cached
  // row (about 15% slower at depth 4096 on 2 threads).
  const int threads = pool.size();
  const size_t sums_size = static_cast<size_t>(rows) * kv;
  std::fill(o_lat, o_lat + sums_size, 0.0f);
  if (threads > 1 && n_keys >= 16 * threads * threads) {
    std::vector<float> partial(sums_size * static_cast<size_t>(threads - 1), 0.0f);
    pool.ParallelFor(n_keys, [&](int64_t begin, int64_t end, int thread) {
      float* sums = thread == 0 ? o_lat : partial.data() + sums_size * static_cast<size_t>(thread - 1);
      for_runs_in(begin, end, [&](const kernels::StoredRows& run, int64_t j0, int64_t j1, int64_t first) {
        fns.weighted_sums(run, j0, j1, 0, kv, scores.data() + first, n_keys, rows, sums, kv);
      });
    });
    pool.ParallelFor(static_cast<int64_t>(sums_size), [&](int64_t begin, int64_t end, int) {
      for (int i = 0; i + 1 < threads; ++i) {
        const float* part = partial.data() + sums_size * static_cast<size_t>(i);
        for (int64_t e = begin; e < end; ++e) o_lat[e] += part[e];
      }
    });
  } else {
    const int64_t groups = (rows + 15) / 16, col_units = (kv + 63) / 64;
    pool.ParallelForDynamic(groups * col_units, 1, [&](int64_t begin, int64_t end, int) {
      for (int64_t u = begin; u < end; ++u) {
        const int64_t r0 = u / col_units * 16, nr = std::min<int64_t>(16, rows - r0);
        const int64_t c0 = u % col_units * 64, c1 = std::min<int64_t>(kv, c0 + 64);
        for_runs_in(0, n_keys, [&](const kernels::StoredRows& run, int64_t j0, int64_t j1, int64_t first) {
          fns.weighted_sums(run, j0, j1, c0, c1, scores.data() + r0 * n_keys + first, n_keys, nr, o_lat + r0 * kv, kv);
        });
      }
    });
  }
}

// Absorbed path, all heads together: MQA over the cached rows in latent space. Each head's query
// row is [W_UKᵀ·q_nope | q_rope], as wide as a cached row (kv_lora + rope); every head shares the
// same cached rows, so the scores of all (token, head) rows of a sequence are one product with
// its cache — read once per layer in its own type (f16 by default), not once per head — and so
// is the softmax-weighted sum of latents. W_UK before and W_UV after run once for a block of
// tokens of all the sequences (each head's weights read once per block).
// q: [T, H·qk] (all rows of the step); o: [T, H·vd] (this path's rows written).
void AbsorbedAttention(const AttentionInput& in, const std::vector<const AttentionSegment*>& segments,
                       const std::vector<const TokenSelection*>& selections, const float* q,
                       ThreadPool& pool, float* o) {
  const MlaConfig& m = in.config.mla;
  const int H = m.n_heads, qk = m.qk_head_dim(), width = m.latent_width(), kv = m.kv_lora_rank, vd = m.v_head_dim;
  // Token blocks of at most 64 tokens, and pieces of a sequence short enough that a piece's
  // score matrix [n·H, keys] stays within ~16 MiB.
  constexpr int kBlockTokens = 64;
  constexpr int64_t kScoreBudget = int64_t{1} << 22;
  std::vector<std::vector<Piece>> blocks(1);
  int block_tokens = 0;
  for (size_t s_index = 0; s_index < segments.size(); ++s_index) {
    const AttentionSegment* seg = segments[s_index];
    const int piece_max = static_cast<int>(std::clamp<int64_t>(kScoreBudget / (int64_t{H} * (seg->pos0 + seg->n)), 1, kBlockTokens));
    for (int t0 = 0; t0 < seg->n;) {
      const int n = std::min({piece_max, seg->n - t0, kBlockTokens - block_tokens});
      blocks.back().push_back({seg, t0, n, block_tokens, selections[s_index]});
      block_tokens += n;
      t0 += n;
      if (block_tokens == kBlockTokens) {
        blocks.emplace_back();
        block_tokens = 0;
      }
    }
  }
  if (blocks.back().empty()) blocks.pop_back();
  for (const std::vector<Piece>& pieces : blocks) {
    const int nt = pieces.back().row + pieces.back().n, rows = nt * H;
    // The block's queries, gathered: [nt, H·qk].
    std::vector<float> qb(static_cast<size_t>(nt) * H * qk);
    for (const Piece& pc : pieces) {
      std::copy_n(q + static_cast<size_t>(pc.seg->row + pc.t0) * H * qk, static_cast<size_t>(pc.n) * H * qk,
                  qb.begin() + static_cast<long>(pc.row) * H * qk);
    }
    std::vector<float> q_abs(static_cast<size_t>(rows) * width);  // [nt, H, kv_lora + rope]
    // Every head's inputs (q_nope here, the latent sums below) are prepared once for all heads,
    // each head reading its rows through a view — rounded as row views are at any count (16-bit),
    // so that a query's products do not depend on how many others share the block.
    std::optional<PreparedInput> all_q_nope;
    if (ProjectionsOf(m, in.weights, 0).k_rows_are_latent) {
      all_q_nope.emplace(qb.data(), m.qk_nope_head_dim, MatMulParams{.n_tokens = rows, .x_stride = qk, .exact = in.exact, .row_views = true});
    }
    pool.ParallelForDynamic(H, 1, [&](int64_t begin, int64_t end, int) {
      for (int64_t h = begin; h < end; ++h) {
        const HeadProjections p = ProjectionsOf(m, in.weights, static_cast<int>(h));
        const MatMulParams over_q{.n_tokens = nt, .x_stride = H * qk, .y_stride = H * width, .exact = in.exact};
        float* dst = q_abs.data() + static_cast<size_t>(h) * width;
        if (p.k_rows_are_latent) {  // (the layout of every head: all_q_nope is prepared)
          MatMul(p.k, PreparedInput(*all_q_nope, h, H, nt), dst, H * width, nullptr);
        } else {
          MatMulTransposed(p.k, qb.data() + static_cast<size_t>(h) * qk, dst, over_q);
        }
        for (int t = 0; t < nt; ++t) {
          std::copy_n(qb.data() + (static_cast<size_t>(t) * H + h) * qk + m.qk_nope_head_dim, m.qk_rope_head_dim,
                      dst + static_cast<size_t>(t) * H * width + kv);
        }
      }
    });
    // o_lat[t·H + h] = Σ_j p[j]·c_j over the latent part of each visible cached row.
    std::vector<float> o_lat(static_cast<size_t>(rows) * kv);
    const auto q_of = [&](const Piece& pc) { return q_abs.data() + static_cast<size_t>(pc.row) * H * width; };
    const auto o_of = [&](const Piece& pc) { return o_lat.data() + static_cast<size_t>(pc.row) * H * kv; };
    // Several sequences: each on one thread, the threads taking sequences dynamically — but a
    // piece heavier than a thread's fair share (a prompt chunk deep in its context next to
    // decode tokens) is split over all threads, or it alone would set the step's time.
    const auto cost = [](const Piece& pc) { return static_cast<int64_t>(pc.n) * (pc.seg->pos0 + pc.t0 + pc.n); };
    int64_t total = 0;
    for (const Piece& pc : pieces) total += cost(pc);
    std::vector<const Piece*> light;
    for (const Piece& pc : pieces) {
      if (pieces.size() > 1 && pool.size() > 1 && cost(pc) * pool.size() <= total) light.push_back(&pc);
      else PieceParallel(in, pc, q_of(pc), pool, o_of(pc));
    }
    if (!light.empty()) {
      pool.ParallelForDynamic(static_cast<int64_t>(light.size()), 1, [&](int64_t begin, int64_t end, int) {
        for (int64_t i = begin; i < end; ++i) {
          const Piece& pc = *light[static_cast<size_t>(i)];
          PieceSerial(in, pc, q_of(pc), o_of(pc));
        }
      });
    }
    std::vector<float> ob(static_cast<size_t>(nt) * H * vd);  // [nt, H·vd]
    const PreparedInput all_o_lat(o_lat.data(), kv, MatMulParams{.n_tokens = rows, .exact = in.exact, .row_views = true});
    pool.ParallelForDynamic(H, 1, [&](int64_t begin, int64_t end, int) {
      for (int64_t h = begin; h < end; ++h) {
        const HeadProjections p = ProjectionsOf(m, in.weights, static_cast<int>(h));
        float* dst = ob.data() + static_cast<size_t>(h) * vd;
        MatMul(p.v, PreparedInput(all_o_lat, h, H, nt), dst, H * vd, nullptr);  // W_UV
      }
    });
    for (const Piece& pc : pieces) {
      std::copy_n(ob.begin() + static_cast<long>(pc.row) * H * vd, static_cast<size_t>(pc.n) * H * vd,
                  o + static_cast<size_t>(pc.seg->row + pc.t0) * H * vd);
    }
  }
}

}  // namespace

void MlaAttention(const AttentionInput& in, const float* xn, ThreadPool& pool, float* out) {
  const MlaConfig& m = in.config.mla;
  const int T = in.n_tokens, H = m.n_heads, qk = m.qk_head_dim(), vd = m.v_head_dim;
  std::vector<float> first, kva, q;  // q: [T, n_heads, nope + rope]
  InputProducts(in, xn, pool, &first, &kva);
  const RopeTable rope(in, m.qk_rope_head_dim);
  ComputeQueries(in, first, rope, pool, &q);
  StoreLatents(in, kva, rope);
  if (in.sink) in.sink->Put(fmt::format("blk.{}.q", in.layer), q.data(), {T, m.n_heads, m.qk_head_dim()});
  // V3.2: which positions each query attends to (`first` holds the normed query latent now);
  // both paths mask the scores of the others.
  const std::vector<TokenSelection> selections =
      in.config.has_indexer() ? RunIndexer(in, xn, first.data(), rope.cos.data(), rope.sin.data(), pool)
                              : std::vector<TokenSelection>(in.segments.size());
  std::vector<float> o(static_cast<size_t>(T) * H * vd);  // [T, n_heads·v]
  std::vector<const AttentionSegment*> absorbed;
  std::vector<const TokenSelection*> absorbed_selections;
  std::vector<NaiveScratch> naive_scratch(static_cast<size_t>(pool.size()));  // one per thread, for every segment
  for (size_t s_index = 0; s_index < in.segments.size(); ++s_index) {
    const AttentionSegment& seg = in.segments[s_index];
    if (seg.path != AttentionPath::kNaive) {
      absorbed.push_back(&seg);
      absorbed_selections.push_back(&selections[s_index]);
      continue;
    }
    // Every visible position as stored (rounded to the cache type): [n_ctx, width]. The naive
    // path multiplies the same latent rows by every head's projections: prepared once.
    const int n_ctx = seg.pos0 + seg.n;
    std::vector<float> ctx(static_cast<size_t>(n_ctx) * m.latent_width());
    seg.cache.Read(in.layer, n_ctx, ctx.data());
    const kernels::PreparedInput latents(ctx.data(), m.kv_lora_rank,
                                         MatMulParams{.n_tokens = n_ctx, .x_stride = m.latent_width(), .exact = in.exact});
    const float* q_seg = q.data() + static_cast<size_t>(seg.row) * H * qk;
    float* o_seg = o.data() + static_cast<size_t>(seg.row) * H * vd;
    pool.ParallelForDynamic(H, 1, [&](int64_t begin, int64_t end, int thread) {
      for (int64_t h = begin; h < end; ++h) {
        const HeadProjections p = ProjectionsOf(m, in.weights, static_cast<int>(h));
        HeadNaive(in, seg, p, q_seg, ctx.data(), latents, n_ctx, static_cast<int>(h), selections[s_index],
                  naive_scratch[static_cast<size_t>(thread)], o_seg);
      }
    });
  }
  if (!absorbed.empty()) AbsorbedAttention(in, absorbed, absorbed_selections, q.data(), pool, o.data());
  MatMul(kernels::AllRows(in.weights.attn_output), o.data(), out, {.n_tokens = T, .exact = in.exact}, &pool);
}

}  // namespace frugal::model
