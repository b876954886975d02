#include "model/attention.h"

#include <fmt/format.h>

#include <cmath>
#include <algorithm>
#include <limits>
#include <memory>
#include <optional>

#include "kernels/block_products.h"
#include "kernels/dequantize.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"

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

// cos/sin of every rope angle of the new tokens: [T, rope/2] each, computed once per layer call
// for all heads and the shared key.
struct RopeTable {
  std::vector<float> cos, sin;
  int half;
  RopeTable(const AttentionInput& in, int rope) : cos(static_cast<size_t>(in.n_tokens) * (rope / 2)), sin(cos.size()), half(rope / 2) {
    for (int t = 0; t < in.n_tokens; ++t) {
      kernels::RopeAngles(in.rope_freqs.data(), rope, static_cast<float>(in.pos0 + t), cos.data() + static_cast<size_t>(t) * half,
                          sin.data() + static_cast<size_t>(t) * half);
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
// the cache.
void StoreLatents(const AttentionInput& in, std::vector<float>& kva, const RopeTable& rope, LatentCache& cache) {
  const MlaConfig& m = in.config.mla;
  const int T = in.n_tokens, width = m.latent_width();
  for (int t = 0; t < T; ++t) {
    float* row = kva.data() + static_cast<size_t>(t) * width;
    kernels::RmsNorm(row, in.weights.kv_a_norm.data(), m.kv_lora_rank, static_cast<float>(in.config.rms_eps), row);
    rope.Rotate(row + m.kv_lora_rank, t);
    cache.Write(in.layer, in.pos0 + t, row);
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

// One head, naive path: K (= [W_UK·c | k_rope]) and V for every cached position, then standard
// attention as matrix products (scores = Q·Kᵀ, out = P·V, causal rows masked after the product),
// so prefill runs on the fast product kernels; queries go in blocks to bound the score matrix.
void HeadNaive(const AttentionInput& in, const HeadProjections& p, const float* q, const float* ctx,
               const kernels::PreparedInput& latents, int n_ctx, int h, float* o) {
  const MlaConfig& m = in.config.mla;
  const int T = in.n_tokens, qk = m.qk_head_dim(), width = m.latent_width(), qs = m.n_heads * qk;
  const int nope = m.qk_nope_head_dim, kv = m.kv_lora_rank, vd = m.v_head_dim;
  // Scratch written in full before it is read: not zero-filled (a per-head memset cost ~3% of prefill).
  auto k = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(n_ctx) * qk);  // [n_ctx, nope + rope]
  if (p.k_rows_are_latent) {
    // Stored as [kv_lora, nope]: its transpose in f32 makes K a plain product.
    std::vector<float> row(static_cast<size_t>(nope)), wt(static_cast<size_t>(nope) * kv);
    for (int r = 0; r < kv; ++r) {
      kernels::DequantizeRow(p.k.type, p.k.row(r), row.data(), nope);
      for (int c = 0; c < nope; ++c) wt[static_cast<size_t>(c) * kv + r] = row[static_cast<size_t>(c)];
    }
    MatMul(F32Rows(wt.data(), nope, kv), latents, k.get(), qk, nullptr);
  } else {
    MatMul(p.k, latents, k.get(), qk, nullptr);
  }
  for (int j = 0; j < n_ctx; ++j) {  // the shared rope key completes each row
    std::copy_n(ctx + static_cast<size_t>(j) * width + kv, m.qk_rope_head_dim, k.get() + static_cast<size_t>(j) * qk + nope);
  }
  auto v = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(n_ctx) * vd);   // [n_ctx, v]
  auto vt = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(n_ctx) * vd);  // [v, n_ctx]
  MatMul(p.v, latents, v.get(), vd, nullptr);
  for (int j = 0; j < n_ctx; ++j) {
    for (int d = 0; d < vd; ++d) vt[static_cast<size_t>(d) * n_ctx + j] = v[static_cast<size_t>(j) * vd + d];
  }
  // Query blocks: a block sees keys up to its last token's position, so the products stop there.
  // K and Vᵀ are prepared for the products once (split into AMX tiles on the fast path), and each
  // block uses the first rows of K and the first columns of Vᵀ.
  constexpr int kQueryBlock = 64;
  const kernels::PreparedWeights keys(F32Rows(k.get(), n_ctx, qk), in.exact);
  const kernels::PreparedWeights values_t(F32Rows(vt.get(), vd, n_ctx), in.exact);
  auto scores = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(std::min(T, kQueryBlock)) * n_ctx);
  for (int t0 = 0; t0 < T; t0 += kQueryBlock) {
    const int nt = std::min(kQueryBlock, T - t0), n_keys = in.pos0 + t0 + nt;
    MatMul(keys, n_keys, qk, q + (static_cast<size_t>(t0) * qs + static_cast<size_t>(h) * qk), scores.get(),
           {.n_tokens = nt, .x_stride = qs, .y_stride = n_keys, .exact = in.exact}, nullptr);
    for (int i = 0; i < nt; ++i) {
      float* row = scores.get() + static_cast<size_t>(i) * n_keys;
      const int n_visible = in.pos0 + t0 + i + 1;
      for (int j = 0; j < n_visible; ++j) row[j] *= in.scale;
      SoftmaxRow(row, n_visible);
      std::fill(row + n_visible, row + n_keys, 0.0f);  // positions after this token's
    }
    MatMul(values_t, vd, n_keys, scores.get(), o + (static_cast<size_t>(t0) * m.n_heads * vd + static_cast<size_t>(h) * vd),
           {.n_tokens = nt, .x_stride = n_keys, .y_stride = m.n_heads * vd, .exact = in.exact}, nullptr);
  }
}

// Absorbed path, all heads together: MQA over the cached rows in latent space. Each head's query
// row is [W_UKᵀ·q_nope | q_rope], as wide as a cached row (kv_lora + rope); every head shares the
// same cached rows, so the scores of all (token, head) rows are one product with the cache as the
// weight matrix — read once per layer in its own type (f16 by default), not once per head — and so
// is the softmax-weighted sum of latents. W_UV then maps each head's latent result to its values.
void AbsorbedAttention(const AttentionInput& in, const float* q, const LatentCache& cache, ThreadPool& pool, float* o) {
  const MlaConfig& m = in.config.mla;
  const int T = in.n_tokens, H = m.n_heads, qk = m.qk_head_dim(), width = m.latent_width(), kv = m.kv_lora_rank;
  const int vd = m.v_head_dim;
  // Tokens in blocks, so that the score matrix [block·H, keys] stays within ~16 MiB.
  constexpr int64_t kScoreBudget = int64_t{1} << 22;
  const int block = static_cast<int>(std::clamp<int64_t>(kScoreBudget / (int64_t{H} * (in.pos0 + T)), 1, T));
  for (int t0 = 0; t0 < T; t0 += block) {
    const int nt = std::min(block, T - t0), rows = nt * H, n_keys = in.pos0 + t0 + nt;
    const float* qb = q + static_cast<size_t>(t0) * H * qk;
    std::vector<float> q_abs(static_cast<size_t>(rows) * width);  // [nt, H, kv_lora + rope]
    // In decode every head's product is small: its inputs (q_nope here, the latent sums below)
    // are prepared once for all heads, each head reading its rows through a view.
    const bool few_tokens = nt < 4;
    std::optional<PreparedInput> all_q_nope;
    if (few_tokens && ProjectionsOf(m, in.weights, 0).k_rows_are_latent) {
      all_q_nope.emplace(qb, m.qk_nope_head_dim, MatMulParams{.n_tokens = rows, .x_stride = qk, .exact = in.exact, .row_views = true});
    }
    pool.ParallelForDynamic(H, 1, [&](int64_t begin, int64_t end, int) {
      for (int64_t h = begin; h < end; ++h) {
        const HeadProjections p = ProjectionsOf(m, in.weights, static_cast<int>(h));
        const MatMulParams over_q{.n_tokens = nt, .x_stride = H * qk, .y_stride = H * width, .exact = in.exact};
        float* dst = q_abs.data() + static_cast<size_t>(h) * width;
        if (p.k_rows_are_latent && all_q_nope) {
          MatMul(p.k, PreparedInput(*all_q_nope, h, H, nt), dst, H * width, nullptr);
        } else if (p.k_rows_are_latent) {
          MatMul(p.k, qb + static_cast<size_t>(h) * qk, dst, over_q, nullptr);
        } else {
          MatMulTransposed(p.k, qb + static_cast<size_t>(h) * qk, dst, over_q);
        }
        for (int t = 0; t < nt; ++t) {
          std::copy_n(qb + (static_cast<size_t>(t) * H + h) * qk + m.qk_nope_head_dim, m.qk_rope_head_dim,
                      dst + static_cast<size_t>(t) * H * width + kv);
        }
      }
    });
    // scores[t·H + h, j] over the cached positions this block sees, then causal softmax per row.
    // A few (token, head) rows meet every cached row: the block kernels read each cached value in
    // its stored type once per block of cached rows, threads splitting the cached rows. CPUs
    // without them use the matrix products.
    const kernels::WeightRows cached = cache.Rows(in.layer, n_keys);
    const kernels::StoredRows stored{cached.data, cached.type, cached.row_stride()};
    const kernels::BlockProductFns block_kernels = kernels::BlockProductsFor(kernels::DetectedIsa());
    std::vector<float> scores(static_cast<size_t>(rows) * n_keys);
    // With more than 16 rows (128-head models, or several tokens) AMX tiles beat the f32
    // multiply-adds even though each cached row is converted for them first.
    const bool block_dots = block_kernels.dots && !(rows > 16 && kernels::AmxUsable());
    if (block_dots) {
      pool.ParallelForDynamic(n_keys, 256, [&](int64_t begin, int64_t end, int) {
        block_kernels.dots(stored, width, begin, end, q_abs.data(), width, rows, scores.data(), n_keys);
      });
    } else {
      MatMul(cached, q_abs.data(), scores.data(), {.n_tokens = rows, .exact = in.exact}, &pool);
    }
    const auto softmax_rows = [&](int64_t begin, int64_t end, int) {
      for (int64_t r = begin; r < end; ++r) {
        const int n_visible = in.pos0 + t0 + static_cast<int>(r / H) + 1;
        float* row = scores.data() + static_cast<size_t>(r) * n_keys;
        for (int j = 0; j < n_visible; ++j) row[j] *= in.scale;
        SoftmaxRow(row, n_visible);
        std::fill(row + n_visible, row + n_keys, 0.0f);
      }
    };
    pool.ParallelForDynamic(rows, 1, softmax_rows);
    // o_lat[t·H + h] = Σ_j p[j]·c_j over the latent part of each cached row.
    std::vector<float> o_lat(static_cast<size_t>(rows) * kv);
    if (block_kernels.weighted_sums) {
      // Each output is summed in an order that does not depend on scheduling (run-to-run
      // identical results). With enough cached rows per thread, the threads split the cached rows
      // statically (each streams a contiguous part of the cache) into sums of their own, added up
      // in thread order: zeroing and adding those costs (threads − 1)·rows·kv, so only where a
      // thread's share is ≥ 16·threads rows. Otherwise units of 16 rows × 64 latent columns,
      // each over every cached row (about 15% slower at depth 4096 on 2 threads).
      const int threads = pool.size();
      if (threads > 1 && n_keys >= 16 * threads * threads) {
        const size_t sums_size = static_cast<size_t>(rows) * kv;
        std::vector<float> partial(sums_size * static_cast<size_t>(threads - 1), 0.0f);
        pool.ParallelFor(n_keys, [&](int64_t begin, int64_t end, int thread) {
          float* sums = thread == 0 ? o_lat.data() : partial.data() + sums_size * static_cast<size_t>(thread - 1);
          block_kernels.weighted_sums(stored, begin, end, 0, kv, scores.data(), n_keys, rows, sums, kv);
        });
        pool.ParallelFor(static_cast<int64_t>(sums_size), [&](int64_t begin, int64_t end, int) {
          for (int i = 0; i + 1 < threads; ++i) {
            const float* part = partial.data() + sums_size * static_cast<size_t>(i);
            for (int64_t e = begin; e < end; ++e) o_lat[static_cast<size_t>(e)] += part[e];
          }
        });
      } else {
        const int64_t groups = (rows + 15) / 16, col_units = (kv + 63) / 64;
        pool.ParallelForDynamic(groups * col_units, 1, [&](int64_t begin, int64_t end, int) {
          for (int64_t u = begin; u < end; ++u) {
            const int64_t r0 = u / col_units * 16, nr = std::min<int64_t>(16, rows - r0);
            const int64_t c0 = u % col_units * 64, c1 = std::min<int64_t>(kv, c0 + 64);
            block_kernels.weighted_sums(stored, 0, n_keys, c0, c1, scores.data() + r0 * n_keys, n_keys, nr,
                                        o_lat.data() + r0 * kv, kv);
          }
        });
      }
    } else {
      // Threads over (token, head) rows. (Splitting the latent columns instead, so that each
      // cached value is converted once, measured slower on this path: tg32 at depth 4096 10–12.6
      // vs 13–15.7 t/s.)
      kernels::WeightRows latents = cached;
      latents.cols = kv;  // the first kv_lora values of each row (the stride still spans the rope part)
      pool.ParallelForDynamic(rows, std::max(1, rows / (2 * pool.size())), [&](int64_t begin, int64_t end, int) {
        MatMulTransposed(latents, scores.data() + static_cast<size_t>(begin) * n_keys,
                         o_lat.data() + static_cast<size_t>(begin) * kv,
                         {.n_tokens = end - begin, .x_stride = n_keys, .y_stride = kv, .exact = in.exact});
      });
    }
    float* ob = o + static_cast<size_t>(t0) * H * vd;
    std::optional<PreparedInput> all_o_lat;
    if (few_tokens) all_o_lat.emplace(o_lat.data(), kv, MatMulParams{.n_tokens = rows, .exact = in.exact, .row_views = true});
    pool.ParallelForDynamic(H, 1, [&](int64_t begin, int64_t end, int) {
      for (int64_t h = begin; h < end; ++h) {
        const HeadProjections p = ProjectionsOf(m, in.weights, static_cast<int>(h));
        float* dst = ob + static_cast<size_t>(h) * vd;
        if (few_tokens) {
          MatMul(p.v, PreparedInput(*all_o_lat, h, H, nt), dst, H * vd, nullptr);  // W_UV
        } else {
          MatMul(p.v, o_lat.data() + static_cast<size_t>(h) * kv, dst,
                 {.n_tokens = nt, .x_stride = H * kv, .y_stride = H * vd, .exact = in.exact}, nullptr);  // W_UV
        }
      }
    });
  }
}

}  // namespace

