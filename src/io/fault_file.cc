#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "io/file.h"
#include "util/checked_math.h"

namespace frugal::io {
namespace {

class FaultInjectingFile : public RandomAccessFile {
 public:
  FaultInjectingFile(std::unique_ptr<RandomAccessFile> base, FaultOptions options)
      : base_(std::move(base)), options_(options) {}
  const std::string& name() const override { return base_->name(); }
  uint64_t Size() const override { return std::min(base_->Size(), options_.visible_size); }
  Status ReadAt(uint64_t offset, std::span<std::byte> out) const override {
    const uint64_t n = reads_.fetch_add(1);
    if (options_.read_delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(options_.read_delay_us));
    if (n >= options_.fail_reads_after && n - options_.fail_reads_after < options_.fail_reads_count) return IoError("injected read failure #{} on '{}'", n, name());
    uint64_t end;
    if (!CheckedAdd(offset, out.size(), &end) || end > Size()) {
      return OutOfRange("read of {} bytes at offset {} is past the end of '{}' ({} bytes)",
                        out.size(), offset, name(), Size());
    }
    if (offset < options_.fail_offset_end && end > options_.fail_offset_begin) {
      return IoError("injected read failure at offset {} on '{}'", offset, name());
    }
    return base_->ReadAt(offset, out);
  }
  bool DirectIo() const override { return base_->DirectIo(); }
  // Never mapped: every access goes through ReadAt so faults apply.

 private:
  std::unique_ptr<RandomAccessFile> base_;
  FaultOptions options_;
  mutable std::atomic<uint64_t> reads_{0};
};

}  // namespace

std::unique_ptr<RandomAccessFile> NewFaultInjectingFile(std::unique_ptr<RandomAccessFile> base,
                                                        FaultOptions options) {
  return std::make_unique<FaultInjectingFile>(std::move(base), options);
}

}  // namespace frugal::io
