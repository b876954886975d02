// Appends ledger records on a thread of its own, so that the engine thread never waits for the
// ledger's fsync. Push never blocks; the destructor writes what is queued before it returns. A
// failed append is retried with the next record (records stay queued, up to kMaxQueued; beyond
// that the oldest are dropped and counted) and reported once per failure streak. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "ledger/ledger_log.h"

namespace frugal::ledger {

class LedgerWriter {
 public:
  static constexpr size_t kMaxQueued = 100000;
  explicit LedgerWriter(std::unique_ptr<LedgerLog> log);
  ~LedgerWriter();
  LedgerWriter(const LedgerWriter&) = delete;
  LedgerWriter& operator=(const LedgerWriter&) = delete;

  void Push(LedgerRecord record);
  // Waits until every record pushed so far is written (or failed).
  void Flush();
  uint64_t written() const;
  uint64_t dropped() const;
  const std::string& path() const { return log_->path(); }

 private:
  void Run();

  const std::unique_ptr<LedgerLog> log_;
  mutable std::mutex mu_;
  std::condition_variable wake_, done_;
  std::deque<LedgerRecord> queue_;
  bool stop_ = false, writing_ = false, failing_ = false;
  uint64_t written_ = 0, dropped_ = 0;
  std::thread thread_;
};

}  // namespace frugal::ledger
