#include "util/blocking_pool.h"

namespace frugal {

BlockingPool::BlockingPool(int n_threads) {
  for (int i = 0; i < n_threads; ++i) threads_.emplace_back([this] { Loop(); });
}

BlockingPool::~BlockingPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void BlockingPool::Submit(std::function<void()> job, bool urgent) {
  {
    std::lock_guard lock(mu_);
    if (urgent) {
      jobs_.push_front(std::move(job));
    } else {
      jobs_.push_back(std::move(job));
    }
  }
  cv_.notify_one();
}

void BlockingPool::Loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (...) {  // a job reports its own errors; nothing may escape the thread
    }
  }
}

}  // namespace frugal
