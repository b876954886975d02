// Where the expert store's reads go: a queue that runs many reads at once and calls each one's
// `done` when its bytes have arrived (or failed). Two kinds: io_uring (liburing) on the direct-I/O
// file's descriptor where the build and the kernel allow it, else a pool of threads calling
// RandomAccessFile::ReadAt (pread; also the kind used with wrapped files such as the
// fault-injecting one). `done` runs on a queue thread and must not throw. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "io/file.h"
#include "util/status.h"

namespace frugal::experts {

struct SliceRead {
  uint64_t offset = 0;   // aligned to io::kDirectIoAlignment
  std::byte* dst = nullptr;  // aligned likewise, room for `length` bytes
  size_t length = 0;     // a multiple of the alignment; may pass the end of the file…
  size_t needed = 0;     // …as long as these first bytes exist
  bool urgent = false;   // a step waits for it: ahead of every queued non-urgent read
  std::function<void(Status)> done;
};

class ReadQueue {
 public:
  virtual ~ReadQueue() = default;  // waits for the reads in flight
  virtual void Submit(SliceRead read) = 0;
  virtual const char* kind() const = 0;  // "io_uring" or "pread"
};

// Threads calling file.ReadAt (which must outlive the queue).
std::unique_ptr<ReadQueue> NewPreadQueue(const io::RandomAccessFile& file, int threads);
// io_uring on `fd` (not owned), `depth` reads in flight at most; Unimplemented when this build
// has no liburing, or the kernel's error when it refuses a ring (io_uring disabled, seccomp).
StatusOr<std::unique_ptr<ReadQueue>> NewUringQueue(int fd, const std::string& name, unsigned depth);

}  // namespace frugal::experts
