// File abstraction (leveldb's Env idea): every read of a model or cache file goes through
// RandomAccessFile, so tests can substitute in-memory and fault-injecting files.
// Implementations are thread-safe for concurrent ReadAt; WritableFile is thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "util/status.h"

namespace frugal::io {

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  virtual const std::string& name() const = 0;
  virtual uint64_t Size() const = 0;
  // Reads exactly out.size() bytes at offset. A range past the end is an error, not a short read.
  virtual Status ReadAt(uint64_t offset, std::span<std::byte> out) const = 0;
  // The whole file as memory (mmap or owned buffer), or an empty span when not mapped.
  virtual std::span<const std::byte> Mapped() const { return {}; }
  // True when Mapped() is a read-only mapping of a file: its pages can be dropped from the
  // process (madvise) and are read again from the page cache on the next access.
  virtual bool MappedFromFile() const { return false; }
  // True when reads bypass the page cache (O_DIRECT).
  virtual bool DirectIo() const { return false; }
  // The OS file descriptor for submitting reads by other means (io_uring), or -1. Only a plain
  // direct-I/O file has one: wrappers (fault injection) keep every read going through ReadAt.
  virtual int NativeHandle() const { return -1; }
};

// Offset, size and buffer alignment at which direct reads need no bounce buffer.
inline constexpr uint64_t kDirectIoAlignment = 4096;

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::span<const std::byte> data) = 0;
  // Makes the file durable and visible under its final name. Without Close, nothing is published.
  virtual Status Close() = 0;
};

// pread-based file.
StatusOr<std::unique_ptr<RandomAccessFile>> OpenPosixFile(const std::string& path);
// Reads that bypass the page cache (O_DIRECT; see DirectIo()). Any range may be read; ranges
// aligned to kDirectIoAlignment (offset, size and buffer) go straight into the buffer. Where the
// filesystem refuses O_DIRECT, reads are buffered and dropped from the page cache afterwards.
StatusOr<std::unique_ptr<RandomAccessFile>> OpenDirectFile(const std::string& path);
// Read-only private mapping of the whole file; Mapped() returns it.
StatusOr<std::unique_ptr<RandomAccessFile>> OpenMmapFile(const std::string& path);
// A file whose contents live in memory (owned).
std::unique_ptr<RandomAccessFile> NewMemoryFile(std::string name, std::vector<std::byte> data);

// Writes to "<path>.tmp", and on Close() fsyncs and renames it to path (atomic publish).
StatusOr<std::unique_ptr<WritableFile>> OpenAtomicWritableFile(const std::string& path);
// Appends into *sink (which must outlive the file).
std::unique_ptr<WritableFile> NewMemoryWritableFile(std::vector<std::byte>* sink);

// Wraps a file and injects failures, for testing error paths.
struct FaultOptions {
  uint64_t fail_reads_after = UINT64_MAX;  // the (n+1)-th and later ReadAt calls fail…
  uint64_t fail_reads_count = UINT64_MAX;  // …this many of them (then reads succeed again)
  uint64_t fail_offset_begin = UINT64_MAX; // reads touching [begin, end) fail
  uint64_t fail_offset_end = 0;
  uint64_t visible_size = UINT64_MAX;      // pretend the file is truncated to this size (short reads)
  uint32_t read_delay_us = 0;              // every read first sleeps this long (a slow disk)
};
std::unique_ptr<RandomAccessFile> NewFaultInjectingFile(std::unique_ptr<RandomAccessFile> base,
                                                        FaultOptions options);

// Reads a whole (small) file into memory.
StatusOr<std::vector<std::byte>> ReadWholeFile(const std::string& path);

}  // namespace frugal::io
