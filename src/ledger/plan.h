// The capacity planner behind `frugal plan`: for a model, a context, a load and a cache-hit
// rate, the KV bytes under each kind of cache, where weights and experts go in a hardware
// sheet's tiers, the bytes each decoded token reads from each tier and the bandwidth-roofline
// decode speed that follows, the cost of a workload under a price sheet, tokens per hardware
// dollar, and a fleet's size. Assumptions (docs/PLAN.md): routing is uniform over the routed
// experts; tiers are filled fastest first with the KV cache and the non-expert weights, then
// the experts; a decode step reads the non-expert weights once, the distinct experts its
// tokens route to, and each sequence's whole cache. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ledger/kv_sizes.h"
#include "ledger/model_spec.h"
#include "ledger/prices.h"
#include "util/status.h"

namespace frugal::ledger {

struct Tier {
  std::string name;
  double gb = 0;          // capacity, 1e9 bytes
  double gbps = 0;        // read bandwidth, 1e9 bytes/s
  double usd_per_gb = 0;  // purchase price
};
// {"usd_per_hour": 2.5, "amortize_years": 3, "tiers": [{"name": "ram", "gb": 768, "gbps": 300,
// "usd_per_gb": 4}, …]}, fastest tier first. The ledger spreads a tier's purchase price over
// amortize_years to price memory held for a time.
struct Hardware {
  std::string name;
  std::vector<Tier> tiers;
  double usd_per_hour = 0;
  double amortize_years = 3;
};
StatusOr<Hardware> LoadHardware(const std::string& path);
StatusOr<Hardware> ParseHardware(const nlohmann::json& j, const std::string& name);

// Bits per weight of a weight type: ggml names (q4_K, q8_0, bf16, …), fp8, fp4.
StatusOr<double> BitsPerWeight(const std::string& type);

struct Fleet {
  double daily_tokens = 0;        // tokens to serve per day
  double unit_tokens_per_s = 0;   // one serving unit's throughput
  double unit_usd_per_hour = 0;
  double efficiency = 1;          // throughput multiple of a better engine on the same unit
};

struct PlanInput {
  ModelSpec spec;
  int64_t context = 0;        // tokens per sequence (the prompt of each request)
  int sequences = 1;          // decoding together
  double requests = 1;        // for the cost
  double hit_rate = 0;        // share of prompt tokens that are cache hits
  double output_tokens = 0;   // per request
  double weight_bits = 0;     // built-ins: bits per weight (files: their own bytes)
  PriceSheet prices;
  std::optional<Hardware> hardware;
  std::optional<Fleet> fleet;
};

struct TierUse {
  std::string name;
  double weight_bytes = 0, expert_bytes = 0, kv_bytes = 0;
  double read_per_step = 0;  // bytes a decode step reads from it
  double seconds_per_step = 0;
};

struct PlanResult {
  KvPerToken kv_per_token;
  KvPerSequence kv_per_sequence;   // at `context`
  double kv_all_sequences = 0;     // native × sequences
  double weight_bytes = 0, expert_bytes = 0, dense_bytes = 0;  // dense: everything but routed experts
  double active_bytes_per_token = 0;  // one token alone: dense + top_k experts per MoE layer
  double distinct_experts_per_step = 0;  // per MoE layer, for `sequences` tokens
  std::vector<TierUse> tiers;
  bool fits = true;                 // everything placed
  std::string fit_note;
  double decode_tokens_per_s = 0;   // all sequences together (0 without hardware)
  double tokens_per_usd = 0;
  double memory_usd = 0;
  Cost cost;
  double cost_per_million_prompt = 0, cost_per_million_output = 0;
  // Fleet.
  double units = 0, units_with_efficiency = 0, units_saved_fraction = 0, fleet_usd_per_day = 0;
};

StatusOr<PlanResult> Plan(const PlanInput& in);
nlohmann::json PlanJson(const PlanInput& in, const PlanResult& r);

}  // namespace frugal::ledger
