// A model file opened for inference: the mapped GGUF, its validated config and its weights.
// Immutable after loading; thread-safe. Held by pointer so views into it stay valid.
#pragma once

#include <memory>
#include <string>

#include "io/gguf_file.h"
#include "model/config.h"
#include "model/weights.h"

namespace frugal::model {

struct LoadedModel {
  io::GgufFile file;
  ModelConfig config;
  Weights weights;
};

StatusOr<std::unique_ptr<LoadedModel>> LoadModel(const std::string& path);

}  // namespace frugal::model
