#include "tools/model_generator.h"

#include <cmath>
#include <cstring>

#include "io/gguf_writer.h"
#include "kernels/quantize.h"
#include "model/config_writer.h"
#include "tools/vocab.h"
#include "tools/weight_init.h"
#include "util/rng.h"

namespace frugal::tools {
namespace {

using io::GgufValue;

// V4's hash-routing table [vocab][top_k]: distinct experts per token, from the seed.
Status WriteHashTable(const PlannedTensor& t, uint64_t seed, io::GgufWriter& writer, size_t index, io::WritableFile& out) {
  const uint64_t k = t.spec.shape.ne[0], rows = t.spec.shape.ne[1];
  const uint64_t n_experts = static_cast<uint64_t>(t.n_experts);
  std::vector<int32_t> table(static_cast<size_t>(k * rows));
  std::vector<int32_t> perm(static_cast<size_t>(n_experts));
  for (uint64_t r = 0; r < rows; ++r) {
    Rng rng(SplitMix64(seed ^ HashName(t.spec.name)) + r);
    for (uint64_t e = 0; e < n_experts; ++e) perm[static_cast<size_t>(e)] = static_cast<int32_t>(e);
    for (uint64_t i = 0; i < k; ++i) {  // a partial Fisher-Yates shuffle
      std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(i + rng.Next() % (n_experts - i))]);
      table[static_cast<size_t>(r * k + i)] = perm[static_cast<size_t>(i)];
    }
  }
  std::vector<std::byte> data(table.size() * sizeof(int32_t));
  std::memcpy(data.data(), table.data(), data.size());
  return writer.WriteTensorData(out, index, data);
}

Status WriteTensor(const PlannedTensor& t, const WeightInit& init, io::GgufWriter& writer, size_t index,
                   io::WritableFile& out, ThreadPool& pool) {
  const uint64_t n = t.spec.shape.ne[0];
  const uint64_t rows = t.spec.shape.rows();
  const uint64_t row_bytes = RowBytes(t.type, n);
  std::vector<std::byte> data(rows * row_bytes);
  pool.ParallelFor(static_cast<int64_t>(rows), [&](int64_t begin, int64_t end, int) {
    constexpr int64_t kRowsPerChunk = 64;
    std::vector<float> values(static_cast<size_t>(n * kRowsPerChunk));
    for (int64_t r = begin; r < end; r += kRowsPerChunk) {
      const int64_t r_end = std::min(end, r + kRowsPerChunk);
      init.FillRows(t.spec, static_cast<uint64_t>(r), static_cast<uint64_t>(r_end), values.data());
      for (int64_t i = r; i < r_end; ++i) {
        kernels::QuantizeRow(t.type, values.data() + (i - r) * n, data.data() + i * row_bytes,
                             static_cast<int64_t>(n));
      }
    }
  });
  return writer.WriteTensorData(out, index, data);
}

}  // namespace

GgmlType StoredTypeFor(const model::TensorSpec& spec, GgmlType dtype) {
  if (spec.name.find("tid2eid") != std::string::npos) return GgmlType::kI32;
  if (spec.role == model::TensorRole::kNorm || spec.role == model::TensorRole::kRouter ||
      spec.role == model::TensorRole::kHyperConnection || spec.name.find("compressor") != std::string::npos ||
      spec.name.find("attn_sinks") != std::string::npos) {
    return GgmlType::kF32;
  }
  const uint64_t ne0 = spec.shape.ne[0];
  if (ne0 % TraitsOf(dtype).block_elems == 0) return dtype;
  if (ne0 % 32 == 0 && TraitsOf(dtype).block_elems > 32) return GgmlType::kQ8_0;
  return GgmlType::kF16;
}

