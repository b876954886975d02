// The model's routed experts as lockers of an expert store (experts/expert_store.h): where each
// expert lies in the GGUF file, and the store attached to a loaded model, reading the file with
// direct I/O. The experts' pages in the model's mapping are dropped, so only the store's RAM
// tier holds routed experts in memory.
#pragma once

#include "experts/expert_layout.h"
#include "experts/expert_store.h"
#include "io/gguf_file.h"
#include "model/config.h"
#include "model/loaded_model.h"

namespace frugal::experts {

// The three slices of every routed expert, from the stacked ffn_{gate,up,down}_exps tensors.
StatusOr<ExpertLayout> ExpertLayoutOf(const io::GgufFile& file, const model::ModelConfig& config);

// Opens the model file again with direct I/O and gives `m` an expert store over it; the
// forward pass then takes routed experts from the store instead of the mapping. Returns the
// store (owned by the model).
StatusOr<ExpertStore*> AttachExpertStore(model::LoadedModel* m, const ExpertStoreOptions& options);

}  // namespace frugal::experts
