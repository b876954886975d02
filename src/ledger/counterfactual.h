// What each of frugal's levers saved, from the ledger's real counters: for the work actually
// done, what a conventional engine would have needed —
//   memory: a full multi-head KV cache (same heads and dims, 16 bits) instead of the latent;
//   body:   all routed experts resident in RAM instead of the expert budget;
//   reuse:  every prompt token recomputed instead of read from the prefix cache —
// in bytes, seconds and money. Bytes and tokens come straight from the records; seconds and
// money for memory need a hardware sheet (its first tier is RAM: bandwidth, price per GB spread
// over amortize_years, and the machine's price per hour). Formulas: docs/LEDGER.md. Pure
// functions.
#pragma once

#include <cstdint>
#include <optional>

#include "ledger/ledger_record.h"
#include "ledger/plan.h"

namespace frugal::ledger {

// Sums over records, with each record's counterfactual bytes (which depend on its own model).
struct LedgerTotals {
  int64_t generations = 0;
  LedgerRecord sum;          // every count and number summed (time: the latest)
  double first_time = 0;     // the earliest record's time
  double mha_byte_seconds = 0;   // Σ kv_byte_seconds × mha/kv of its record
  double mha_bytes_read = 0;     // Σ kv_bytes_read × mha/kv
  double kv_peak_max = 0, mha_peak_max = 0;  // the largest single generation's cache
  double expert_spared_byte_seconds = 0;     // Σ (all − resident expert bytes) × compute seconds
  double expert_spared_max = 0;              // the largest (all − resident)
  double hit_kv_bytes = 0;                   // Σ hit tokens × kv bytes per token: latents reused
};

void AddRecord(const LedgerRecord& r, LedgerTotals* t);

struct LeverSaving {
  double peak_bytes = 0;    // memory a generation did not need (the largest)
  double byte_seconds = 0;  // memory × time not held
  double bytes_read = 0;    // bytes not read
  double seconds = 0;       // time not spent (negative: time the lever cost)
  double usd = 0;           // under the hardware sheet: memory amortized + machine time (0 without)
};

struct Savings {
  LeverSaving kv, experts, reuse;
  double reuse_tokens = 0;     // prompt tokens not recomputed
  double reuse_price_usd = 0;  // under the records' price sheets: all-miss prompt − billed prompt
  bool priced_hardware = false;
};

Savings SavingsOf(const LedgerTotals& t, const std::optional<Hardware>& hardware);

}  // namespace frugal::ledger