void MlaAttention(const AttentionInput& in, const float* xn, LatentCache& cache, ThreadPool& pool, float* out) {
  const MlaConfig& m = in.config.mla;
  const int T = in.n_tokens, n_ctx = in.pos0 + T;
  std::vector<float> first, kva, q;  // q: [T, n_heads, nope + rope]
  InputProducts(in, xn, pool, &first, &kva);
  const RopeTable rope(in, m.qk_rope_head_dim);
  ComputeQueries(in, first, rope, pool, &q);
  StoreLatents(in, kva, rope, cache);
  if (in.sink) in.sink->Put(fmt::format("blk.{}.q", in.layer), q.data(), {T, m.n_heads, m.qk_head_dim()});
  std::vector<float> o(static_cast<size_t>(T) * m.n_heads * m.v_head_dim);  // [T, n_heads·v]
  if (in.path == AttentionPath::kNaive) {
    // Every visible position as stored (rounded to the cache type): [n_ctx, width]. The naive path
    // multiplies the same latent rows by every head's projections: prepared once.
    std::vector<float> ctx(static_cast<size_t>(n_ctx) * m.latent_width());
    cache.Read(in.layer, 0, n_ctx, ctx.data());
    const kernels::PreparedInput latents(ctx.data(), m.kv_lora_rank,
                                         MatMulParams{.n_tokens = n_ctx, .x_stride = m.latent_width(), .exact = in.exact});
    pool.ParallelForDynamic(m.n_heads, 1, [&](int64_t begin, int64_t end, int) {
      for (int64_t h = begin; h < end; ++h) {
        const HeadProjections p = ProjectionsOf(m, in.weights, static_cast<int>(h));
        HeadNaive(in, p, q.data(), ctx.data(), latents, n_ctx, static_cast<int>(h), o.data());
      }
    });
  } else {
    AbsorbedAttention(in, q.data(), cache, pool, o.data());
  }
  MatMul(kernels::AllRows(in.weights.attn_output), o.data(), out, {.n_tokens = T, .exact = in.exact}, &pool);
}

}  // namespace frugal::model
