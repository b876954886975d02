// Writes a ModelConfig as llama.cpp's `deepseek2.*` GGUF keys (the inverse of LoadModelConfig),
// for the model generator and tests. Thread-compatible.
#pragma once

#include "io/gguf_writer.h"
#include "model/config.h"

namespace frugal::model {

void WriteModelConfigKeys(const ModelConfig& config, io::GgufWriter* writer);

}  // namespace frugal::model
