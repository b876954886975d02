// The planner's spec of a DeepSeek-V3.2 (`deepseek32`) or DeepSeek-V4 (`deepseek4`) GGUF file, as
// llama.cpp's converter writes them, read from its keys and tensor table alone (their caches —
// V3.2's indexer keys, V4's compressed rows and windows — are not deepseek2's): `plan` sizes
// both; `inspect` shows V4 files this way, since frugal does not run them yet. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "io/gguf_file.h"
#include "ledger/model_spec.h"
#include "util/status.h"

namespace frugal::ledger {

// True for the architectures this reads (deepseek32, deepseek4).
bool PlannedFromKeys(const std::string& architecture);

// Unimplemented for any other architecture; DataLoss for a key missing or out of range.
StatusOr<ModelSpec> SpecFromKeys(const std::string& name, const io::GgufFile& file);

// The file's cache by layer kind: e.g. V4's window-only, CSA (ratio 4) and HCA (ratio 128)
// layers, V3.2's MLA + indexer layers — how many, and 16-bit bytes per token and per sequence.
struct LayerKindKv {
  std::string kind;
  int layers = 0;
  double bytes_per_token = 0;     // for all layers of the kind (compressed rows spread over their tokens)
  double bytes_per_sequence = 0;  // fixed per sequence (V4's window rows)
};
std::vector<LayerKindKv> KvByLayerKind(const ModelSpec& spec);

}  // namespace frugal::ledger
