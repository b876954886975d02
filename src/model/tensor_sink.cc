#include "model/tensor_sink.h"

#include "io/npy_writer.h"

namespace frugal::model {

void NpyDirectorySink::Put(const std::string& name, const float* data, const std::vector<int64_t>& shape) {
  if (!status_.ok()) return;
  status_ = io::WriteNpyF32(dir_ + "/" + name + ".npy", data, shape);
}

}  // namespace frugal::model
