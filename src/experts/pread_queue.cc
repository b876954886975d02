#include <algorithm>

#include "util/blocking_pool.h"
#include "experts/read_queue.h"

namespace frugal::experts {
namespace {

class PreadQueue : public ReadQueue {
 public:
  PreadQueue(const io::RandomAccessFile& file, int threads) : file_(file), pool_(threads) {}
  void Submit(SliceRead r) override {
    const bool urgent = r.urgent;
    pool_.Submit([this, r = std::move(r)] {
      Status s;
      try {
        // The file may end inside the aligned range: read only what exists.
        const uint64_t end = std::min<uint64_t>(r.offset + r.length, file_.Size());
        s = end < r.offset + r.needed ? OutOfRange("'{}' ends at {}, before the {} bytes needed at {}", file_.name(), file_.Size(),
                                                  r.needed, r.offset)
                                      : file_.ReadAt(r.offset, {r.dst, static_cast<size_t>(end - r.offset)});
      } catch (const std::exception& e) {
        s = MakeStatus(StatusCode::kInternal, "a read threw: {}", e.what());
      }
      r.done(std::move(s));
    }, urgent);
  }
  const char* kind() const override { return "pread"; }

 private:
  const io::RandomAccessFile& file_;
  BlockingPool pool_;  // destroyed first: its threads finish before file_ may go
};

}  // namespace

std::unique_ptr<ReadQueue> NewPreadQueue(const io::RandomAccessFile& file, int threads) {
  return std::make_unique<PreadQueue>(file, std::max(1, threads));
}

}  // namespace frugal::experts
