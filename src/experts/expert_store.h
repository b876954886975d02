// The tiered expert store: every routed expert (layer, id) lives either in a RAM slot — the
// RAM tier, a fixed number of slots under a byte budget — or only in the model file on disk,
// read with direct I/O (O_DIRECT: the page cache does not keep a second copy behind the
// budget). The forward pass acquires the experts a layer's tokens were routed to, once per step
// for all of them; missing ones are read then, all in flight at once (each expert's three
// slices as separate reads on a ReadQueue: io_uring or pread threads), and stay pinned until the
// lease ends. A replacement policy (replacement_policy.h) picks the slots to refill; a pinned hot
// set can be loaded at start. Prefetch() starts reads for experts predicted to be needed soon
// without waiting for them; predictions that their layer did not use become the first victims. A read that fails fails the Acquire that needs it, naming the expert and
// the file; the slot is emptied and the store serves later requests. Thread-safe (one engine
// thread acquires; the I/O threads complete reads).
#pragma once

#include <climits>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "experts/expert_layout.h"
#include "experts/read_queue.h"
#include "experts/replacement_policy.h"
#include "io/file.h"
#include "model/expert_source.h"
#include "util/huge_page_region.h"
#include "util/status.h"

namespace frugal::experts {

struct ExpertStoreOptions {
  uint64_t budget_bytes = 0;  // RAM tier: floor(budget / largest expert) slots
  PolicyKind policy = PolicyKind::kLru;
  // kPinned: experts loaded at creation and never evicted, hottest first; as many as fit while
  // leaving max(2 × top-k, a quarter of the slots) for the others.
  std::vector<ExpertKey> hot_set;
  int io_threads = 8;  // reads in flight
  // "auto": io_uring on a direct-I/O file where the build and kernel allow, else pread threads;
  // "io_uring" (an error where unavailable) or "pread".
  std::string io_engine = "auto";
};

struct ExpertStoreStats {
  std::vector<uint64_t> accesses, hits;  // per layer: experts acquired (one per step and layer), found in RAM
  uint64_t expert_bytes_read = 0;        // from disk
  uint64_t expert_bytes_served = 0;      // from RAM (hits)
  uint64_t demand_reads = 0, prefetch_reads = 0;  // experts read
  uint64_t failed_reads = 0;
  double io_stall_s = 0;                 // time Acquire waited for reads
  uint64_t predicted = 0;                // experts Prefetch() was told about
  uint64_t predicted_used = 0;           // of them, acquired in the same step
  int slots = 0, pinned_slots = 0;
  uint64_t slot_bytes = 0, budget_bytes = 0;
  bool direct_io = false;
  const char* io_engine = "";  // "io_uring" or "pread"
  PolicyKind policy = PolicyKind::kLru;

  uint64_t Accesses() const;
  uint64_t Hits() const;
  double HitRate() const;           // hits / accesses (1 when nothing was acquired)
  double PrefetchAccuracy() const;  // predicted_used / predicted (0 when nothing was predicted)
};

using model::ExpertLease;
using model::ExpertRows;

class ExpertStore : public model::ExpertSource {
 public:
  static StatusOr<std::unique_ptr<ExpertStore>> Create(ExpertLayout layout, std::unique_ptr<io::RandomAccessFile> file,
                                                       const ExpertStoreOptions& options);
  ~ExpertStore() override;  // waits for reads in flight
  ExpertStore(const ExpertStore&) = delete;
  ExpertStore& operator=(const ExpertStore&) = delete;

