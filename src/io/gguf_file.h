// A parsed, validated GGUF file: metadata, tensor table, and access to tensor bytes.
// Everything in it was checked by ReadGguf (gguf_reader.cc): every tensor lies inside the file,
// sizes are exact, names unique. Read-only after construction: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/file.h"
#include "io/gguf_value.h"
#include "util/status.h"
#include "util/tensor_view.h"

namespace frugal::io {

inline constexpr uint64_t kGgufDefaultAlignment = 32;
inline constexpr size_t kGgufMaxTensorName = 64;  // ggml's GGML_MAX_NAME
inline constexpr size_t kGgufMaxKeyLength = 65535;
inline constexpr int kGgufMaxArrayNesting = 4;

struct GgufTensorInfo {
  std::string name;
  TensorShape shape;
  GgmlType type = GgmlType::kF32;
  uint64_t offset = 0;   // relative to the data section
  uint64_t n_bytes = 0;  // exact size of its blocks
  uint64_t file_offset = 0;  // absolute
};

class GgufFile {
 public:
  GgufFile() = default;
  GgufFile(GgufFile&&) = default;
  GgufFile& operator=(GgufFile&&) = default;

  const std::string& name() const { return file_->name(); }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return file_->Size(); }
  const RandomAccessFile& file() const { return *file_; }

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kvs_; }
  const GgufValue* Find(const std::string& key) const;
  bool Has(const std::string& key) const { return Find(key) != nullptr; }
  // Typed getters: NotFound when absent, DataLoss when the stored type does not fit.
  StatusOr<int64_t> GetInt(const std::string& key) const;  // any integer type
  StatusOr<double> GetFloat(const std::string& key) const; // f32/f64 (or an integer)
  StatusOr<bool> GetBool(const std::string& key) const;
  StatusOr<std::string> GetString(const std::string& key) const;
  // Array of the given element type class; NotFound/DataLoss as above.
  StatusOr<std::vector<std::string>> GetStringArray(const std::string& key) const;
  StatusOr<std::vector<int64_t>> GetIntArray(const std::string& key) const;
  StatusOr<std::vector<double>> GetFloatArray(const std::string& key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(const std::string& name) const;
  // The tensor's bytes when the file is memory-mapped; FailedPrecondition otherwise.
  StatusOr<std::span<const std::byte>> MappedTensorData(const GgufTensorInfo& info) const;
  // Copies the tensor's bytes (works for any file).
  Status ReadTensorData(const GgufTensorInfo& info, std::vector<std::byte>* out) const;

 private:
  friend StatusOr<GgufFile> ReadGguf(std::unique_ptr<RandomAccessFile> file);

  std::unique_ptr<RandomAccessFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kvs_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Parses and validates a GGUF file (versions 2 and 3). Any malformation is a DataLoss status
// that names the field and the value, never a crash or a read outside the file.
StatusOr<GgufFile> ReadGguf(std::unique_ptr<RandomAccessFile> file);
// Opens `path` with mmap and reads it.
StatusOr<GgufFile> OpenGguf(const std::string& path);

}  // namespace frugal::io
