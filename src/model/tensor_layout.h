// The tensors a deepseek2/deepseek32/deepseek4 file holds, with llama.cpp's names and ggml shapes (ne0 first),
// derived from a ModelConfig. One list serves the generator (what to write), the loader (what
// must be there) and inspect (what each tensor costs). Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "io/gguf_file.h"
#include "model/config.h"
#include "util/tensor_view.h"

namespace frugal::model {

// What a tensor is for; decides its memory tier and its share of per-token traffic.
enum class TensorRole {
  kEmbedding,     // token_embd: one row read per token
  kNorm,          // every *_norm vector
  kAttention,     // attn_q*, attn_kv*, attn_k_b, attn_v_b, attn_output
  kDenseFfn,      // ffn_gate/up/down of the leading dense layers
  kRouter,        // ffn_gate_inp and exp_probs_b
  kSharedExpert,  // *_shexp
  kRoutedExpert,  // *_exps: the part that can live in a slower tier
  kOutput,        // output.weight (the LM head)
  kHyperConnection,  // V4's hc_*_fn/base/scale mixing parameters
  kOther,         // anything else (e.g. MTP layers)
};
const char* TensorRoleName(TensorRole role);

struct TensorSpec {
  std::string name;
  TensorShape shape;
  TensorRole role;
  int layer = -1;  // -1 for global tensors
};

// "blk.<layer>.<base>.<suffix>"
std::string LayerTensorName(int layer, const std::string& base, const std::string& suffix = "weight");
// Role of a tensor from its name alone (for files with extra tensors too).
TensorRole RoleOfTensorName(const std::string& name);
// Every tensor the config implies, in llama.cpp's writing order.
std::vector<TensorSpec> ExpectedTensors(const ModelConfig& config);
// Checks presence and shape of every expected tensor; the error names the tensor, both
// shapes and the hyperparameters that imply the expected one.
Status CheckTensorsMatchConfig(const ModelConfig& config, const io::GgufFile& file);
std::string FormatShape(const TensorShape& shape);

}  // namespace frugal::model
