#include "kv/disk_tier.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <latch>

#include <fmt/format.h>

#include "util/log.h"

namespace frugal::kv {
namespace {

constexpr const char* kSuffix = ".kvb";
constexpr int64_t kStaleTempNs = int64_t{3600} * 1'000'000'000;  // a temporary file this old is abandoned

int64_t MtimeNs(const struct stat& st) { return int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec; }

Status Errno(const char* what, const std::string& path) {
  const int e = errno;
  if (e == ENOENT) return NotFound("{} {}: {}", what, path, std::strerror(e));
  return IoError("{} {}: {}", what, path, std::strerror(e));
}

// "0123456789abcdef.kvb" → its key.
bool ParseEntryName(const char* name, uint64_t* key) {
  if (std::strlen(name) != 16 + std::strlen(kSuffix) || std::strcmp(name + 16, kSuffix) != 0) return false;
  char* end = nullptr;
  const std::string hex(name, 16);
  *key = std::strtoull(hex.c_str(), &end, 16);
  return end == hex.c_str() + 16;
}

// ".0123456789abcdef.PID.N.tmp" → PID (0 if not such a name).
long TempOwner(const char* name) {
  const size_t n = std::strlen(name);
  if (name[0] != '.' || n < 22 || std::strcmp(name + n - 4, ".tmp") != 0 || name[17] != '.') return 0;
  return std::strtol(name + 18, nullptr, 10);
}

void FsyncDir(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)fsync(fd);
  close(fd);
}

}  // namespace

StatusOr<std::unique_ptr<DiskTier>> DiskTier::Open(const DiskTierOptions& options, const BlockShape& shape,
                                                   uint64_t model_fingerprint) {
  if (options.dir.empty()) return InvalidArgument("no cache directory given");
  if (options.read_threads < 1 || options.read_threads > 64) return InvalidArgument("read threads must be 1..64");
  DiskTierOptions o = options;
  const std::string root = o.dir + "/kv";
  std::error_code created;  // the directory and any missing parents, as `mkdir -p`
  std::filesystem::create_directories(root, created);
  if (created) return IoError("cannot create the cache directory {}: {}", root, created.message());
  struct stat st {};
  if (stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return IoError("{} is not a directory", root);
  if (o.budget_bytes == 0) {
    struct statvfs vfs {};
    if (statvfs(root.c_str(), &vfs) == 0) o.budget_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize / 2;
  }
  const size_t entry = EntryFileBytes(shape);
  if (o.budget_bytes < entry) {
    return InvalidArgument("a disk cache budget of {} bytes holds no entry of {} bytes; raise --cache-disk-budget", o.budget_bytes,
                           entry);
  }
  o.write_queue_bytes = std::max<uint64_t>(o.write_queue_bytes, 4 * entry);
  auto tier = std::unique_ptr<DiskTier>(new DiskTier(o, shape, model_fingerprint));
  tier->Scan();
  tier->writer_ = std::thread([t = tier.get()] { t->WriterLoop(); });
  return tier;
}

DiskTier::DiskTier(const DiskTierOptions& options, const BlockShape& shape, uint64_t fingerprint)
    : options_(options), shape_(shape), fingerprint_(fingerprint), file_bytes_(EntryFileBytes(shape)),
      root_(options.dir + "/kv"), readers_(options.read_threads) {
  stats_.budget_bytes = options.budget_bytes;
  // As many entries as fit in the read buffer (at least one per reader): few batches, few waits.
  staging_slots_ = std::max<size_t>(options.read_buffer_bytes / file_bytes_, static_cast<size_t>(options.read_threads));
  staging_.reset(static_cast<std::byte*>(std::aligned_alloc(kDiskPage, staging_slots_ * file_bytes_)));
  if (!staging_) throw std::bad_alloc();
  std::memset(staging_.get(), 0, staging_slots_ * file_bytes_);  // committed now, not during a read
}

DiskTier::~DiskTier() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_writer_.notify_all();
  if (writer_.joinable()) writer_.join();
}

