// Receives named intermediate tensors of a forward pass (e.g. "blk.3.attn_out", shape [T, H]),
// so any layer can be diffed against the numpy reference. Names follow
// tests/reference/forward.py --dump. Implementations decide thread-safety; the forward pass calls
// Put from the engine thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace frugal::model {

class TensorSink {
 public:
  virtual ~TensorSink() = default;
  virtual void Put(const std::string& name, const float* data, const std::vector<int64_t>& shape) = 0;
};

// Writes each tensor as DIR/<name>.npy; the first write error is kept in status().
class NpyDirectorySink : public TensorSink {
 public:
  explicit NpyDirectorySink(std::string dir) : dir_(std::move(dir)) {}
  void Put(const std::string& name, const float* data, const std::vector<int64_t>& shape) override;
  const Status& status() const { return status_; }

 private:
  std::string dir_;
  Status status_;
};

}  // namespace frugal::model
