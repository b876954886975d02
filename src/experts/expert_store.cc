#include "experts/expert_store.h"


#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <chrono>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace frugal::experts {
namespace {

constexpr uint64_t kAlign = io::kDirectIoAlignment;

uint64_t RoundUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// The bytes a slice's read covers: from the aligned start before it to the aligned end after it.
uint64_t AlignedSpan(uint64_t bytes) { return RoundUp(bytes, kAlign) + kAlign; }

}  // namespace

uint64_t ExpertStoreStats::Accesses() const {
  uint64_t n = 0;
  for (uint64_t a : accesses) n += a;
  return n;
}

uint64_t ExpertStoreStats::Hits() const {
  uint64_t n = 0;
  for (uint64_t h : hits) n += h;
  return n;
}

double ExpertStoreStats::HitRate() const {
  const uint64_t a = Accesses();
  return a == 0 ? 1.0 : static_cast<double>(Hits()) / static_cast<double>(a);
}

double ExpertStoreStats::PrefetchAccuracy() const {
  return predicted == 0 ? 0.0 : static_cast<double>(predicted_used) / static_cast<double>(predicted);
}

StatusOr<std::unique_ptr<ExpertStore>> ExpertStore::Create(ExpertLayout layout, std::unique_ptr<io::RandomAccessFile> file,
                                                           const ExpertStoreOptions& options) {
  const uint64_t largest = layout.MaxExpertBytes();
  if (largest == 0) return InvalidArgument("the model has no routed experts to keep in a store");
  for (int l = 0; l < layout.n_layers(); ++l) {
    const LayerExperts& le = layout.layers[static_cast<size_t>(l)];
    for (const SliceShape& p : le.parts) {
      if (le.n_experts > 0 && p.file_offset + p.bytes * static_cast<uint64_t>(le.n_experts) > file->Size()) {
        return DataLoss("layer {}'s experts lie past the end of '{}'", l, file->name());
      }
    }
  }
  const uint64_t n_slots = options.budget_bytes / largest;
  const int top_k = std::max(1, layout.n_experts_used);
  if (n_slots < static_cast<uint64_t>(top_k)) {
    return InvalidArgument("an expert budget of {} bytes holds {} experts of {} bytes; a token needs {} at once", options.budget_bytes,
                           n_slots, largest, top_k);
  }
  const int slots = static_cast<int>(std::min<uint64_t>(n_slots, static_cast<uint64_t>(layout.TotalExperts())));
  uint64_t slot_bytes = 0;
  for (const LayerExperts& le : layout.layers) {
    if (le.n_experts == 0) continue;
    uint64_t b = 0;
    for (const SliceShape& p : le.parts) b += AlignedSpan(p.bytes);
    slot_bytes = std::max(slot_bytes, b);
  }
  std::unique_ptr<ExpertStore> store(new ExpertStore(std::move(layout), std::move(file), options, slots, slot_bytes));
  FRUGAL_RETURN_IF_ERROR(store->MapSlots());
  FRUGAL_RETURN_IF_ERROR(store->StartQueue(options));
  if (options.policy == PolicyKind::kPinned) FRUGAL_RETURN_IF_ERROR(store->LoadHotSet(options.hot_set));
  return store;
}

ExpertStore::ExpertStore(ExpertLayout layout, std::unique_ptr<io::RandomAccessFile> file, const ExpertStoreOptions& options,
                         int n_slots, uint64_t slot_bytes)
    : layout_(std::move(layout)), file_(std::move(file)), n_slots_(n_slots), slot_bytes_(slot_bytes),
      max_experts_(static_cast<size_t>(layout_.MaxExperts())), budget_bytes_(options.budget_bytes),
      slots_(static_cast<size_t>(n_slots)), policy_(options.policy, n_slots) {
  index_.assign(static_cast<size_t>(layout_.n_layers()) * max_experts_, -1);
  predicted_.assign(index_.size(), 0);
  for (const LayerExperts& le : layout_.layers) {
    std::array<uint64_t, 3> offsets{};
    uint64_t at = 0;
    for (int p = 0; p < 3; ++p) {
      offsets[static_cast<size_t>(p)] = at;
      at += AlignedSpan(le.parts[static_cast<size_t>(p)].bytes);
    }
    part_offsets_.push_back(offsets);
  }
  stats_.accesses.assign(static_cast<size_t>(layout_.n_layers()), 0);
  stats_.hits.assign(static_cast<size_t>(layout_.n_layers()), 0);
  stats_.slots = n_slots;
  stats_.slot_bytes = slot_bytes;
  stats_.budget_bytes = budget_bytes_;
  stats_.direct_io = file_->DirectIo();
  stats_.policy = options.policy;
}

