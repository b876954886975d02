// A once-only initialization without system calls, for work of microseconds between threads
// that spin anyway (the compute pool's). glibc's std::call_once ends every first call with a
// futex wake — a system call, one per prepared input of every product in a decode step — and a
// thread that finds the work running sleeps on a futex; here it spins (pausing, then yielding)
// until the work is done. As std::call_once: if fn throws, nothing is marked done, the
// exception reaches that caller, and the next caller (or one that was waiting) runs its own fn.
#pragma once

#include <atomic>
#include <thread>

namespace frugal {

class SpinOnce {
 public:
  SpinOnce() = default;
  SpinOnce(const SpinOnce&) = delete;
  SpinOnce& operator=(const SpinOnce&) = delete;

  // Runs fn unless a call before it completed; returns once some call's fn has completed.
  template <typename Fn>
  void Run(Fn&& fn) {
    if (state_.load(std::memory_order_acquire) == kDone) return;
    for (;;) {
      int expected = kNone;
      if (state_.compare_exchange_strong(expected, kRunning, std::memory_order_acquire)) {
        try {
          fn();
        } catch (...) {
          state_.store(kNone, std::memory_order_release);
          throw;
        }
        state_.store(kDone, std::memory_order_release);
        return;
      }
      if (expected == kDone) return;
      for (int spins = 0; state_.load(std::memory_order_acquire) == kRunning; ++spins) {
        if (spins < 4096) {
          __builtin_ia32_pause();
        } else {
          std::this_thread::yield();
        }
      }
      if (state_.load(std::memory_order_acquire) == kDone) return;  // else it threw: try ourselves
    }
  }
  bool done() const { return state_.load(std::memory_order_acquire) == kDone; }

 private:
  static constexpr int kNone = 0, kRunning = 1, kDone = 2;
  std::atomic<int> state_{kNone};
};

}  // namespace frugal
