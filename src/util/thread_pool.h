// A fixed set of worker threads that run one parallel-for at a time.
// ParallelFor is called from one owner thread (thread-compatible); the workers are internal.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace frugal {

class ThreadPool {
 public:
  // n_threads counts the calling thread: n_threads = 1 runs everything inline.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  // Splits [0, n) into contiguous ranges, one per thread, and calls fn(begin, end, thread_index)
  // on each; returns when all are done.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn);

 private:
  void WorkerLoop(int index);
  void RunShare(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  uint64_t generation_ = 0;  // bumped per job, guarded by mu_
  int pending_ = 0;          // workers still running the current job, guarded by mu_
  bool stop_ = false;
  int64_t job_n_ = 0;
  const std::function<void(int64_t, int64_t, int)>* job_fn_ = nullptr;
};

// Number of hardware threads (at least 1).
int DefaultThreadCount();

}  // namespace frugal