ExpertStore::~ExpertStore() {
  {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return reads_in_flight_ == 0; });
  }
  reads_.reset();
}

Status ExpertStore::StartQueue(const ExpertStoreOptions& o) {
  if (o.io_engine != "auto" && o.io_engine != "io_uring" && o.io_engine != "pread") {
    return InvalidArgument("unknown expert I/O engine '{}' (auto, io_uring, pread)", o.io_engine);
  }
  const int fd = file_->NativeHandle();
  if (o.io_engine != "pread" && fd >= 0) {
    auto uring = NewUringQueue(fd, file_->name(), static_cast<unsigned>(std::clamp(o.io_threads, 1, 256)));
    if (uring.ok()) {
      reads_ = std::move(*uring);
    } else if (o.io_engine == "io_uring") {
      return uring.status();
    }
  } else if (o.io_engine == "io_uring") {
    return MakeStatus(StatusCode::kFailedPrecondition, "io_uring needs a direct-I/O file with a descriptor ('{}' has none)", file_->name());
  }
  if (!reads_) reads_ = NewPreadQueue(*file_, o.io_threads);
  stats_.io_engine = reads_->kind();
  return OkStatus();
}

Status ExpertStore::MapSlots() {
  // Anonymous and lazily backed (a slot's pages become resident when it is first filled; slots
  // fill lowest first), advised for huge pages: the kernels stream an expert's 1–25 MB with one
  // TLB entry per 2 MiB.
  FRUGAL_ASSIGN_OR_RETURN(region_, HugePageRegion::Allocate(static_cast<size_t>(n_slots_) * slot_bytes_));
  for (int s = 0; s < n_slots_; ++s) slots_[static_cast<size_t>(s)].base = region_.data() + static_cast<size_t>(s) * slot_bytes_;
  return OkStatus();
}

Status ExpertStore::LoadHotSet(const std::vector<ExpertKey>& keys) {
  const int reserve = std::max(2 * std::max(1, layout_.n_experts_used), n_slots_ / 4);
  const int capacity = std::max(0, n_slots_ - reserve);
  std::vector<int> pinned;
  for (const ExpertKey& k : keys) {
    if (static_cast<int>(pinned.size()) >= capacity) break;
    if (k.layer < 0 || k.layer >= layout_.n_layers() || k.id < 0 || k.id >= layout_.layers[static_cast<size_t>(k.layer)].n_experts) {
      return InvalidArgument("the hot set names expert (layer {}, id {}), which this model does not have", k.layer, k.id);
    }
    std::vector<int> slot;
    FRUGAL_RETURN_IF_ERROR(Pin(k.layer, std::span(&k.id, 1), &slot));
    {
      std::lock_guard lock(mu_);
      if (!policy_.pinned(slot[0])) {
        policy_.Pin(slot[0]);
        pinned.push_back(slot[0]);
      }
    }
    Release(slot);
  }
  std::lock_guard lock(mu_);
  n_pinned_ = static_cast<int>(pinned.size());
  stats_.pinned_slots = n_pinned_;
  // Loading the hot set is not the workload: start the statistics afresh.
  std::fill(stats_.accesses.begin(), stats_.accesses.end(), 0);
  std::fill(stats_.hits.begin(), stats_.hits.end(), 0);
  stats_.demand_reads = 0;
  stats_.expert_bytes_read = 0;
  stats_.io_stall_s = 0;
  return OkStatus();
}

