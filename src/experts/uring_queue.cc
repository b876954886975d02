#include "experts/read_queue.h"

#if FRUGAL_HAVE_LIBURING
#include <liburing.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#endif

namespace frugal::experts {

#if FRUGAL_HAVE_LIBURING
namespace {

// One ring: submissions under a mutex from any thread, completions reaped by one thread that
// resubmits the rest of a short read (until the needed bytes are in, or the file ends) and
// retries EAGAIN/EINTR. A NOP with a null user_data stops the reaper.
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
      idle_.wait(lock, [this] { return in_flight_ == 0 && waiting_.empty(); });
      io_uring_sqe* sqe = GetSqe();
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data(sqe, nullptr);
      io_uring_submit(&ring_);
    }
    reaper_.join();
    io_uring_queue_exit(&ring_);
  }
  void Submit(SliceRead r) override {
    auto* op = new Op{std::move(r), 0};
    std::lock_guard lock(mu_);
    Queue(op);
  }
  const char* kind() const override { return "io_uring"; }

 private:
  struct Op {
    SliceRead read;
    size_t done_bytes;
  };
  io_uring_sqe* GetSqe() {  // lock held
    io_uring_sqe* sqe;
    while ((sqe = io_uring_get_sqe(&ring_)) == nullptr) io_uring_submit(&ring_);
    return sqe;
  }
  void Queue(Op* op) {  // lock held; at most depth_ in flight, the rest wait
    if (in_flight_ >= depth_) {
      waiting_.push_back(op);
      return;
    }
    ++in_flight_;
    io_uring_sqe* sqe = GetSqe();
    io_uring_prep_read(sqe, fd_, op->read.dst + op->done_bytes, static_cast<unsigned>(op->read.length - op->done_bytes),
                       op->read.offset + op->done_bytes);
    io_uring_sqe_set_data(sqe, op);
    io_uring_submit(&ring_);
  }
  void Reap() {
    for (;;) {
      io_uring_cqe* cqe = nullptr;
      const int w = io_uring_wait_cqe(&ring_, &cqe);
      if (w == -EINTR) continue;
      if (w < 0) return;  // the ring is broken: nothing more can arrive
      auto* op = static_cast<Op*>(io_uring_cqe_get_data(cqe));
      const int res = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);
      if (op == nullptr) return;
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
      if (finished) {
        try {
          op->read.done(std::move(status));
        } catch (...) {  // done must not throw; never let it end the reaper
        }
        delete op;
      }
      std::lock_guard lock(mu_);
      --in_flight_;
      if (!finished) Queue(op);  // the rest of a short read, or a retry
      while (in_flight_ < depth_ && !waiting_.empty()) {
        Op* next = waiting_.front();
        waiting_.pop_front();
        Queue(next);
      }
      if (in_flight_ == 0 && waiting_.empty()) idle_.notify_all();
    }
  }

  const int fd_;
  const std::string name_;
  const unsigned depth_;
  io_uring ring_{};
  bool ready_ = false;
  std::mutex mu_;
  std::condition_variable idle_;
  unsigned in_flight_ = 0;
  std::deque<Op*> waiting_;
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
