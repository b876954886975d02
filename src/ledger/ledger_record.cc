#include "ledger/ledger_record.h"

#include <cmath>
#include <utility>

namespace frugal::ledger {
namespace {

// The fields by name, so writing and parsing cannot drift apart.
constexpr std::pair<const char*, std::string LedgerRecord::*> kStrings[] = {
    {"source", &LedgerRecord::source}, {"tenant", &LedgerRecord::tenant}, {"model", &LedgerRecord::model},
    {"prices", &LedgerRecord::prices}, {"finish", &LedgerRecord::finish},
};
constexpr std::pair<const char*, int64_t LedgerRecord::*> kCounts[] = {
    {"prompt_tokens", &LedgerRecord::prompt_tokens},   {"hit_tokens", &LedgerRecord::hit_tokens},
    {"hit_disk_tokens", &LedgerRecord::hit_disk_tokens}, {"miss_tokens", &LedgerRecord::miss_tokens},
    {"output_tokens", &LedgerRecord::output_tokens},   {"recomputed_tokens", &LedgerRecord::recomputed_tokens},
};
constexpr std::pair<const char*, double LedgerRecord::*> kNumbers[] = {
    {"time", &LedgerRecord::time},
    {"wall_s", &LedgerRecord::wall_s},
    {"prefill_s", &LedgerRecord::prefill_s},
    {"decode_s", &LedgerRecord::decode_s},
    {"kv_bytes_per_token", &LedgerRecord::kv_bytes_per_token},
    {"mha_bytes_per_token", &LedgerRecord::mha_bytes_per_token},
    {"kv_peak_bytes", &LedgerRecord::kv_peak_bytes},
    {"kv_byte_seconds", &LedgerRecord::kv_byte_seconds},
    {"kv_bytes_read", &LedgerRecord::kv_bytes_read},
    {"kv_disk_bytes_read", &LedgerRecord::kv_disk_bytes_read},
    {"weight_bytes_read", &LedgerRecord::weight_bytes_read},
    {"expert_bytes_ram", &LedgerRecord::expert_bytes_ram},
    {"expert_bytes_disk", &LedgerRecord::expert_bytes_disk},
    {"expert_fetches", &LedgerRecord::expert_fetches},
    {"expert_stall_s", &LedgerRecord::expert_stall_s},
    {"expert_all_bytes", &LedgerRecord::expert_all_bytes},
    {"expert_resident_bytes", &LedgerRecord::expert_resident_bytes},
    {"hit_usd", &LedgerRecord::hit_usd},
    {"miss_usd", &LedgerRecord::miss_usd},
    {"output_usd", &LedgerRecord::output_usd},
    {"total_usd", &LedgerRecord::total_usd},
    {"uncached_usd", &LedgerRecord::uncached_usd},
};

constexpr int64_t kMaxCount = int64_t{1} << 40;
constexpr double kMaxTime = 95617584000.0;  // 5000-01-01 UTC: reports turn it into a calendar day

}  // namespace

void PriceRecord(const PriceSheet& sheet, LedgerRecord* r) {
  r->prices = sheet.name;
  const TokenCost c = PriceTokens(sheet, static_cast<double>(r->hit_tokens), static_cast<double>(r->miss_tokens),
                                  static_cast<double>(r->output_tokens));
  r->hit_usd = c.hit_usd;
  r->miss_usd = c.miss_usd;
  r->output_usd = c.output_usd;
  r->total_usd = c.total_usd;
  r->uncached_usd = c.uncached_prompt_usd;
}

nlohmann::json RecordJson(const LedgerRecord& r) {
  nlohmann::json j;
  j["v"] = kLedgerFormatVersion;
  for (const auto& [name, field] : kStrings) j[name] = r.*field;
  for (const auto& [name, field] : kCounts) j[name] = r.*field;
  for (const auto& [name, field] : kNumbers) j[name] = r.*field;
  return j;
}

StatusOr<LedgerRecord> ParseRecord(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgument("a ledger line must be a JSON object");
  if (!j.contains("v") || !j["v"].is_number_integer() || j["v"].get<int64_t>() != kLedgerFormatVersion) {
    return InvalidArgument("not a ledger record of format version {}", kLedgerFormatVersion);
  }
  LedgerRecord r;
  for (const auto& [name, field] : kStrings) {
    if (!j.contains(name)) continue;
    if (!j[name].is_string()) return InvalidArgument("\"{}\" must be a string", name);
    r.*field = j[name].get<std::string>();
  }
  for (const auto& [name, field] : kCounts) {
    if (!j.contains(name)) continue;
    // At most 2^40 a generation: sums over millions of records stay far from int64's limit.
    if (!j[name].is_number_integer() || j[name].get<int64_t>() < 0 || j[name].get<int64_t>() > kMaxCount) {
      return InvalidArgument("\"{}\" must be a count in 0..2^40", name);
    }
    r.*field = j[name].get<int64_t>();
  }
  for (const auto& [name, field] : kNumbers) {
    if (!j.contains(name)) continue;
    if (!j[name].is_number() || !std::isfinite(j[name].get<double>()) || j[name].get<double>() < 0) {
      return InvalidArgument("\"{}\" must be a number >= 0", name);
    }
    r.*field = j[name].get<double>();
  }
  if (r.time > kMaxTime) return InvalidArgument("\"time\" {} is past the year 5000", r.time);
  if (r.hit_tokens + r.miss_tokens != r.prompt_tokens || r.hit_disk_tokens > r.hit_tokens) {
    return InvalidArgument("the prompt's hits ({}, {} from disk) and misses ({}) do not add up to its {} tokens", r.hit_tokens,
                           r.hit_disk_tokens, r.miss_tokens, r.prompt_tokens);
  }
  return r;
}

}  // namespace frugal::ledger
