#include "experts/read_queue.h"

#if FRUGAL_HAVE_LIBURING
#include <liburing.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>
#endif

namespace frugal::experts {

#if FRUGAL_HAVE_LIBURING
namespace {

// One ring: submissions under a mutex from any thread, completions reaped by one thread that
// resubmits the rest of a short read (until the needed bytes are in, or the file ends) and
// retries EAGAIN/EINTR; it waits with a timeout so that it sees the stop flag. If a submit fails
// (the kernel refuses the ring), that read and every waiting and later one fail with the error —
// a caller never waits for a completion that cannot come; reads already in the ring finish
// normally (their buffers are the kernel's until then).
class UringQueue : public ReadQueue {
 public:
  UringQueue(int fd, std::string name, unsigned depth) : fd_(fd), name_(std::move(name)), depth_(depth) {}
  Status Init() {
    const int r = io_uring_queue_init(depth_, &ring_, 0);
    if (r < 0) return IoError("io_uring_queue_init: {}", std::strerror(-r));
    ready_ = true;
    reaper_ = std::thread([this] { Reap(); });
    return OkStatus();
  }
  ~UringQueue() override {
    if (!ready_) return;
    {
      std::unique_lock lock(mu_);
      idle_.wait(lock, [this] { return live_.empty() && waiting_.empty(); });
    }
    stop_.store(true);
    reaper_.join();
    io_uring_queue_exit(&ring_);
  }
  void Submit(SliceRead r) override {
    auto* op = new Op{std::move(r), 0};
    std::vector<Op*> failed;
    {
      std::lock_guard lock(mu_);
      Queue(op, &failed);
    }
    Fail(failed);
  }
  const char* kind() const override { return "io_uring"; }

 private:
  struct Op {
    SliceRead read;
    size_t done_bytes;
  };
  io_uring_sqe* GetSqe() {  // lock held; never null: at most depth_ reads are in the ring
    io_uring_sqe* sqe;
    while ((sqe = io_uring_get_sqe(&ring_)) == nullptr) io_uring_submit(&ring_);
    return sqe;
  }
  // Lock held. At most depth_ in flight, the rest wait; on a broken ring the op goes to *failed.
  void Queue(Op* op, std::vector<Op*>* failed) {
    if (!broken_.ok()) {
      failed->push_back(op);
      return;
    }
    if (live_.size() >= depth_) {
      if (op->read.urgent) {
        waiting_.push_front(op);
      } else {
        waiting_.push_back(op);
      }
      return;
    }
    io_uring_sqe* sqe = GetSqe();
    io_uring_prep_read(sqe, fd_, op->read.dst + op->done_bytes, static_cast<unsigned>(op->read.length - op->done_bytes),
                       op->read.offset + op->done_bytes);
    io_uring_sqe_set_data(sqe, op);
    int r;
    while ((r = io_uring_submit(&ring_)) == -EINTR || r == -EAGAIN || r == -EBUSY) {
    }
    if (r < 0) {
      Break(IoError("io_uring submit failed on '{}': {}", name_, std::strerror(-r)), failed);
      failed->push_back(op);
      return;
    }
    live_.insert(op);
  }
  // Lock held: no more submissions; the waiting reads fail (those in the ring still complete).
  void Break(Status why, std::vector<Op*>* failed) {
    if (broken_.ok()) broken_ = std::move(why);
    failed->insert(failed->end(), waiting_.begin(), waiting_.end());
    waiting_.clear();
    if (live_.empty()) idle_.notify_all();
  }
  // Lock not held.
  void Fail(const std::vector<Op*>& ops) {
    Status why;
    {
      std::lock_guard lock(mu_);
      why = broken_;
    }
    for (Op* op : ops) Finish(op, why);
  }
  static void Finish(Op* op, Status s) {
    try {
      op->read.done(std::move(s));
    } catch (...) {  // done must not throw; never let it end a thread
    }
    delete op;
  }
  void Reap() {
    for (;;) {
      io_uring_cqe* cqe = nullptr;
      __kernel_timespec timeout{.tv_sec = 0, .tv_nsec = 100'000'000};
      const int w = io_uring_wait_cqe_timeout(&ring_, &cqe, &timeout);
      if (w < 0) {
        if (stop_.load()) return;  // only set once nothing is in the ring
        if (w != -ETIME && w != -EINTR) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      auto* op = static_cast<Op*>(io_uring_cqe_get_data(cqe));
      const int res = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      if (op == nullptr) continue;
      Status status;
      bool finished = true;
      if (res == -EAGAIN || res == -EINTR) {
        finished = false;
      } else if (res < 0) {
        status = IoError("read of {} bytes at offset {} failed on '{}': {}", op->read.length - op->done_bytes,
                         op->read.offset + op->done_bytes, name_, std::strerror(-res));
      } else if (res == 0) {  // end of file
        if (op->done_bytes < op->read.needed) status = IoError("unexpected end of '{}' at offset {}", name_, op->read.offset + op->done_bytes);
      } else {
        op->done_bytes += static_cast<size_t>(res);
        // A short read at the end of the file is complete once the needed bytes are in (the rest
        // of an aligned range may lie past the end); elsewhere the rest is read again.
        finished = op->done_bytes >= op->read.needed;
      }
      std::vector<Op*> failed;
      {
        std::lock_guard lock(mu_);
        live_.erase(op);
        if (!finished) Queue(op, &failed);  // the rest of a short read, or a retry
        while (live_.size() < depth_ && !waiting_.empty() && broken_.ok()) {
          Op* next = waiting_.front();
          waiting_.pop_front();
          Queue(next, &failed);
        }
        if (live_.empty() && waiting_.empty()) idle_.notify_all();
      }
      if (finished) Finish(op, std::move(status));
      Fail(failed);
    }
  }

  const int fd_;
  const std::string name_;
  const unsigned depth_;
  io_uring ring_{};
  bool ready_ = false;
  std::mutex mu_;
  std::condition_variable idle_;
  std::unordered_set<Op*> live_;  // in the ring
  std::deque<Op*> waiting_;
  Status broken_;
  std::atomic<bool> stop_{false};
  std::thread reaper_;
};

}  // namespace

StatusOr<std::unique_ptr<ReadQueue>> NewUringQueue(int fd, const std::string& name, unsigned depth) {
  auto q = std::make_unique<UringQueue>(fd, name, depth);
  FRUGAL_RETURN_IF_ERROR(q->Init());
  return std::unique_ptr<ReadQueue>(std::move(q));
}
#else
StatusOr<std::unique_ptr<ReadQueue>> NewUringQueue(int, const std::string&, unsigned) {
  return Unimplemented("this build has no io_uring (liburing-dev was not installed)");
}
#endif

}  // namespace frugal::experts
