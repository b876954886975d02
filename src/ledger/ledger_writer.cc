#include "ledger/ledger_writer.h"

#include <chrono>

#include "util/log.h"

namespace frugal::ledger {

LedgerWriter::LedgerWriter(std::unique_ptr<LedgerLog> log) : log_(std::move(log)), thread_([this] { Run(); }) {}

LedgerWriter::~LedgerWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LedgerWriter::Push(LedgerRecord record) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      queue_.pop_front();
      ++dropped_;
    }
    queue_.push_back(std::move(record));
  }
  wake_.notify_one();
}

void LedgerWriter::Flush() {
  std::unique_lock lock(mu_);
  done_.wait(lock, [&] { return (queue_.empty() || failing_) && !writing_; });
}

uint64_t LedgerWriter::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

uint64_t LedgerWriter::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void LedgerWriter::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, all written
    LedgerRecord r = queue_.front();
    writing_ = true;
    lock.unlock();
    const Status s = log_->Append(r);
    lock.lock();
    writing_ = false;
    if (s.ok()) {
      if (failing_) LogInfo("ledger {}: writing again", log_->path());
      failing_ = false;
      queue_.pop_front();
      ++written_;
    } else {
      if (!failing_) LogError("ledger: {} (records stay queued and are retried)", s.ToString());
      failing_ = true;
      if (stop_) {  // no retry at exit: what is left is counted as dropped
        dropped_ += queue_.size();
        queue_.clear();
      } else {
        done_.notify_all();
        wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; });
      }
    }
    done_.notify_all();
  }
}

}  // namespace frugal::ledger
