// The prefix cache's disk tier: full latent blocks kept as files under a byte budget, so that a
// computed prefix outlives RAM eviction and restarts, and is shared by processes that use the
// same directory.
//
// Layout: DIR/kv/XX/KEY.kvb, one file per block, named by its 64-bit chain key (block_key.h) in
// hex (XX: its first two digits), in the format of disk_entry.h. Since the name is the key,
// a lookup is a path, not an index: a process finds what another one wrote while both run.
// Writes are atomic: a unique temporary name (.KEY.PID.N.tmp), write, fsync, rename, fsync of
// the directory; a reader sees a whole entry or none. Every read is checked (disk_entry.h);
// a bad entry is deleted and counted and the block is a miss. Several processes may share a
// directory: per-entry atomicity, no lock (docs/DISK_CACHE.md).
//
// Budget: entries are evicted least recently used first (recency is the file's mtime, set when
// written and when read, so it is shared across processes and restarts). When the bytes this
// process knows of pass the budget, the directory is rescanned (learning what others wrote or
// removed) and the oldest entries are deleted down to 90% of it.
//
// Writes happen on a writer thread: Store() copies the block (encoded, with checksums) into a
// bounded queue and returns; a queued entry is served from memory until it is on disk. A full
// queue drops the write (counted). Reads: Load() reads a chain's entries with several in flight
// (direct I/O where the filesystem allows it) into a read buffer (64 MiB by default), checks
// them, then copies them into the RAM blocks; the two phases are timed apart. I/O errors (a full
// disk, a read-only directory) never fail generation: the tier reports the first one once
// (stderr) and counts the rest.
// Store, Probe and Load are called from one thread (the engine's); Stats from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kv/block_pool.h"
#include "kv/disk_entry.h"
#include "util/status.h"
#include "util/blocking_pool.h"

namespace frugal::kv {

struct DiskTierOptions {
  std::string dir;
  uint64_t budget_bytes = 0;  // 0: half the filesystem's free space when opened
  bool write_through = false;  // store every block when it is completed, not only when evicted
  int read_threads = 8;        // entries read at once
  uint64_t write_queue_bytes = uint64_t{64} << 20;  // at least 4 entries
  uint64_t read_buffer_bytes = uint64_t{64} << 20;  // staging for reads (at least one entry per thread), committed at start
};

// One block of a prefix chain: its parent's key, its key and its token ids.
struct ChainLink {
  uint64_t parent = 0;
  uint64_t key = 0;
  std::span<const int32_t> tokens;
};

struct DiskTierStats {
  int64_t hits = 0;            // blocks read back and used
  int64_t read_bytes = 0;      // bytes of the entries read
  double read_seconds = 0;     // wall time reading and checking entries (Load), into the tier's buffers
  double fill_seconds = 0;     // wall time copying them into RAM blocks (first writes to fresh memory)
  int64_t written = 0;         // entries written
  int64_t written_bytes = 0;
  int64_t writes_dropped = 0;  // the queue was full
  int64_t write_errors = 0;
  int64_t rejected = 0;        // entries found bad (truncated, corrupt, mismatched): deleted, missed
  int64_t evicted = 0;         // entries deleted for the budget
  int64_t entries = 0;         // on disk, as this process knows
  uint64_t bytes_on_disk = 0;
  uint64_t budget_bytes = 0;
  uint64_t queued_bytes = 0;   // waiting to be written
  std::string first_error;     // the first I/O error, empty if none
};

class DiskTier {
 public:
  // Creates DIR/kv if needed and scans it (temporary files of dead writers are removed). An
  // error if the directory cannot be created or read, or the budget holds no entry.
  static StatusOr<std::unique_ptr<DiskTier>> Open(const DiskTierOptions& options, const BlockShape& shape,
                                                  uint64_t model_fingerprint);
  ~DiskTier();  // writes what is queued first
  DiskTier(const DiskTier&) = delete;
  DiskTier& operator=(const DiskTier&) = delete;

  const BlockShape& shape() const { return shape_; }
  bool write_through() const { return options_.write_through; }
  const std::string& dir() const { return options_.dir; }

  // Queues `data` (one block, shape().block_bytes()) for writing under `key`, unless an entry
  // for it is known on disk or queued. A full queue drops it (false), or with `wait` (shutdown:
  // nothing may be lost) waits for room.
  bool Store(uint64_t parent, uint64_t key, std::span<const int32_t> tokens, const std::byte* data, bool wait = false);
  // How many leading links have an entry (on disk or queued); nothing is read.
  int Probe(std::span<const ChainLink> links) const;
  // Reads the entries of links[i] into dest[i] (block storage), several at once; returns how
  // many leading ones were read whole and checked. Bad entries are deleted.
  int Load(std::span<const ChainLink> links, std::span<std::byte* const> dest);
  // Waits until every queued entry is written (or failed).
  void Drain();
  DiskTierStats Stats() const;

  std::string PathOf(uint64_t key) const;

 private:
  struct Pending {
    uint64_t key;
    std::shared_ptr<std::vector<std::byte>> image;
  };
  struct Known {
    uint64_t bytes;
    int64_t mtime_ns;
  };
  DiskTier(const DiskTierOptions& options, const BlockShape& shape, uint64_t fingerprint);
  void Scan();
  void WriterLoop();
  Status WriteEntry(uint64_t key, const std::vector<std::byte>& image);
  void EvictOverBudget();
  // Reads one entry (whole file) into `file`; OK, NotFound, or why it was rejected.
  Status ReadEntry(const ChainLink& link, std::byte* file);
  // Runs job(0..n-1) on the reader threads; returns when all are done. job must not throw.
  void RunOnReaders(size_t n, const std::function<void(size_t)>& job);
  std::byte* StagingSlot(size_t i) { return staging_.get() + i * file_bytes_; }
  void ReportError(const Status& s);

  DiskTierOptions options_;
  BlockShape shape_;
  uint64_t fingerprint_;
  size_t file_bytes_;
  std::string root_;  // DIR/kv

  mutable std::mutex mu_;
  std::condition_variable wake_writer_, written_;
  std::deque<Pending> queue_;
  std::unordered_map<uint64_t, std::shared_ptr<std::vector<std::byte>>> pending_;
  std::unordered_map<uint64_t, Known> known_;  // entries on disk, as this process knows
  uint64_t known_bytes_ = 0;
  bool writing_ = false;
  bool stop_ = false;
  DiskTierStats stats_;
  std::atomic<bool> error_reported_{false};
  std::atomic<uint64_t> temp_counter_{0};

  BlockingPool readers_;
  struct Free {
    void operator()(std::byte* p) const { std::free(p); }
  };
  // Entries being read land here (page-aligned, for direct I/O), then are copied into blocks.
  std::unique_ptr<std::byte, Free> staging_;
  size_t staging_slots_ = 0;
  std::thread writer_;
};

}  // namespace frugal::kv