void ExpertStore::DemoteUnused(int layer) {
  size_t kept = 0;
  for (int s : speculative_) {
    Slot& slot = slots_[static_cast<size_t>(s)];
    if (!slot.speculative) continue;
    if (slot.key.layer < layer) {
      slot.speculative = false;
      policy_.Demote(s);
    } else {
      speculative_[kept++] = s;
    }
  }
  speculative_.resize(kept);
}

void ExpertStore::BeginStep() {
  std::lock_guard lock(mu_);
  DemoteUnused(INT_MAX);
  for (size_t i : predicted_list_) predicted_[i] = 0;
  predicted_list_.clear();
}

ExpertRows ExpertStore::RowsOf(int slot) const {
  const Slot& s = slots_[static_cast<size_t>(slot)];
  const LayerExperts& le = layout_.layers[static_cast<size_t>(s.key.layer)];
  const auto& offsets = part_offsets_[static_cast<size_t>(s.key.layer)];
  kernels::WeightRows rows[3];
  for (size_t p = 0; p < 3; ++p) {
    const SliceShape& shape = le.parts[p];
    const uint64_t offset = shape.file_offset + static_cast<uint64_t>(s.key.id) * shape.bytes;
    rows[p] = {.data = s.base + offsets[p] + (offset % kAlign), .type = shape.type, .cols = shape.cols, .n_rows = shape.rows};
  }
  return {rows[0], rows[1], rows[2]};
}

int ExpertStore::StartRead(const ExpertKey& key, int pins, bool urgent) {
  const int v = policy_.Victim([this](int s) {
    const Slot& slot = slots_[static_cast<size_t>(s)];
    return slot.pins == 0 && slot.state != SlotState::kLoading;
  });
  if (v < 0) return -1;
  Slot& slot = slots_[static_cast<size_t>(v)];
  if (slot.state != SlotState::kEmpty) ClearSlot(v);
  slot.key = key;
  slot.state = SlotState::kLoading;
  slot.pins = pins;
  slot.parts_left = 3;
  slot.error = OkStatus();
  slot.speculative = false;
  index_[KeyIndex(key.layer, key.id)] = v;
  policy_.Used(v);
  ++reads_in_flight_;
  for (int p = 0; p < 3; ++p) ReadPart(v, key, p, urgent);
  return v;
}

void ExpertStore::ReadPart(int slot, ExpertKey key, int part, bool urgent) {
  const SliceShape& shape = layout_.layers[static_cast<size_t>(key.layer)].parts[static_cast<size_t>(part)];
  const uint64_t offset = shape.file_offset + static_cast<uint64_t>(key.id) * shape.bytes;
  const uint64_t begin = offset / kAlign * kAlign;
  std::byte* dst = slots_[static_cast<size_t>(slot)].base + part_offsets_[static_cast<size_t>(key.layer)][static_cast<size_t>(part)];
  reads_->Submit({.offset = begin, .dst = dst, .length = static_cast<size_t>(RoundUp(offset + shape.bytes, kAlign) - begin),
                  .needed = static_cast<size_t>(offset + shape.bytes - begin), .urgent = urgent,
                  .done = [this, slot, key, part](Status s) { PartDone(slot, key, part, std::move(s)); }});
}

void ExpertStore::PartDone(int slot, ExpertKey key, int part, Status s) {
  const SliceShape& shape = layout_.layers[static_cast<size_t>(key.layer)].parts[static_cast<size_t>(part)];
  std::lock_guard lock(mu_);
  Slot& sl = slots_[static_cast<size_t>(slot)];
  if (!s.ok() && sl.error.ok()) sl.error = s;
  if (s.ok()) stats_.expert_bytes_read += shape.bytes;
  if (--sl.parts_left > 0) return;
  --reads_in_flight_;
  if (sl.error.ok()) {
    sl.state = SlotState::kReady;
  } else {
    ++stats_.failed_reads;
    if (sl.pins == 0) {
      ClearSlot(slot);  // a prefetch nobody waits for: forget it
    } else {
      sl.state = SlotState::kFailed;  // the Acquire waiting for it reports the error
    }
  }
  changed_.notify_all();
}

