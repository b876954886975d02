// One attention head over a block of consecutive queries, with keys and values stored row-major
// (as prefill builds them from the latent cache): for query i < n_queries,
//   o[i·o_stride + d] = Σ_{j < visible_i} p_ij · v[j·v_stride + d],
//   p_i = softmax over j < visible_i of scale · (q_i · k_j),   visible_i = first_visible + i
// (causal: query i sits at key position first_visible − 1 + i, so the block reads keys
// [0, first_visible + n_queries − 1)). f32 arithmetic: the exact path's accuracy class.
//
// The AVX-512 kernel works transposed so that nothing the size of the context is repacked: the
// queries (≤ 64) are packed into panels of 16 (one vector per column), the scores of 16 queries
// for a key form one vector (keys broadcast from their rows as stored), the softmax runs across
// 16 queries per vector with the causal mask as lane masks, and the weighted sums take the
// values' rows as stored the same way. Model-agnostic, pure; scratch supplied by the caller.
#pragma once

#include <cstdint>

namespace frugal::kernels {

struct AttentionBlockArgs {
  const float* q = nullptr;  // [n_queries, q_stride], first dk values used
  int64_t q_stride = 0;
  int n_queries = 0;         // 1..kAttentionBlockMaxQueries
  const float* k = nullptr;  // [keys, k_stride], first dk values used
  int64_t k_stride = 0;
  int dk = 0;
  const float* v = nullptr;  // [keys, v_stride], first dv values used
  int64_t v_stride = 0;
  int dv = 0;
  int first_visible = 1;     // keys visible to query 0 (≥ 1)
  float scale = 1.0f;
  float* o = nullptr;        // [n_queries, o_stride], first dv values written
  int64_t o_stride = 0;
};

constexpr int kAttentionBlockMaxQueries = 64;

// Floats of scratch AttentionBlockAvx512 needs (64-byte aligned) for these shapes.
int64_t AttentionBlockScratchFloats(int n_keys, int dk, int dv);

// True where prefill attention runs on this kernel: AVX-512 without usable AMX (with AMX, the
// products run on AMX tiles instead; without AVX-512, on the exact path's kernels).
bool AttentionBlockFastUsable();

// Reference: per query, scores and sums in double, e^x from std::exp.
void AttentionBlockRef(const AttentionBlockArgs& a);
// AVX-512 (F) kernel; call only where the CPU has it (F32PanelsUsable). scratch: at least
// AttentionBlockScratchFloats(first_visible + n_queries − 1, dk, dv) floats, 64-byte aligned.
void AttentionBlockAvx512(const AttentionBlockArgs& a, float* scratch);

}  // namespace frugal::kernels
