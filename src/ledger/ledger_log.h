// The ledger's file: an append-only JSONL log, one record per line, each line written whole and
// fdatasync'd before Append returns. When the file would pass its size limit it is renamed to
// the next free `PATH.N` (1, 2, …: higher is newer) and a new PATH begins; nothing is ever
// deleted (it is a bill). Several processes may append to one path: an exclusive flock on PATH
// covers each rotation and write, and a writer whose file was rotated by another reopens PATH.
// Reading takes PATH.1 … PATH.N then PATH, skipping (and counting) lines that are not records —
// a line torn by a crash, or edited by hand. Thread-safe (Append serializes).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ledger/ledger_record.h"
#include "util/status.h"

namespace frugal::ledger {

struct LedgerLogOptions {
  std::string path;
  uint64_t rotate_bytes = uint64_t{64} << 20;  // rename the file to PATH.N past this size
};

class LedgerLog {
 public:
  // Creates the file if needed (not its directory).
  static StatusOr<std::unique_ptr<LedgerLog>> Open(const LedgerLogOptions& options);
  ~LedgerLog();
  LedgerLog(const LedgerLog&) = delete;
  LedgerLog& operator=(const LedgerLog&) = delete;

  // Writes the record as one line and syncs it. An error (disk full, file gone) leaves the
  // file as it was before the call, but for a torn tail that the next Append ends with a newline.
  Status Append(const LedgerRecord& record);
  const std::string& path() const { return options_.path; }

 private:
  explicit LedgerLog(const LedgerLogOptions& options) : options_(options) {}
  Status Reopen();                  // mutex held
  Status RotateIfFull(uint64_t add);  // mutex and flock held

  const LedgerLogOptions options_;
  std::mutex mu_;
  int fd_ = -1;
};

struct LedgerContents {
  std::vector<LedgerRecord> records;  // oldest file first, in file order
  std::vector<std::string> files;     // read, in order
  int64_t bad_lines = 0;              // not records (skipped)
  std::string first_bad;              // the first one's file:line and why
};

// The records of PATH and its rotated files. Not found: an error naming PATH.
StatusOr<LedgerContents> ReadLedger(const std::string& path);

}  // namespace frugal::ledger
