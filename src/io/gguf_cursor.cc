#include "io/gguf_cursor.h"

#include <algorithm>

namespace frugal::io {

namespace {
constexpr uint64_t kChunk = 1 << 16;
}

Status FileCursor::Fill(uint64_t n) {
  // Ensures [pos_, pos_ + n) is buffered; caller has checked n <= remaining().
  if (pos_ >= buf_start_ && pos_ + n <= buf_start_ + buf_.size()) return OkStatus();
  const uint64_t want = std::min(std::max(n, kChunk), remaining());
  buf_.resize(want);
  buf_start_ = pos_;
  return file_.ReadAt(pos_, buf_);
}

Status FileCursor::Read(void* out, uint64_t n, const char* what) {
  if (n > remaining()) {
    return DataLoss("truncated: file ends at byte {} while reading {} ({} bytes needed at offset {})",
                    size_, what, n, pos_);
  }
  if (n == 0) return OkStatus();
  FRUGAL_RETURN_IF_ERROR(Fill(n));
  std::memcpy(out, buf_.data() + (pos_ - buf_start_), n);
  pos_ += n;
  return OkStatus();
}

Status FileCursor::ReadString(std::string* out, uint64_t max_len, const std::string& what) {
  uint64_t len = 0;
  FRUGAL_RETURN_IF_ERROR(Read(&len, sizeof(len), "a string length"));
  if (len > remaining()) {
    return DataLoss("{}: string length {} at offset {} exceeds the {} bytes left in the file", what,
                    len, pos_ - 8, remaining());
  }
  if (len > max_len) {
    return DataLoss("{}: string length {} at offset {} exceeds the limit {}", what, len, pos_ - 8,
                    max_len);
  }
  out->resize(len);
  return Read(out->data(), len, what.c_str());
}

}  // namespace frugal::io