  // A forward step begins: predictions (Prefetch) are matched against the step's acquisitions.
  void BeginStep() override;
  // Pins the distinct experts `ids` of `layer` in RAM (reading the missing ones) and returns
  // their rows, in the order of ids. At most wave_limit() ids per call.
  StatusOr<ExpertLease> Acquire(int layer, std::span<const int> ids) override;
  // Starts reading those of `ids` that are not in RAM, into slots no one uses; returns at once.
  void Prefetch(int layer, std::span<const int> ids) override;
  // The most experts one Acquire may take: the slots outside the pinned hot set.
  int wave_limit() const override { return n_slots_ - n_pinned_; }
  // Steps of at least this many tokens prefetch (0: all; INT_MAX: none). Default
  // kPrefetchMinTokens: on the test VM prefetching paid for prefill steps but cost decode
  // 15–30% (wrong guesses read 3–7× the bytes; BENCHMARKS "Expert store").
  static constexpr int kPrefetchMinTokens = 32;
  bool PrefetchFor(int step_tokens) const override { return step_tokens >= prefetch_min_tokens_; }
  void set_prefetch(bool on) { prefetch_min_tokens_ = on ? 0 : INT_MAX; }
  void set_prefetch_min_tokens(int n) { prefetch_min_tokens_ = n; }

  ExpertStoreStats Stats() const;
  model::ExpertTraffic Traffic() const override;
  const ExpertLayout& layout() const { return layout_; }
  const std::string& file_name() const { return file_->name(); }

 private:
  enum class SlotState { kEmpty, kLoading, kReady, kFailed };
  struct Slot {
    ExpertKey key;
    SlotState state = SlotState::kEmpty;
    int pins = 0;
    int parts_left = 0;
    bool speculative = false;  // read by Prefetch and not acquired yet
    Status error;
    std::byte* base = nullptr;
  };
  ExpertStore(ExpertLayout layout, std::unique_ptr<io::RandomAccessFile> file, const ExpertStoreOptions& options,
              int n_slots, uint64_t slot_bytes);
  Status StartQueue(const ExpertStoreOptions& options);
  Status MapSlots();
  size_t KeyIndex(int layer, int id) const { return static_cast<size_t>(layer) * max_experts_ + static_cast<size_t>(id); }
  // Takes a slot for `key` and starts its reads (lock held). -1 if every slot is in use or being read.
  int StartRead(const ExpertKey& key, int pins, bool urgent);
  void ReadPart(int slot, ExpertKey key, int part, bool urgent);
  void PartDone(int slot, ExpertKey key, int part, Status s);
  void ClearSlot(int slot);  // lock held
  // Prefetched experts of layers before `layer` (all: INT_MAX) that were not acquired were wrong
  // predictions: they become the first victims, so the next prefetch does not push out experts
  // that are used (lock held).
  void DemoteUnused(int layer);
  ExpertRows RowsOf(int slot) const;
  void Release(std::span<const int> slots);
  // Pins the experts' slots (reading the missing ones); slots[i] receives ids[i]'s slot.
  Status Pin(int layer, std::span<const int> ids, std::vector<int>* slots);
  Status LoadHotSet(const std::vector<ExpertKey>& keys);

  const ExpertLayout layout_;
  const std::unique_ptr<io::RandomAccessFile> file_;
  const int n_slots_;
  const uint64_t slot_bytes_;
  const size_t max_experts_;
  uint64_t budget_bytes_;
  int n_pinned_ = 0;
  int prefetch_min_tokens_ = kPrefetchMinTokens;
  // Per layer, the offset of each part inside a slot (aligned for direct reads).
  std::vector<std::array<uint64_t, 3>> part_offsets_;
  HugePageRegion region_;  // the slots; resident as they are filled

  mutable std::mutex mu_;
  std::condition_variable changed_;  // a read finished or a pin was released
  std::vector<Slot> slots_;
  std::vector<int> index_;            // KeyIndex → slot, -1 when on disk only
  std::vector<uint8_t> predicted_;    // KeyIndex → predicted in this step
  std::vector<size_t> predicted_list_;
  std::vector<int> speculative_;      // slots read by Prefetch, not yet acquired or demoted
  ReplacementPolicy policy_;
  int reads_in_flight_ = 0;
  ExpertStoreStats stats_;
  std::unique_ptr<ReadQueue> reads_;  // last: its threads stop before the state they touch goes
};

// "25%" (of `total_bytes`), "512M", "2G", "1.5GiB" or a byte count; 1024-based units.
StatusOr<uint64_t> ParseExpertBudget(const std::string& text, uint64_t total_bytes);

}  // namespace frugal::experts
