// Streams a GGUF file: metadata and tensor table first, then each tensor's bytes in the order
// they were declared, so generating a multi-GB model never holds it in memory.
// Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "io/file.h"
#include "io/gguf_value.h"
#include "util/tensor_view.h"

namespace frugal::io {

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t version = 3, uint32_t alignment = 32);

  // Sets (or replaces) a metadata key; keys are written in first-set order.
  void SetValue(const std::string& key, GgufValue value);
  // Declares a tensor; returns its index. Offsets are assigned densely in declaration order.
  size_t AddTensor(std::string name, TensorShape shape, GgmlType type);
  uint64_t TensorBytes(size_t index) const { return tensors_[index].n_bytes; }
  size_t tensor_count() const { return tensors_.size(); }

  // Header, metadata, tensor table and padding up to the data section.
  Status WriteHeader(WritableFile& out);
  // Data of the next tensor (declaration order); its size must be exact.
  Status WriteTensorData(WritableFile& out, size_t index, std::span<const std::byte> data);
  // Checks that every declared tensor was written.
  Status Finish() const;

 private:
  struct Tensor {
    std::string name;
    TensorShape shape;
    GgmlType type;
    uint64_t offset;
    uint64_t n_bytes;
  };
  Status Pad(WritableFile& out, uint64_t to_multiple);

  uint32_t version_;
  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kvs_;
  std::vector<Tensor> tensors_;
  uint64_t data_bytes_ = 0;   // declared data size, padded
  uint64_t written_ = 0;      // bytes written so far (whole file)
  size_t next_tensor_ = 0;
};

}  // namespace frugal::io
