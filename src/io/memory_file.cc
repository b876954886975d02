#include <cstring>

#include "io/file.h"
#include "util/checked_math.h"

namespace frugal::io {
namespace {

class MemoryFile : public RandomAccessFile {
 public:
  MemoryFile(std::string name, std::vector<std::byte> data) : name_(std::move(name)), data_(std::move(data)) {}
  const std::string& name() const override { return name_; }
  uint64_t Size() const override { return data_.size(); }
  Status ReadAt(uint64_t offset, std::span<std::byte> out) const override {
    uint64_t end;
    if (!CheckedAdd(offset, out.size(), &end) || end > data_.size()) {
      return OutOfRange("read of {} bytes at offset {} is past the end of '{}' ({} bytes)",
                        out.size(), offset, name_, data_.size());
    }
    if (!out.empty()) std::memcpy(out.data(), data_.data() + offset, out.size());
    return OkStatus();
  }
  std::span<const std::byte> Mapped() const override { return data_; }

 private:
  std::string name_;
  std::vector<std::byte> data_;
};

class MemoryWritableFile : public WritableFile {
 public:
  explicit MemoryWritableFile(std::vector<std::byte>* sink) : sink_(sink) {}
  Status Append(std::span<const std::byte> data) override {
    sink_->insert(sink_->end(), data.begin(), data.end());
    return OkStatus();
  }
  Status Close() override { return OkStatus(); }

 private:
  std::vector<std::byte>* sink_;
};

}  // namespace

std::unique_ptr<RandomAccessFile> NewMemoryFile(std::string name, std::vector<std::byte> data) {
  return std::make_unique<MemoryFile>(std::move(name), std::move(data));
}

std::unique_ptr<WritableFile> NewMemoryWritableFile(std::vector<std::byte>* sink) {
  return std::make_unique<MemoryWritableFile>(sink);
}

}  // namespace frugal::io
