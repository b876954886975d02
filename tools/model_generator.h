// `frugal make-model`: writes a deterministic random-weight deepseek2 GGUF with llama.cpp's
// key and tensor names. Thread-compatible (uses the given pool).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "model/config.h"
#include "model/tensor_layout.h"
#include "tools/presets.h"
#include "util/thread_pool.h"

namespace frugal::tools {

struct GeneratorOptions {
  std::string preset = "tiny";
  std::optional<GgmlType> dtype = std::nullopt;  // weights (norms, router and bias stay f32)
  std::optional<GgmlType> expert_dtype = std::nullopt;  // routed experts (default: dtype), e.g. mxfp4 as V4's
  bool skew = false;
  uint64_t seed = 42;
  // Variants of the preset's shape, for testing every code path.
  std::optional<int> q_lora_rank = std::nullopt;               // 0: no query compression
  std::optional<model::KvBLayout> kv_b_layout = std::nullopt;  // split attn_k_b/attn_v_b or legacy attn_kv_b
  std::optional<double> yarn_factor = std::nullopt;            // 0 or 1: YaRN off
  std::optional<model::GatingFunction> gating = std::nullopt;  // softmax (V2) or sigmoid (V3) scores
  std::optional<bool> selection_bias = std::nullopt;           // exp_probs_b present
  std::string tokenizer_dir = {};                             // holds tokenizer.json for the V3 tokenizer
  uint32_t gguf_version = 3;
};

struct PlannedTensor {
  model::TensorSpec spec;
  GgmlType type;
  int n_experts = 0;  // for the hash-routing table's values
};

struct ModelPlan {
  model::ModelConfig config;
  VocabSource vocab = VocabSource::kSynthetic;
  std::vector<PlannedTensor> tensors;
};

// The configuration and tensor list that GenerateModel would write (no vocabulary loaded:
// for synthetic vocabularies vocab_size is taken from MakeSyntheticVocab()).
StatusOr<ModelPlan> PlanModel(const GeneratorOptions& options);
// The stored type of a tensor: norms, router and bias in f32; the rest in `dtype`, falling back
// (as llama.cpp's quantizer does) to q8_0 or f16 when the row length is not a block multiple.
// V4: hyper-connection parameters, compressors and attention sinks stay f32 (DeepSeek keeps them
// in fp32) and the hash-routing table is i32.
GgmlType StoredTypeFor(const model::TensorSpec& spec, GgmlType dtype);

using ProgressFn = std::function<void(size_t done, size_t total, const std::string& tensor)>;
Status GenerateModel(const GeneratorOptions& options, const std::string& path, ThreadPool& pool,
                     const ProgressFn& progress = nullptr);

}  // namespace frugal::tools