std::string DiskTier::PathOf(uint64_t key) const {
  return fmt::format("{}/{:02x}/{:016x}{}", root_, key >> 56, key, kSuffix);
}

void DiskTier::Scan() {
  std::unordered_map<uint64_t, Known> found;
  uint64_t bytes = 0;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  DIR* top = opendir(root_.c_str());
  if (top == nullptr) return;
  while (const dirent* sub = readdir(top)) {
    if (std::strlen(sub->d_name) != 2 || !std::isxdigit(static_cast<unsigned char>(sub->d_name[0]))) continue;
    const std::string dir = root_ + "/" + sub->d_name;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) continue;
    while (const dirent* e = readdir(d)) {
      const std::string path = dir + "/" + e->d_name;
      struct stat st {};
      uint64_t key = 0;
      if (ParseEntryName(e->d_name, &key)) {
        if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        found[key] = {static_cast<uint64_t>(st.st_size), MtimeNs(st)};
        bytes += static_cast<uint64_t>(st.st_size);
      } else if (const long pid = TempOwner(e->d_name); pid > 0) {
        // A writer killed mid-entry leaves its temporary file; nobody reads those.
        if (stat(path.c_str(), &st) != 0) continue;
        const bool dead = kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
        if (dead || now - MtimeNs(st) > kStaleTempNs) unlink(path.c_str());
      }
    }
    closedir(d);
  }
  closedir(top);
  std::lock_guard lock(mu_);
  known_ = std::move(found);
  known_bytes_ = bytes;
}

void DiskTier::ReportError(const Status& s) {
  {
    std::lock_guard lock(mu_);
    if (stats_.first_error.empty()) stats_.first_error = s.ToString();
  }
  if (!error_reported_.exchange(true)) {
    LogWarning("disk cache {}: {}; generation goes on without it (further errors are counted, not logged)", options_.dir,
               s.ToString());
  }
}

bool DiskTier::Store(uint64_t parent, uint64_t key, std::span<const int32_t> tokens, const std::byte* data, bool wait) {
  std::unique_lock lock(mu_);
  if (known_.contains(key) || pending_.contains(key)) return true;
  if (wait) written_.wait(lock, [&] { return stats_.queued_bytes + file_bytes_ <= options_.write_queue_bytes; });
  if (stats_.queued_bytes + file_bytes_ > options_.write_queue_bytes) {
    ++stats_.writes_dropped;
    return false;
  }
  stats_.queued_bytes += file_bytes_;
  lock.unlock();
  auto image = std::make_shared<std::vector<std::byte>>(file_bytes_);
  EncodeEntry({fingerprint_, shape_, parent, key}, tokens, data, *image);
  lock.lock();
  pending_.emplace(key, image);
  queue_.push_back({key, std::move(image)});
  lock.unlock();
  wake_writer_.notify_one();
  return true;
}

void DiskTier::WriterLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_writer_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    lock.unlock();
    const Status s = WriteEntry(p.key, *p.image);
    if (!s.ok()) ReportError(s);
    lock.lock();
    pending_.erase(p.key);
    stats_.queued_bytes -= file_bytes_;
    if (s.ok()) {
      ++stats_.written;
      stats_.written_bytes += static_cast<int64_t>(file_bytes_);
      const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
      if (known_.emplace(p.key, Known{file_bytes_, now}).second) known_bytes_ += file_bytes_;
    } else {
      ++stats_.write_errors;
    }
    const bool over = known_bytes_ > options_.budget_bytes;
    lock.unlock();
    if (over) EvictOverBudget();
    lock.lock();
    writing_ = false;
    lock.unlock();
    written_.notify_all();
    lock.lock();
  }
}

