#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "io/file.h"
#include "util/checked_math.h"

namespace frugal::io {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& path) {
  return IoError("{} '{}': {}", what, path, std::strerror(errno));
}

Status CheckRange(const std::string& name, uint64_t size, uint64_t offset, uint64_t n) {
  uint64_t end;
  if (!CheckedAdd(offset, n, &end) || end > size) {
    return OutOfRange("read of {} bytes at offset {} is past the end of '{}' ({} bytes)", n, offset,
                      name, size);
  }
  return OkStatus();
}

class PosixFile : public RandomAccessFile {
 public:
  PosixFile(std::string name, int fd, uint64_t size) : name_(std::move(name)), fd_(fd), size_(size) {}
  ~PosixFile() override { ::close(fd_); }
  const std::string& name() const override { return name_; }
  uint64_t Size() const override { return size_; }
  Status ReadAt(uint64_t offset, std::span<std::byte> out) const override {
    FRUGAL_RETURN_IF_ERROR(CheckRange(name_, size_, offset, out.size()));
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                                static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("read failed on", name_);
      if (n == 0) return IoError("unexpected end of '{}' at offset {}", name_, offset + done);
      done += static_cast<size_t>(n);
    }
    return OkStatus();
  }

 private:
  std::string name_;
  int fd_;
  uint64_t size_;
};

// O_DIRECT reads: aligned requests go straight from the device into the caller's buffer;
// others through an aligned bounce buffer covering them. Where the filesystem refuses O_DIRECT
// (tmpfs, say), reads are buffered and each read range is dropped from the page cache after it
// is copied (POSIX_FADV_DONTNEED), so the file still does not stay in RAM behind the caller.
class DirectFile : public RandomAccessFile {
 public:
  DirectFile(std::string name, int fd, uint64_t size, bool direct) : name_(std::move(name)), fd_(fd), size_(size), direct_(direct) {}
  ~DirectFile() override { ::close(fd_); }
  const std::string& name() const override { return name_; }
  uint64_t Size() const override { return size_; }
  bool DirectIo() const override { return direct_; }
  int NativeHandle() const override { return direct_ ? fd_ : -1; }
  Status ReadAt(uint64_t offset, std::span<std::byte> out) const override {
    FRUGAL_RETURN_IF_ERROR(CheckRange(name_, size_, offset, out.size()));
    if (out.empty()) return OkStatus();
    const uint64_t a = kDirectIoAlignment;
    const bool aligned = offset % a == 0 && out.size() % a == 0 && reinterpret_cast<uintptr_t>(out.data()) % a == 0;
    if (aligned || !direct_) {
      FRUGAL_RETURN_IF_ERROR(ReadFully(offset, out.data(), out.size(), offset + out.size()));
    } else {
      const uint64_t begin = offset / a * a, end = (offset + out.size() + a - 1) / a * a;
      std::unique_ptr<std::byte, decltype(&std::free)> bounce(static_cast<std::byte*>(std::aligned_alloc(a, end - begin)), &std::free);
      if (!bounce) return ResourceExhausted("no memory for a {}-byte read buffer", end - begin);
      // The covering range may pass the end of the file: only the bytes up to it must arrive.
      FRUGAL_RETURN_IF_ERROR(ReadFully(begin, bounce.get(), end - begin, offset + out.size()));
      std::memcpy(out.data(), bounce.get() + (offset - begin), out.size());
    }
    if (!direct_) ::posix_fadvise(fd_, static_cast<off_t>(offset), static_cast<off_t>(out.size()), POSIX_FADV_DONTNEED);
    return OkStatus();
  }

 private:
  // Reads [offset, offset + n) into dst; stops early (successfully) once `needed_end` is reached
  // and the file ends.
  Status ReadFully(uint64_t offset, std::byte* dst, uint64_t n, uint64_t needed_end) const {
    uint64_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd_, dst + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return ErrnoStatus(fmt::format("read of {} bytes at offset {} failed on", n - done, offset + done), name_);
      if (r == 0) {
        if (offset + done >= needed_end) return OkStatus();
        return IoError("unexpected end of '{}' at offset {}", name_, offset + done);
      }
      done += static_cast<uint64_t>(r);
    }
    return OkStatus();
  }

  std::string name_;
  int fd_;
  uint64_t size_;
  bool direct_;
};

