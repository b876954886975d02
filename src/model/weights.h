// The model's tensors, resolved by name from a loaded GGUF into views of the mapped file
// (weights stay in their stored types). Small vectors (norms, router bias) are copied to f32.
// Read-only after loading: thread-safe.
#pragma once

#include <vector>

#include "io/gguf_file.h"
#include "kernels/matmul.h"
#include "model/config.h"

namespace frugal::model {

struct LayerWeights {
  std::vector<float> attn_norm, q_a_norm, kv_a_norm, ffn_norm;  // f32 copies
  ConstTensorView q_a, q_b, q;  // q_a/q_b with query compression, q without
  ConstTensorView kv_a_mqa;     // [H] -> [kv_lora + rope]
  ConstTensorView k_b, v_b;     // split layout
  ConstTensorView kv_b;         // legacy layout
  ConstTensorView attn_output;
  ConstTensorView ffn_gate, ffn_up, ffn_down;              // dense layers
  ConstTensorView gate_inp;                                // router [H] -> [E]
  std::vector<float> exp_bias;                             // selection bias (V3), may be empty
  ConstTensorView gate_exps, up_exps, down_exps;           // [E] experts
  ConstTensorView gate_shexp, up_shexp, down_shexp;        // shared experts (may be absent)
  // V3.2's lightning indexer (absent otherwise).
  std::vector<float> idx_k_norm, idx_k_norm_bias;          // LayerNorm of the key
  ConstTensorView idx_proj;                                // [H] -> [index heads]: head weights
  ConstTensorView idx_k;                                   // [H] -> [head_dim]: the key
  ConstTensorView idx_q_b;                                 // [q_lora] -> [index heads · head_dim]
};

struct Weights {
  ConstTensorView token_embd;
  std::vector<float> output_norm;
  ConstTensorView output;
  std::vector<LayerWeights> layers;
};

// Resolves every tensor LoadModelConfig checked. Unimplemented when a tensor's type cannot be
// computed with (e.g. IQ formats); FailedPrecondition when the file is not memory-mapped.
StatusOr<Weights> LoadWeights(const io::GgufFile& file, const ModelConfig& config);

}  // namespace frugal::model
