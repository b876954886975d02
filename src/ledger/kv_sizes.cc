#include "ledger/kv_sizes.h"

#include <algorithm>

namespace frugal::ledger {
namespace {

constexpr double kV4Row = 448 + 64 * 2 + 7 + 1;          // V4 FP8 row: 448 e4m3, bf16 rope, 7 ue8m0 scales, pad = 584
constexpr double kV4IndexKey = 128 / 2 + 4;              // FP4 index key + 4 ue8m0 scales = 68

}  // namespace

KvPerToken KvBytesPerToken(const ModelSpec& s) {
  KvPerToken k;
  const double layers = s.n_layers;
  if (s.cache == CacheKind::kV4) {
    const double row16 = 2.0 * s.v4_head_dim, key16 = 2.0 * s.index_head_dim;
    k.native = s.csa_layers * (row16 + key16) / 4 + s.hca_layers * row16 / 128;
    k.deployed = s.csa_layers * (kV4Row + kV4IndexKey) / 4 + s.hca_layers * kV4Row / 128;
    k.mha = layers * s.n_heads * (2.0 * s.v4_head_dim) * 2;  // K and V of head_dim per head
    k.gqa8 = layers * 8 * (2.0 * s.v4_head_dim) * 2;
    k.native_per_sequence = layers * s.window * row16;
    k.deployed_per_sequence = layers * s.window * kV4Row;
    return k;
  }
  const double latent = s.kv_lora + s.qk_rope;
  k.native = layers * latent * 2;
  // FlashMLA's FP8 latent: e4m3 values, an fp32 scale per 128, the rope key in bf16 (656 B for V3).
  k.deployed = layers * (s.kv_lora + s.kv_lora / 128.0 * 4 + s.qk_rope * 2);
  if (s.cache == CacheKind::kMlaDsa) {  // the indexer's key: fp8 and an fp32 scale (132 B)
    k.native += layers * s.index_head_dim * 2;
    k.deployed += layers * (s.index_head_dim + 4);
  }
  const double per_head = s.qk_nope + s.qk_rope + s.v_head;  // K (nope + rope) and V
  k.mha = layers * s.n_heads * per_head * 2;
  k.gqa8 = layers * 8 * per_head * 2;
  return k;
}

KvPerSequence KvBytesPerSequence(const ModelSpec& s, int64_t tokens) {
  const KvPerToken k = KvBytesPerToken(s);
  KvPerSequence q;
  const double t = static_cast<double>(tokens);
  q.mha = k.mha * t;
  if (s.cache == CacheKind::kV4) {
    // Whole compressed rows only, plus the window (at most `tokens` rows of it).
    const double csa_rows = static_cast<double>(tokens / 4), hca_rows = static_cast<double>(tokens / 128);
    const double win = static_cast<double>(std::min<int64_t>(tokens, s.window)) * s.n_layers;
    q.native = s.csa_layers * csa_rows * (2.0 * s.v4_head_dim + 2.0 * s.index_head_dim) +
               s.hca_layers * hca_rows * 2.0 * s.v4_head_dim + win * 2.0 * s.v4_head_dim;
    q.deployed = s.csa_layers * csa_rows * (kV4Row + kV4IndexKey) + s.hca_layers * hca_rows * kV4Row + win * kV4Row;
    return q;
  }
  q.native = k.native * t;
  q.deployed = k.deployed * t;
  return q;
}

}  // namespace frugal::ledger