Status DiskTier::WriteEntry(uint64_t key, const std::vector<std::byte>& image) {
  const std::string path = PathOf(key);
  const std::string dir = path.substr(0, path.rfind('/'));
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("cannot create", dir);
  const std::string temp =
      fmt::format("{}/.{:016x}.{}.{}.tmp", dir, key, static_cast<long>(getpid()), temp_counter_.fetch_add(1));
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", temp);
  Status s;
  size_t done = 0;
  while (done < image.size()) {
    const ssize_t n = write(fd, image.data() + done, image.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      s = Errno("cannot write", temp);
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (s.ok() && fsync(fd) != 0) s = Errno("cannot fsync", temp);
  close(fd);
  if (s.ok() && rename(temp.c_str(), path.c_str()) != 0) s = Errno("cannot rename to", path);
  if (!s.ok()) {
    unlink(temp.c_str());
    return s;
  }
  FsyncDir(dir);
  return OkStatus();
}

void DiskTier::EvictOverBudget() {
  Scan();  // learn what other processes wrote, read or removed
  std::vector<std::pair<int64_t, uint64_t>> by_age;  // (mtime, key)
  uint64_t total;
  {
    std::lock_guard lock(mu_);
    total = known_bytes_;
    if (total <= options_.budget_bytes) return;
    by_age.reserve(known_.size());
    for (const auto& [key, k] : known_) by_age.emplace_back(k.mtime_ns, key);
  }
  std::sort(by_age.begin(), by_age.end());
  const uint64_t target = options_.budget_bytes / 10 * 9;
  for (const auto& [mtime, key] : by_age) {
    if (total <= target) break;
    const bool removed = unlink(PathOf(key).c_str()) == 0 || errno == ENOENT;
    if (!removed) continue;
    std::lock_guard lock(mu_);
    const auto it = known_.find(key);
    if (it == known_.end()) continue;
    total -= it->second.bytes;
    known_bytes_ -= it->second.bytes;
    known_.erase(it);
    ++stats_.evicted;
  }
}

void DiskTier::Drain() {
  std::unique_lock lock(mu_);
  written_.wait(lock, [&] { return queue_.empty() && !writing_; });
}

int DiskTier::Probe(std::span<const ChainLink> links) const {
  int n = 0;
  for (const ChainLink& link : links) {
    {
      std::lock_guard lock(mu_);
      if (pending_.contains(link.key)) {
        ++n;
        continue;
      }
    }
    if (access(PathOf(link.key).c_str(), F_OK) != 0) break;
    ++n;
  }
  return n;
}

Status DiskTier::ReadEntry(const ChainLink& link, std::byte* file) {
  const EntryIdentity id{fingerprint_, shape_, link.parent, link.key};
  {
    std::shared_ptr<std::vector<std::byte>> image;
    {
      std::lock_guard lock(mu_);
      const auto it = pending_.find(link.key);
      if (it != pending_.end()) image = it->second;
    }
    if (image) {  // queued, not yet on disk: our own bytes
      std::memcpy(file, image->data(), file_bytes_);
      return CheckEntry({file, file_bytes_}, id, link.tokens);
    }
  }
  const std::string path = PathOf(link.key);
  // O_NONBLOCK: something else under an entry's name (a FIFO) must not block the reader.
  int fd = open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0 && errno == EINVAL) fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // no direct I/O here
  if (fd < 0) return Errno("cannot open", path);
  struct stat st {};
  Status s;
  if (fstat(fd, &st) != 0) {
    s = Errno("cannot stat", path);
  } else if (!S_ISREG(st.st_mode)) {
    s = DataLoss("{} is not a regular file", path);
  } else if (static_cast<uint64_t>(st.st_size) != file_bytes_) {
    s = DataLoss("{} has {} bytes, not {}", path, st.st_size, file_bytes_);
  } else {
    size_t done = 0;
    while (done < file_bytes_) {
      const ssize_t n = pread(fd, file + done, file_bytes_ - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    s = done == file_bytes_ ? CheckEntry({file, file_bytes_}, id, link.tokens)
                            : DataLoss("{}: short read ({} of {} bytes)", path, done, file_bytes_);
  }
  if (s.ok()) (void)futimens(fd, nullptr);  // recently used (fails harmlessly on a read-only directory)
  close(fd);
  if (!s.ok() && s.code() != StatusCode::kNotFound) {
    // Bad: never used again, by this process or another.
    unlink(path.c_str());
    std::lock_guard lock(mu_);
    const auto it = known_.find(link.key);
    if (it != known_.end()) {
      known_bytes_ -= it->second.bytes;
      known_.erase(it);
    }
  }
  return s;
}

void DiskTier::RunOnReaders(size_t n, const std::function<void(size_t)>& job) {
  // Blocking threads, not the compute pool: a thread waiting on the disk must not spin.
  std::latch done(static_cast<std::ptrdiff_t>(n));
  size_t submitted = 0;
  try {
    for (; submitted < n; ++submitted) {
      readers_.Submit([&, j = submitted] {
        struct CountDown {
          std::latch& latch;
          ~CountDown() { latch.count_down(); }  // whatever happens, the caller does not wait forever
        } count_down{done};
        job(j);
      });
    }
  } catch (...) {  // out of memory queueing a job: the queued ones still use `done` and `job`
    done.count_down(static_cast<std::ptrdiff_t>(n - submitted));
    done.wait();
    throw;
  }
  done.wait();
}

int DiskTier::Load(std::span<const ChainLink> links, std::span<std::byte* const> dest) {
  const size_t n = std::min(links.size(), dest.size());
  const size_t header = EntryHeaderBytes(shape_), payload = shape_.block_bytes();
  int leading = 0;
  int64_t bytes = 0, rejected = 0;
  double read_s = 0, fill_s = 0;
  Status first_bad;
  // Batches of staging slots: read and check (several in flight), then fill the blocks.
  for (size_t start = 0; start < n && static_cast<size_t>(leading) == start; start += staging_slots_) {
    const size_t count = std::min(staging_slots_, n - start);
    std::vector<Status> results(count);
    const auto t0 = std::chrono::steady_clock::now();
    RunOnReaders(count, [&](size_t j) {
      try {
        results[j] = ReadEntry(links[start + j], StagingSlot(j));
      } catch (...) {
        results[j] = IoError("reading a cache entry failed (out of memory?)");
      }
    });
    const auto t1 = std::chrono::steady_clock::now();
    size_t ok = 0;
    while (ok < count && results[ok].ok()) ++ok;
    RunOnReaders(ok, [&](size_t j) { std::memcpy(dest[start + j], StagingSlot(j) + header, payload); });
    const auto t2 = std::chrono::steady_clock::now();
    read_s += std::chrono::duration<double>(t1 - t0).count();
    fill_s += std::chrono::duration<double>(t2 - t1).count();
    leading += static_cast<int>(ok);
    for (const Status& s : results) {
      if (s.ok()) {
        bytes += static_cast<int64_t>(file_bytes_);
      } else if (s.code() != StatusCode::kNotFound) {
        if (rejected++ == 0) first_bad = s;
      }
    }
  }
  std::lock_guard lock(mu_);
  if (rejected > 0 && stats_.rejected == 0) LogWarning("disk cache: an entry was rejected and deleted: {}", first_bad.ToString());
  stats_.rejected += rejected;
  stats_.read_bytes += bytes;
  stats_.read_seconds += read_s;
  stats_.fill_seconds += fill_s;
  stats_.hits += leading;
  return leading;
}

DiskTierStats DiskTier::Stats() const {
  std::lock_guard lock(mu_);
  DiskTierStats s = stats_;
  s.entries = static_cast<int64_t>(known_.size());
  s.bytes_on_disk = known_bytes_;
  return s;
}

}  // namespace frugal::kv
