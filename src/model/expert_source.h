// Where the MoE block takes routed experts from when they are not all in the model's mapping:
// an expert source (the tiered store, experts/expert_store.h) hands out a layer's experts for
// one step as a lease that keeps them in RAM until it ends. Defined here, below the store, so
// the forward pass depends only on this interface.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "kernels/matmul.h"
#include "util/status.h"

namespace frugal::model {

struct ExpertRows {
  kernels::WeightRows gate, up, down;
};

// The rows of some experts, valid until the lease is destroyed (which releases them). Move-only.
class ExpertLease {
 public:
  ExpertLease() = default;
  ExpertLease(std::vector<ExpertRows> rows, std::function<void()> release) : rows_(std::move(rows)), release_(std::move(release)) {}
  ExpertLease(ExpertLease&& o) noexcept : rows_(std::move(o.rows_)), release_(std::exchange(o.release_, nullptr)) {}
  ExpertLease& operator=(ExpertLease&& o) noexcept {
    if (this != &o) {
      Reset();
      rows_ = std::move(o.rows_);
      release_ = std::exchange(o.release_, nullptr);
    }
    return *this;
  }
  ExpertLease(const ExpertLease&) = delete;
  ExpertLease& operator=(const ExpertLease&) = delete;
  ~ExpertLease() { Reset(); }
  size_t size() const { return rows_.size(); }
  const ExpertRows& rows(size_t i) const { return rows_[i]; }

 private:
  void Reset() {
    if (release_) release_();
    release_ = nullptr;
    rows_.clear();
  }
  std::vector<ExpertRows> rows_;
  std::function<void()> release_;
};

// What a source has moved so far (counters only grow), for the ledger.
struct ExpertTraffic {
  uint64_t bytes_read = 0;    // from disk
  uint64_t bytes_served = 0;  // from RAM (hits)
  uint64_t reads = 0;         // experts read (demand + prefetch)
  double stall_s = 0;         // time spent waiting for reads
  uint64_t resident_bytes = 0;  // the RAM tier's capacity
};

class ExpertSource {
 public:
  virtual ~ExpertSource() = default;
  // A forward step begins (predictions are scored per step).
  virtual void BeginStep() = 0;
  // The distinct experts `ids` of `layer`, in RAM until the lease ends; at most wave_limit().
  virtual StatusOr<ExpertLease> Acquire(int layer, std::span<const int> ids) = 0;
  // Experts likely needed soon: start fetching them, without waiting.
  virtual void Prefetch(int layer, std::span<const int> ids) = 0;
  // Whether to predict and prefetch for a step of this many tokens.
  virtual bool PrefetchFor(int step_tokens) const = 0;
  // The most experts one Acquire may take.
  virtual int wave_limit() const = 0;
  virtual ExpertTraffic Traffic() const = 0;
};

}  // namespace frugal::model
