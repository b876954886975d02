// The content of `frugal inspect`: one JSON document, also rendered as text.
#pragma once

#include <nlohmann/json.hpp>

#include "io/gguf_file.h"
#include "model/config.h"

namespace frugal::app {

// File facts, tokenizer summary, and (when the config loaded) hyperparameters and footprint.
nlohmann::json BuildInspectReport(const io::GgufFile& file, const StatusOr<model::ModelConfig>& config);
std::string RenderInspectText(const nlohmann::json& report);

}  // namespace frugal::app
