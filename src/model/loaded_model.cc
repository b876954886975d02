#include "model/loaded_model.h"

#include "model/resident_weights.h"

namespace frugal::model {

StatusOr<std::unique_ptr<LoadedModel>> LoadModel(const std::string& path, const LoadOptions& options) {
  auto m = std::make_unique<LoadedModel>();
  FRUGAL_ASSIGN_OR_RETURN(m->file, io::OpenGguf(path));
  FRUGAL_ASSIGN_OR_RETURN(m->config, LoadModelConfig(m->file));
  FRUGAL_ASSIGN_OR_RETURN(m->weights, LoadWeights(m->file, m->config));
  // Without the memory for the copies, the weights are read from the mapping as they are.
  if (auto resident = MakeEveryTokenWeightsResident(m->file, &m->weights); resident.ok()) m->resident = std::move(*resident);
  if (options.routed_experts_resident) {
    auto experts = MakeRoutedExpertsResident(m->file, &m->weights, m->resident.size());
    if (experts.ok()) m->resident_experts = std::move(*experts);
  }
  return m;
}

}  // namespace frugal::model
