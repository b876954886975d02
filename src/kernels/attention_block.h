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

// bf16 variant. Keys and values rounded to bf16 in pairs (each uint32: the even element in the
// low half): keys row j at j·AttentionKeyPairs(dk) pairs (k[2c], k[2c+1]), the odd dimension's
// partner zero; values pair-of-keys jp at jp·dv pairs (v[2jp][d], v[2jp+1][d]), the partner of
// an odd last key zero. The packers write both into `packed` (AttentionBf16PackedPairs words).
int AttentionKeyPairs(int dk);
int64_t AttentionBf16PackedPairs(int n_keys, int dk, int dv);
struct AttentionBf16Packed {
  const uint32_t* k = nullptr;
  const uint32_t* v = nullptr;
};
AttentionBf16Packed AttentionBf16Layout(const uint32_t* packed, int n_keys, int dk);
// Scalar (reference) and AVX512-BF16 packers; the same result.
void PackAttentionBf16Ref(const float* k, int64_t k_stride, int dk, const float* v, int64_t v_stride, int dv, int n_keys,
                          uint32_t* packed);
void PackAttentionBf16Avx512(const float* k, int64_t k_stride, int dk, const float* v, int64_t v_stride, int dv,
                             int n_keys, uint32_t* packed);

// bf16 of f, round to nearest even (finite f): the rounding every bf16 operand gets.
uint16_t RoundToBf16(float f);
float Bf16ToFloat(uint16_t b);

// Reference of the bf16 variant: q, k, v and the softmax weights e^(s − max) rounded with
// RoundToBf16, everything else in double (the weights' sum unrounded, as the kernel keeps it).
void AttentionBlockBf16Ref(const AttentionBlockArgs& a);
// AVX512-BF16 kernel over the packers' keys and values of a.first_visible + n_queries − 1
// keys (a.k and a.v unused); call only where Avx512Bf16Usable(). scratch as the f32 kernel's.
void AttentionBlockBf16Avx512(const AttentionBlockArgs& a, AttentionBf16Packed kv, float* scratch);

// The bf16 variant is preferred on this CPU: it has AVX512-BF16, no usable AMX, and vdpbf16ps
// runs at least 1.5× the f32 FMA's multiply-adds per second, measured once per process (well
// under 1 ms; 1.85–1.87× on an AMD Zen 5 VM, docs/BENCHMARKS.md "Prefill attention in bf16"; an
// exploratory timing on an Intel Xeon without AMX put it below the f32 rate).
// FRUGAL_ATTENTION=f32 or bf16 overrides the measurement (bf16 only where the CPU has it).
bool AttentionBlockBf16Preferred();
// vdpbf16ps multiply-adds per second over f32 FMA's, timed on this core (AVX512-BF16 only);
// AttentionBf16DotSpeedup: the same measured once per process (0 without AVX512-BF16).
double MeasureBf16DotSpeedup();
double AttentionBf16DotSpeedup();

}  // namespace frugal::kernels
