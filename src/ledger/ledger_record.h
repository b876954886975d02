// One line of the ledger: what a generation cost and used, from the engine's own counters —
// tokens (prompt cache hits by tier, misses, output), compute time, latent-cache bytes held and
// read, weight and expert bytes read per tier, expert fetches — with its cost under a price
// sheet and the facts the counterfactuals need (a full multi-head cache's bytes per token, all
// routed experts' bytes). Serialized as one JSON object per line (docs/LEDGER.md). Pure data;
// thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ledger/prices.h"
#include "util/status.h"

namespace frugal::ledger {

inline constexpr int kLedgerFormatVersion = 1;

struct LedgerRecord {
  double time = 0;         // unix seconds when the generation ended
  std::string source;      // "run", "serve", "bench"
  std::string tenant;      // "" when none
  std::string model;       // the model file's name
  std::string prices;      // the price sheet of the cost fields
  std::string finish;      // stop, length, error, cancelled
  // Tokens.
  int64_t prompt_tokens = 0;
  int64_t hit_tokens = 0;        // prompt tokens whose latents were reused
  int64_t hit_disk_tokens = 0;   // of those, read from the disk tier
  int64_t miss_tokens = 0;       // prompt tokens computed
  int64_t output_tokens = 0;
  int64_t recomputed_tokens = 0; // computed again after a preemption
  // Seconds.
  double wall_s = 0;       // submitted → finished
  double prefill_s = 0;    // its token share of the forward steps that read its prompt
  double decode_s = 0;     // … and of those that decoded it
  // The latent cache (bytes of its tokens at the cache's type).
  double kv_bytes_per_token = 0;   // as held
  double mha_bytes_per_token = 0;  // a full multi-head cache of the same heads and dims, 16 bits
  double kv_peak_bytes = 0;
  double kv_byte_seconds = 0;      // bytes held × forward seconds
  double kv_bytes_read = 0;        // by attention, every step
  double kv_disk_bytes_read = 0;   // prompt cache hits read from the disk tier
  // Weights and experts (its token share of each step's reads).
  double weight_bytes_read = 0;    // non-expert weights, from RAM
  double expert_bytes_ram = 0;     // routed experts served from the RAM tier (or the mapping)
  double expert_bytes_disk = 0;    // routed experts read from disk
  double expert_fetches = 0;       // experts read from disk
  double expert_stall_s = 0;       // waiting for those reads
  double expert_all_bytes = 0;     // all routed experts of the model
  double expert_resident_bytes = 0;  // the RAM the experts had: the store's budget, or all of them
  // Cost under `prices` (USD).
  double hit_usd = 0, miss_usd = 0, output_usd = 0, total_usd = 0;
  double uncached_usd = 0;  // the prompt priced as all misses (every prompt token recomputed)
};

// Fills the cost fields from the token counts.
void PriceRecord(const PriceSheet& sheet, LedgerRecord* r);

nlohmann::json RecordJson(const LedgerRecord& r);
// A line's record; an error names what is wrong (not an object, a field of the wrong type,
// another format version, negative counts).
StatusOr<LedgerRecord> ParseRecord(const nlohmann::json& j);

}  // namespace frugal::ledger
