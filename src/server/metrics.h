// Counters and latency histograms for GET /metrics, in Prometheus's text format, with the names
// operators know from vLLM (prefix "frugal:" where vLLM has "vllm:"). Thread-safe: the engine
// thread records, HTTP threads render.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ledger/counterfactual.h"
#include "ledger/ledger_record.h"

namespace frugal::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  // Appends the _bucket/_sum/_count lines of `name`.
  void Render(const std::string& name, const std::string& help, std::string* out) const;
  uint64_t count() const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); one more for +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// What the scheduler knows at the moment of a scrape.
struct LiveGauges {
  int requests_running = 0;
  int requests_waiting = 0;
  int kv_blocks_used = 0;  // referenced by a sequence
  int kv_blocks_cached = 0;  // unreferenced prefix-cache blocks (evictable)
  int kv_blocks_free = 0;
  int64_t preemptions = 0;
};

class Metrics {
 public:
  Metrics();
  std::atomic<uint64_t> prompt_tokens{0}, generation_tokens{0}, cache_hit_tokens{0}, cache_miss_tokens{0},
      cache_hit_disk_tokens{0};
  std::atomic<uint64_t> finished_stop{0}, finished_length{0}, finished_error{0}, finished_cancelled{0};
  Histogram time_to_first_token, inter_token_latency, e2e_latency;
  void CountHttp(int status);
  // A finished request's ledger record: cost, compute time, bytes, and what the levers saved.
  void AddLedger(const ledger::LedgerRecord& record);
  std::string Render(const LiveGauges& live) const;
  // Appended to every scrape (metrics of layers the server does not see: the expert store).
  // Set before the server takes requests.
  void SetExtra(std::function<std::string()> extra) { extra_ = std::move(extra); }

 private:
  mutable std::mutex mu_;
  std::map<int, uint64_t> http_;  // status → responses
  ledger::LedgerTotals ledger_;
  std::string price_sheet_;
  std::function<std::string()> extra_;
};

}  // namespace frugal::server
