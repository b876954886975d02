#include "model/loaded_model.h"

namespace frugal::model {

StatusOr<std::unique_ptr<LoadedModel>> LoadModel(const std::string& path) {
  auto m = std::make_unique<LoadedModel>();
  FRUGAL_ASSIGN_OR_RETURN(m->file, io::OpenGguf(path));
  FRUGAL_ASSIGN_OR_RETURN(m->config, LoadModelConfig(m->file));
  FRUGAL_ASSIGN_OR_RETURN(m->weights, LoadWeights(m->file, m->config));
  return m;
}

}  // namespace frugal::model
