#include "ledger/ledger_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace frugal::ledger {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return MakeStatus(StatusCode::kIoError, "ledger {}: {}: {}", path, what, std::strerror(errno));
}

// Holds an exclusive flock for its scope.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {
    while (flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() { flock(fd_, LOCK_UN); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

Status WriteAll(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Errno("write", path);
    p += w;
    n -= static_cast<size_t>(w);
  }
  return OkStatus();
}

bool SameFile(int fd, const std::string& path) {
  struct stat a {}, b {};
  return fstat(fd, &a) == 0 && stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

StatusOr<std::unique_ptr<LedgerLog>> LedgerLog::Open(const LedgerLogOptions& options) {
  if (options.path.empty()) return InvalidArgument("the ledger needs a file path");
  auto log = std::unique_ptr<LedgerLog>(new LedgerLog(options));
  std::lock_guard lock(log->mu_);
  FRUGAL_RETURN_IF_ERROR(log->Reopen());
  return log;
}

LedgerLog::~LedgerLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status LedgerLog::Reopen() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(options_.path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd_ < 0) return Errno("open", options_.path);
  struct stat st {};
  if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    return MakeStatus(StatusCode::kIoError, "ledger {}: not a regular file", options_.path);
  }
  return OkStatus();
}

Status LedgerLog::RotateIfFull(uint64_t add) {
  struct stat st {};
  if (fstat(fd_, &st) != 0) return Errno("stat", options_.path);
  if (st.st_size == 0 || static_cast<uint64_t>(st.st_size) + add <= options_.rotate_bytes) return OkStatus();
  int n = 1;
  struct stat other {};
  while (stat((options_.path + "." + std::to_string(n)).c_str(), &other) == 0) ++n;
  if (::rename(options_.path.c_str(), (options_.path + "." + std::to_string(n)).c_str()) != 0) return Errno("rotate", options_.path);
  const int old = fd_;
  fd_ = -1;
  Status s = Reopen();
  flock(old, LOCK_UN);
  ::close(old);
  if (s.ok()) {
    while (flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  return s;
}

Status LedgerLog::Append(const LedgerRecord& record) {
  const std::string line = RecordJson(record).dump() + "\n";
  std::lock_guard lock(mu_);
  if (fd_ < 0) FRUGAL_RETURN_IF_ERROR(Reopen());
  // Another process may have rotated the file since we opened it: follow the path.
  for (int tries = 0; tries < 4; ++tries) {
    while (flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
    if (SameFile(fd_, options_.path)) break;
    flock(fd_, LOCK_UN);
    FRUGAL_RETURN_IF_ERROR(Reopen());
  }
  struct Unlock {
    int* fd;
    ~Unlock() {
      if (*fd >= 0) flock(*fd, LOCK_UN);
    }
  } unlock{&fd_};
  FRUGAL_RETURN_IF_ERROR(RotateIfFull(line.size()));
  struct stat st {};
  if (fstat(fd_, &st) != 0) return Errno("stat", options_.path);
  // A torn last line (a crash mid-write) must not swallow this record.
  std::string out = line;
  if (st.st_size > 0) {
    char last = '\n';
    if (::pread(fd_, &last, 1, st.st_size - 1) != 1) return Errno("read", options_.path);
    if (last != '\n') out = "\n" + out;
  }
  if (Status s = WriteAll(fd_, out.data(), out.size(), options_.path); !s.ok()) {
    // Leave no partial record behind (a later reader would skip it, but a bill stays clean).
    // If that fails too, the torn tail stays and the next Append starts on a new line.
    [[maybe_unused]] const int ignored = ftruncate(fd_, st.st_size);
    return s;
  }
  if (fdatasync(fd_) != 0) return Errno("sync", options_.path);
  return OkStatus();
}

StatusOr<LedgerContents> ReadLedger(const std::string& path) {
  LedgerContents c;
  struct stat st {};
  std::vector<std::string> files;
  for (int n = 1; stat((path + "." + std::to_string(n)).c_str(), &st) == 0; ++n) files.push_back(path + "." + std::to_string(n));
  if (stat(path.c_str(), &st) == 0) files.push_back(path);
  if (files.empty()) return NotFound("ledger {}: no such file (nor {}.1)", path, path);
  for (const std::string& name : files) {
    if (stat(name.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return MakeStatus(StatusCode::kIoError, "ledger {}: not a regular file", name);
    std::ifstream in(name);
    if (!in) return MakeStatus(StatusCode::kIoError, "ledger {}: cannot be read", name);
    c.files.push_back(name);
    std::string line;
    for (int64_t number = 1; std::getline(in, line); ++number) {
      if (line.empty()) continue;
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      StatusOr<LedgerRecord> r = j.is_discarded() ? StatusOr<LedgerRecord>(InvalidArgument("not JSON")) : ParseRecord(j);
      if (r.ok()) {
        c.records.push_back(std::move(*r));
        continue;
      }
      if (c.bad_lines++ == 0) c.first_bad = name + ":" + std::to_string(number) + ": " + r.status().message();
    }
  }
  return c;
}

}  // namespace frugal::ledger
