// The model's tensors, resolved by name from a loaded GGUF into views of the mapped file
// (weights stay in their stored types). Small vectors (norms, router bias) are copied to f32.
// Read-only after loading: thread-safe.
#pragma once

#include <vector>

#include "io/gguf_file.h"
#include "kernels/matmul.h"
#include "model/config.h"

namespace frugal::model {

// V4 hyper-connection mixing of one sub-layer (or the head): mix = fn · rms(flat streams).
struct HcWeights {
  ConstTensorView fn;              // [n·H] -> [(2+n)·n] (head: [n·H] -> [n])
  std::vector<float> base, scale;  // [(2+n)·n] and [3] (head: [n] and [1])
};

// V4 compressor: per token kv = W_kv·x and score = W_gate·x + ape[pos % ratio], pooled per
// block by a softmax over the block's tokens (§6.3).
struct CompressorWeights {
  ConstTensorView kv, gate;             // [H] -> [coff · width]
  std::vector<float> ape;               // [ratio, coff · width]
  std::vector<float> norm;              // [width]
};

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
  // DeepSeek-V4 (absent otherwise): q_a/q_a_norm/q_b, kv_a_norm (the K=V norm), the FFN
  // tensors and idx_proj/idx_q_b above, and these.
  ConstTensorView kv;                  // [H] -> [head_dim], the shared K=V row
  ConstTensorView output_a, output_b;  // [group dim] -> [groups · o_lora] (group g: its rows), [groups · o_lora] -> [H]
  std::vector<float> sinks;            // [heads]: each head's attention-sink logit
  HcWeights hc_attn, hc_ffn;
  CompressorWeights compressor;        // ratio > 0 layers
  CompressorWeights idx_compressor;    // ratio 4 layers: the indexer's keys
  std::vector<int32_t> tid2eid;        // hash-routed layers: [vocab, top_k] experts per token id
};

struct Weights {
  ConstTensorView token_embd;
  std::vector<float> output_norm;
  ConstTensorView output;
  std::vector<LayerWeights> layers;
  HcWeights hc_head;  // V4
};

// Resolves every tensor LoadModelConfig checked. Unimplemented when a tensor's type cannot be
// computed with (e.g. IQ formats); FailedPrecondition when the file is not memory-mapped.
StatusOr<Weights> LoadWeights(const io::GgufFile& file, const ModelConfig& config);

}  // namespace frugal::model
