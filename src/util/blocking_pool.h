// Threads that run blocking jobs (reads: pread on an O_DIRECT file) so that several are in flight at
// once: the device sees a queue, not one request at a time. Jobs run in submission order on
// the first free thread. A job that throws is the job's bug: it is caught and dropped, never
// escapes a thread. The destructor runs the queued jobs, then joins. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace frugal {

class BlockingPool {
 public:
  explicit BlockingPool(int n_threads);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Urgent jobs go ahead of the queued others.
  void Submit(std::function<void()> job, bool urgent = false);

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace frugal