class MmapFile : public RandomAccessFile {
 public:
  MmapFile(std::string name, void* base, uint64_t size) : name_(std::move(name)), base_(base), size_(size) {}
  ~MmapFile() override {
    if (base_ != nullptr) ::munmap(base_, size_);
  }
  const std::string& name() const override { return name_; }
  uint64_t Size() const override { return size_; }
  Status ReadAt(uint64_t offset, std::span<std::byte> out) const override {
    FRUGAL_RETURN_IF_ERROR(CheckRange(name_, size_, offset, out.size()));
    if (!out.empty()) std::memcpy(out.data(), static_cast<const std::byte*>(base_) + offset, out.size());
    return OkStatus();
  }
  std::span<const std::byte> Mapped() const override {
    return {static_cast<const std::byte*>(base_), static_cast<size_t>(size_)};
  }
  bool MappedFromFile() const override { return true; }

 private:
  std::string name_;
  void* base_;
  uint64_t size_;
};

StatusOr<std::pair<int, uint64_t>> OpenForRead(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = ErrnoStatus("cannot stat", path);
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument("'{}' is not a regular file", path);
  }
  return std::make_pair(fd, static_cast<uint64_t>(st.st_size));
}

class AtomicWritableFile : public WritableFile {
 public:
  AtomicWritableFile(std::string path, std::string tmp, int fd)
      : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd) {}
  ~AtomicWritableFile() override {
    if (fd_ >= 0) {  // not closed: abandon the temporary file
      ::close(fd_);
      ::unlink(tmp_.c_str());
    }
  }
  Status Append(std::span<const std::byte> data) override {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("write failed on", tmp_);
      done += static_cast<size_t>(n);
    }
    return OkStatus();
  }
  Status Close() override {
    if (::fsync(fd_) != 0) return ErrnoStatus("fsync failed on", tmp_);
    if (::close(fd_) != 0) {
      fd_ = -1;
      return ErrnoStatus("close failed on", tmp_);
    }
    fd_ = -1;
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) return ErrnoStatus("cannot rename to", path_);
    return OkStatus();
  }

 private:
  std::string path_;
  std::string tmp_;
  int fd_;
};

}  // namespace

StatusOr<std::unique_ptr<RandomAccessFile>> OpenPosixFile(const std::string& path) {
  FRUGAL_ASSIGN_OR_RETURN(auto fd_size, OpenForRead(path));
  return std::unique_ptr<RandomAccessFile>(new PosixFile(path, fd_size.first, fd_size.second));
}

StatusOr<std::unique_ptr<RandomAccessFile>> OpenDirectFile(const std::string& path) {
  FRUGAL_ASSIGN_OR_RETURN(auto fd_size, OpenForRead(path));  // checks it is a regular file
  ::close(fd_size.first);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
  bool direct = true;
  if (fd < 0 && errno == EINVAL) {  // the filesystem has no direct I/O
    direct = false;
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) return ErrnoStatus("cannot open", path);
  return std::unique_ptr<RandomAccessFile>(new DirectFile(path, fd, fd_size.second, direct));
}

StatusOr<std::unique_ptr<RandomAccessFile>> OpenMmapFile(const std::string& path) {
  FRUGAL_ASSIGN_OR_RETURN(auto fd_size, OpenForRead(path));
  const auto [fd, size] = fd_size;
  void* base = nullptr;
  if (size > 0) {
    base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) {
      Status s = ErrnoStatus("cannot mmap", path);
      ::close(fd);
      return s;
    }
  }
  ::close(fd);  // the mapping keeps the file alive
  return std::unique_ptr<RandomAccessFile>(new MmapFile(path, base, size));
}

StatusOr<std::unique_ptr<WritableFile>> OpenAtomicWritableFile(const std::string& path) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", tmp);
  return std::unique_ptr<WritableFile>(new AtomicWritableFile(path, tmp, fd));
}

StatusOr<std::vector<std::byte>> ReadWholeFile(const std::string& path) {
  FRUGAL_ASSIGN_OR_RETURN(auto file, OpenPosixFile(path));
  std::vector<std::byte> data(file->Size());
  FRUGAL_RETURN_IF_ERROR(file->ReadAt(0, data));
  return data;
}

}  // namespace frugal::io