void ExpertStore::ClearSlot(int slot) {
  Slot& s = slots_[static_cast<size_t>(slot)];
  if (s.state != SlotState::kEmpty) {
    int& idx = index_[KeyIndex(s.key.layer, s.key.id)];
    if (idx == slot) idx = -1;
  }
  s.state = SlotState::kEmpty;
  s.speculative = false;
  s.error = OkStatus();
  policy_.Cleared(slot);
}

Status ExpertStore::Pin(int layer, std::span<const int> ids, std::vector<int>* pinned) {
  if (layer < 0 || layer >= layout_.n_layers() || layout_.layers[static_cast<size_t>(layer)].n_experts == 0) {
    return InvalidArgument("layer {} has no routed experts", layer);
  }
  const int n_exp = layout_.layers[static_cast<size_t>(layer)].n_experts;
  if (static_cast<int>(ids.size()) > wave_limit()) {
    return InvalidArgument("{} experts at once exceed the store's {} free slots", ids.size(), wave_limit());
  }
  for (int id : ids) {
    if (id < 0 || id >= n_exp) return InvalidArgument("expert id {} is outside layer {}'s 0..{}", id, layer, n_exp - 1);
  }
  std::vector<int>& slots = *pinned;
  slots.assign(ids.size(), -1);
  std::unique_lock lock(mu_);
  // On an early return, the pins taken so far are released.
  auto unpin = [&] {
    for (int& s : slots) {
      if (s >= 0) --slots_[static_cast<size_t>(s)].pins;
      s = -1;
    }
    changed_.notify_all();
  };
  const auto l = static_cast<size_t>(layer);
  // Hits first, so that no miss evicts an expert this call needs.
  for (size_t i = 0; i < ids.size(); ++i) {
    const size_t k = KeyIndex(layer, ids[i]);
    ++stats_.accesses[l];
    if (predicted_[k]) ++stats_.predicted_used;
    const int s = index_[k];
    if (s < 0 || slots_[static_cast<size_t>(s)].state == SlotState::kFailed) continue;
    ++stats_.hits[l];
    stats_.expert_bytes_served += layout_.layers[l].ExpertBytes();
    slots_[static_cast<size_t>(s)].speculative = false;
    ++slots_[static_cast<size_t>(s)].pins;
    policy_.Used(s);
    slots[i] = s;
  }
  const auto t0 = std::chrono::steady_clock::now();
  bool waited = false;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (slots[i] >= 0) continue;
    if (const int again = index_[KeyIndex(layer, ids[i])]; again >= 0) {  // a repeated id: read once
      ++slots_[static_cast<size_t>(again)].pins;
      slots[i] = again;
      continue;
    }
    int s;
    while ((s = StartRead({layer, ids[i]}, 1, true)) < 0) {
      if (reads_in_flight_ == 0) {  // every slot is pinned: cannot happen within wave_limit()
        unpin();
        return ResourceExhausted("no free slot for expert (layer {}, id {}): all {} slots are in use", layer, ids[i], n_slots_);
      }
      waited = true;
      changed_.wait(lock);  // a prefetch holds the free slots: wait until one finishes
    }
    ++stats_.demand_reads;
    slots[i] = s;
  }
  auto loading = [&] {
    return std::any_of(slots.begin(), slots.end(),
                       [&](int s) { return slots_[static_cast<size_t>(s)].state == SlotState::kLoading; });
  };
  if (loading()) {
    waited = true;
    changed_.wait(lock, [&] { return !loading(); });
  }
  if (waited) stats_.io_stall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Status failure;
  for (size_t i = 0; i < ids.size(); ++i) {
    Slot& s = slots_[static_cast<size_t>(slots[i])];
    if (s.state != SlotState::kFailed) continue;
    if (failure.ok()) {
      failure = Status(s.error.code(), fmt::format("reading expert (layer {}, id {}) from '{}' failed: {}", layer, ids[i],
                                                    file_->name(), s.error.message()));
    }
  }
  if (!failure.ok()) {
    for (int& s : slots) {
      Slot& slot = slots_[static_cast<size_t>(s)];
      --slot.pins;
      if (slot.state == SlotState::kFailed && slot.pins == 0) ClearSlot(s);
      s = -1;
    }
    changed_.notify_all();
    return failure;
  }
  return OkStatus();
}

