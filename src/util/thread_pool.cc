#include "util/thread_pool.h"

#include <algorithm>

namespace frugal {
namespace {

// About 50 µs of spinning before a worker sleeps: long enough to cover the gap between the
// kernels of one layer, short enough not to burn a core when the engine is idle.
constexpr int kSpinsBeforeSleep = 20000;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

int DefaultThreadCount() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(std::max(1, n_threads)), shares_(static_cast<size_t>(n_threads_)) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::CallJob(int64_t begin, int64_t end, int index) {
  if (job_failed_.load(std::memory_order_relaxed)) return;
  try {
    (*job_fn_)(begin, end, index);
  } catch (...) {
    const std::lock_guard<std::mutex> lock(error_mutex_);
    if (!job_error_) job_error_ = std::current_exception();
    job_failed_.store(true);
  }
}

void ThreadPool::RunShare(int index) {
  if (job_chunk_ > 0) {
    // Ranges shrink towards the end of a share (half of what is left, down to an eighth of the
    // chunk), so that the last range of a job, which the other threads wait for, is short.
    const int64_t min_chunk = std::max<int64_t>(1, job_chunk_ / 8);
    for (int k = 0; k < n_threads_; ++k) {  // own share first, then the others'
      Share& share = shares_[static_cast<size_t>((index + k) % n_threads_)];
      int64_t begin = share.next.load();
      while (begin < share.end) {
        const int64_t size = std::clamp((share.end - begin) / 2, min_chunk, job_chunk_);
        if (!share.next.compare_exchange_weak(begin, begin + size)) continue;  // begin reloaded
        CallJob(begin, std::min(share.end, begin + size), index);
        begin = share.next.load();
      }
    }
    return;
  }
  const int64_t begin = job_n_ * index / n_threads_;
  const int64_t end = job_n_ * (index + 1) / n_threads_;
  if (begin < end) CallJob(begin, end, index);
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t g;
    int spins = 0;
    while ((g = generation_.load()) == seen) {
      if (++spins < kSpinsBeforeSleep) {
        CpuRelax();
        continue;
      }
      // Dekker-style with ParallelFor: sleepers_ is raised before the wait, and wait(seen)
      // returns at once if the generation has already moved, so no wake-up is lost.
      sleepers_.fetch_add(1);
      generation_.wait(seen);
      sleepers_.fetch_sub(1);
      spins = 0;
    }
    seen = g;
    if (stop_.load()) return;
    RunShare(index);
    pending_.fetch_sub(1);
  }
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) {
  Run(n, 0, fn);
}

void ThreadPool::ParallelForDynamic(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t, int)>& fn) {
  Run(n, std::max<int64_t>(1, chunk), fn);
}

void ThreadPool::Run(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t, int)>& fn) {
  if (n <= 0) return;
  if (n_threads_ == 1) {
    if (chunk == 0) chunk = n;
    for (int64_t begin = 0; begin < n; begin += chunk) fn(begin, std::min(n, begin + chunk), 0);
    return;
  }
  job_n_ = n;
  job_chunk_ = chunk;
  if (chunk > 0) {
    for (int i = 0; i < n_threads_; ++i) {
      shares_[static_cast<size_t>(i)].next.store(n * i / n_threads_);
      shares_[static_cast<size_t>(i)].end = n * (i + 1) / n_threads_;
    }
  }
  job_fn_ = &fn;
  job_failed_.store(false);
  job_error_ = nullptr;
  pending_.store(n_threads_ - 1);
  generation_.fetch_add(1);
  if (sleepers_.load() > 0) generation_.notify_all();
  RunShare(0);
  while (pending_.load() != 0) CpuRelax();
  job_fn_ = nullptr;
  if (job_failed_.load()) std::rethrow_exception(job_error_);
}

}  // namespace frugal
