// Bounded, buffered sequential reader over a RandomAccessFile, for parsing headers.
// Every read checks the bytes remaining in the file first. Thread-compatible.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "io/file.h"
#include "util/status.h"

namespace frugal::io {

class FileCursor {
 public:
  explicit FileCursor(const RandomAccessFile& file) : file_(file), size_(file.Size()) {}

  uint64_t position() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  // Reads n bytes into out; "truncated" error naming `what` when the file ends first.
  Status Read(void* out, uint64_t n, const char* what);
  template <typename T>
  Status ReadPod(T* out, const char* what) {
    return Read(out, sizeof(T), what);
  }
  // Reads a GGUF string (u64 length + bytes); the length must not exceed `max_len` nor the
  // bytes remaining.
  Status ReadString(std::string* out, uint64_t max_len, const std::string& what);

 private:
  Status Fill(uint64_t n);

  const RandomAccessFile& file_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::vector<std::byte> buf_;  // bytes of the file starting at buf_start_
  uint64_t buf_start_ = 0;
};

}  // namespace frugal::io