StatusOr<ExpertLease> ExpertStore::Acquire(int layer, std::span<const int> ids) {
  std::vector<int> slots;
  FRUGAL_RETURN_IF_ERROR(Pin(layer, ids, &slots));
  std::vector<ExpertRows> rows;
  rows.reserve(slots.size());
  {
    std::lock_guard lock(mu_);
    for (int s : slots) rows.push_back(RowsOf(s));
  }
  return ExpertLease(std::move(rows), [this, slots = std::move(slots)] { Release(slots); });
}


void ExpertStore::Prefetch(int layer, std::span<const int> ids) {
  if (layer < 0 || layer >= layout_.n_layers()) return;
  const int n_exp = layout_.layers[static_cast<size_t>(layer)].n_experts;
  std::lock_guard lock(mu_);
  DemoteUnused(layer);
  for (int id : ids) {
    if (id < 0 || id >= n_exp) continue;
    const size_t k = KeyIndex(layer, id);
    if (!predicted_[k]) {
      predicted_[k] = 1;
      predicted_list_.push_back(k);
      ++stats_.predicted;
    }
    if (index_[k] >= 0) continue;
    const int s = StartRead({layer, id}, 0, false);
    if (s < 0) return;  // no slot free of use: stop predicting
    slots_[static_cast<size_t>(s)].speculative = true;
    speculative_.push_back(s);
    ++stats_.prefetch_reads;
  }
}

void ExpertStore::Release(std::span<const int> slots) {
  std::lock_guard lock(mu_);
  for (int s : slots) {
    if (s >= 0) --slots_[static_cast<size_t>(s)].pins;
  }
  changed_.notify_all();
}

ExpertStoreStats ExpertStore::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

model::ExpertTraffic ExpertStore::Traffic() const {
  std::lock_guard lock(mu_);
  return {.bytes_read = stats_.expert_bytes_read,
          .bytes_served = stats_.expert_bytes_served,
          .reads = stats_.demand_reads + stats_.prefetch_reads,
          .stall_s = stats_.io_stall_s,
          .resident_bytes = static_cast<uint64_t>(n_slots_) * slot_bytes_};
}

StatusOr<uint64_t> ParseExpertBudget(const std::string& text, uint64_t total_bytes) {
  if (text.empty()) return InvalidArgument("an empty expert budget");
  std::string t = text;
  if (t.back() == '%') {
    t.pop_back();
    char* end = nullptr;
    const double pct = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(pct) || pct <= 0 || pct > 100) {
      return InvalidArgument("expert budget '{}': a percentage must be in (0, 100]", text);
    }
    return static_cast<uint64_t>(std::floor(static_cast<double>(total_bytes) * pct / 100.0));
  }
  char* end = nullptr;
  const double value = std::strtod(t.c_str(), &end);
  std::string unit(end);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") scale = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib") scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib") scale = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib") scale = 1024.0 * 1024 * 1024 * 1024;
  if (end == t.c_str() || scale == 0 || !std::isfinite(value) || value <= 0 || value * scale > 1.8e19) {
    return InvalidArgument("expert budget '{}': a size (512M, 2G, bytes) or a percentage of the routed experts (25%)", text);
  }
  return static_cast<uint64_t>(value * scale);
}

}  // namespace frugal::experts
