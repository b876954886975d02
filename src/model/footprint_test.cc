// Footprint of the `mini` shape (DeepSeek-V2-Lite scaled down) stored in q8_0, with each
// expected figure derived by hand from the shapes.
#include <gtest/gtest.h>

#include "model/footprint.h"
#include "model/tensor_layout.h"

namespace frugal::model {
namespace {

ModelConfig Mini() {
  ModelConfig c;
  c.n_layers = 8;
  c.hidden = 1024;
  c.vocab_size = 129280;
  c.mla = {.n_heads = 16, .q_lora_rank = 0, .kv_lora_rank = 512, .qk_nope_head_dim = 128,
           .qk_rope_head_dim = 64, .v_head_dim = 128};
  c.moe = {.n_leading_dense = 1, .dense_ff = 5632, .n_experts = 64, .n_experts_used = 6, .n_shared = 2,
           .expert_ff = 512};
  return c;
}

uint64_t Q8Bytes(uint64_t elements) { return elements / 32 * 34; }

TEST(FootprintTest, MiniInQ8_0) {
  const ModelConfig c = Mini();
  std::vector<TensorEntry> entries;
  for (const TensorSpec& s : ExpectedTensors(c)) {
    const bool f32 = s.role == TensorRole::kNorm || s.role == TensorRole::kRouter;
    const uint64_t n = s.shape.elements();
    entries.push_back({s.name, f32 ? GgmlType::kF32 : GgmlType::kQ8_0, n, f32 ? 4 * n : Q8Bytes(n)});
  }
  const Footprint f = ComputeFootprint(c, entries);
  // One expert: gate + up {1024, 512} and down {512, 1024} in q8_0.
  EXPECT_EQ(f.bytes_per_expert, 3 * Q8Bytes(1024 * 512));
  EXPECT_EQ(f.routed_expert_bytes, 7 * 64 * 3 * Q8Bytes(1024 * 512));
  EXPECT_EQ(f.n_expert_lockers, 7u * 64u);
  EXPECT_EQ(f.embedding_row_bytes, Q8Bytes(1024));
  // Per layer attention (q_lora 0): q {1024, 16·192}, kv_a {1024, 576}, k_b {128, 512, 16},
  // v_b {512, 128, 16}, out {2048, 1024}; norms: attn 1024, kv_a 512, ffn 1024 (f32).
  const uint64_t attention = Q8Bytes(1024 * 3072) + Q8Bytes(1024 * 576) + Q8Bytes(128 * 512 * 16) * 2 +
                             Q8Bytes(2048 * 1024);
  const uint64_t norms = 4 * (1024 + 512 + 1024);
  const uint64_t dense = 3 * Q8Bytes(1024 * 5632);
  const uint64_t moe_fixed = 4 * 1024 * 64 + 3 * Q8Bytes(1024 * 1024);  // router + 2 shared experts
  const uint64_t head = Q8Bytes(1024 * 129280) + 4 * 1024;               // output + output_norm
  EXPECT_EQ(f.every_token_bytes, 8 * (attention + norms) + dense + 7 * moe_fixed + head);
  EXPECT_EQ(f.active_bytes_per_token, f.every_token_bytes + Q8Bytes(1024) + 7 * 6 * 3 * Q8Bytes(1024 * 512));
  // KV per token: 8 layers × (512 + 64) × 2 bytes vs 8 × 16 heads × (192 + 128) × 2 bytes.
  EXPECT_EQ(f.kv_latent_bytes_per_token, 9216u);
  EXPECT_EQ(f.kv_mha_bytes_per_token, 81920u);
  EXPECT_EQ(f.by_type.at("q8_0").tensors + f.by_type.at("f32").tensors, entries.size());
}

}  // namespace
}  // namespace frugal::model