StatusOr<ModelPlan> PlanModel(const GeneratorOptions& o) {
  FRUGAL_ASSIGN_OR_RETURN(Preset preset, FindPreset(o.preset));
  ModelPlan plan;
  plan.config = preset.config;
  plan.vocab = preset.vocab;
  model::ModelConfig& c = plan.config;
  if (o.q_lora_rank) c.mla.q_lora_rank = *o.q_lora_rank;
  if (o.kv_b_layout) c.mla.kv_b_layout = *o.kv_b_layout;
  if (o.yarn_factor) {
    if (*o.yarn_factor <= 1.0) {
      c.rope.scaling = model::RopeScalingType::kNone;
    } else {
      c.rope.scaling = model::RopeScalingType::kYarn;
      c.rope.factor = *o.yarn_factor;
      if (c.rope.original_context_length == 0) c.rope.original_context_length = c.context_length;
      if (c.rope.yarn_log_multiplier == 0) c.rope.yarn_log_multiplier = 0.1;
      c.context_length = static_cast<int>(c.rope.original_context_length * *o.yarn_factor);
    }
  }
  if (o.gating) c.moe.gating = *o.gating;
  if (o.selection_bias) c.moe.has_bias = *o.selection_bias;
  if (preset.vocab == VocabSource::kSynthetic) c.vocab_size = static_cast<int>(MakeSyntheticVocab().tokens.size());
  FRUGAL_RETURN_IF_ERROR(model::ValidateModelConfig(c));
  const GgmlType dtype = o.dtype.value_or(preset.default_dtype);
  if (!kernels::CanQuantize(dtype)) {
    return InvalidArgument("make-model cannot write type {} (choose f32, f16, bf16, q8_0, q4_0, q4_1, "
                           "q5_0, q5_1, q4_K, q5_K or q6_K)", TypeName(dtype));
  }
  const GgmlType expert_dtype = o.expert_dtype.value_or(dtype);
  if (!kernels::CanQuantize(expert_dtype)) return InvalidArgument("make-model cannot write type {}", TypeName(expert_dtype));
  for (model::TensorSpec& spec : model::ExpectedTensors(c)) {
    const GgmlType type = StoredTypeFor(spec, spec.role == model::TensorRole::kRoutedExpert ? expert_dtype : dtype);
    plan.tensors.push_back({std::move(spec), type, c.moe.n_experts});
  }
  return plan;
}

Status GenerateModel(const GeneratorOptions& o, const std::string& path, ThreadPool& pool,
                     const ProgressFn& progress) {
  FRUGAL_ASSIGN_OR_RETURN(ModelPlan plan, PlanModel(o));
  Vocab vocab;
  if (plan.vocab == VocabSource::kSynthetic) {
    vocab = MakeSyntheticVocab();
  } else {
    FRUGAL_ASSIGN_OR_RETURN(vocab, ImportHfTokenizer(o.tokenizer_dir, plan.config.vocab_size, "deepseek-v3"));
  }
  io::GgufWriter writer(o.gguf_version);
  model::WriteModelConfigKeys(plan.config, &writer);
  writer.SetValue("general.quantization_version", GgufValue::Uint32(2));
  WriteVocab(vocab, &writer);
  for (const PlannedTensor& t : plan.tensors) writer.AddTensor(t.spec.name, t.spec.shape, t.type);
  FRUGAL_ASSIGN_OR_RETURN(auto out, io::OpenAtomicWritableFile(path));
  FRUGAL_RETURN_IF_ERROR(writer.WriteHeader(*out));
  const WeightInit init(plan.config, o.seed, o.skew);
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    if (progress) progress(i, plan.tensors.size(), plan.tensors[i].spec.name);
    if (plan.tensors[i].type == GgmlType::kI32) {
      FRUGAL_RETURN_IF_ERROR(WriteHashTable(plan.tensors[i], o.seed, writer, i, *out));
    } else {
      FRUGAL_RETURN_IF_ERROR(WriteTensor(plan.tensors[i], init, writer, i, *out, pool));
    }
  }
  FRUGAL_RETURN_IF_ERROR(writer.Finish());
  return out->Close();
}

}  // namespace frugal::tools
