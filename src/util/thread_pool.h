// A fixed set of worker threads that run one parallel-for at a time, with few microseconds per
// synchronization: idle workers spin briefly on an atomic generation counter before sleeping on
// it (C++20 atomic wait), and the caller spins until the shares are done. ParallelFor is called
// from one owner thread (thread-compatible); the workers are internal. An exception thrown by a
// job (std::bad_alloc, say) never escapes a worker: the remaining ranges are skipped, every
// thread finishes, and the first exception is rethrown to the caller of ParallelFor.
#pragma once

#include <atomic>
#include <exception>
#include <mutex>
#include <cstdint>
#include <functional>
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
  // Like ParallelFor, but in ranges of at most `chunk` items taken from counters: each thread
  // first works through its own contiguous share (as ParallelFor would give it) front to back,
  // then takes what is left of the other shares, so a thread on a faster (or less shared) core
  // does more of the work while each thread still streams through one region of memory (the
  // hardware prefetcher and the kernels' prefetches run ahead into the same thread's next
  // range). Ranges shrink near the end of each share (down to chunk / 8) so that the threads
  // finish close together. fn may be called several times per thread.
  void ParallelForDynamic(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t, int)>& fn);

 private:
  void WorkerLoop(int index);
  void RunShare(int index);
  void Run(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t, int)>& fn);
  // Calls the job on [begin, end) unless it has failed; records the first failure.
  void CallJob(int64_t begin, int64_t end, int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> generation_{0};  // bumped once per job (and at shutdown)
  std::atomic<int> pending_{0};          // workers still running the current job
  std::atomic<int> sleepers_{0};         // workers blocked in generation_.wait
  std::atomic<bool> stop_{false};
  int64_t job_n_ = 0;                    // written before generation_ is bumped
  int64_t job_chunk_ = 0;                // 0: static shares; else the dynamic chunk
  struct alignas(64) Share {             // one thread's part of a dynamic job
    std::atomic<int64_t> next{0};        // its next unclaimed item
    int64_t end = 0;
  };
  std::vector<Share> shares_;
  const std::function<void(int64_t, int64_t, int)>* job_fn_ = nullptr;
  std::atomic<bool> job_failed_{false};
  std::mutex error_mutex_;
  std::exception_ptr job_error_;  // the first exception of the current job
};

// Number of hardware threads (at least 1).
int DefaultThreadCount();

}  // namespace frugal
