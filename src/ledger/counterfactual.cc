#include "ledger/counterfactual.h"

#include <algorithm>

namespace frugal::ledger {

void AddRecord(const LedgerRecord& r, LedgerTotals* t) {
  LedgerRecord& s = t->sum;
  t->first_time = t->generations == 0 ? r.time : std::min(t->first_time, r.time);
  ++t->generations;
  s.time = std::max(s.time, r.time);
  s.prompt_tokens += r.prompt_tokens;
  s.hit_tokens += r.hit_tokens;
  s.hit_disk_tokens += r.hit_disk_tokens;
  s.miss_tokens += r.miss_tokens;
  s.output_tokens += r.output_tokens;
  s.recomputed_tokens += r.recomputed_tokens;
  for (auto field : {&LedgerRecord::wall_s, &LedgerRecord::prefill_s, &LedgerRecord::decode_s, &LedgerRecord::kv_peak_bytes,
                     &LedgerRecord::kv_byte_seconds, &LedgerRecord::kv_bytes_read, &LedgerRecord::kv_disk_bytes_read,
                     &LedgerRecord::weight_bytes_read, &LedgerRecord::expert_bytes_ram, &LedgerRecord::expert_bytes_disk,
                     &LedgerRecord::expert_fetches, &LedgerRecord::expert_stall_s, &LedgerRecord::hit_usd, &LedgerRecord::miss_usd,
                     &LedgerRecord::output_usd, &LedgerRecord::total_usd, &LedgerRecord::uncached_usd}) {
    s.*field += r.*field;
  }
  const double ratio = r.kv_bytes_per_token > 0 ? r.mha_bytes_per_token / r.kv_bytes_per_token : 1;
  t->mha_byte_seconds += r.kv_byte_seconds * ratio;
  t->mha_bytes_read += r.kv_bytes_read * ratio;
  t->kv_peak_max = std::max(t->kv_peak_max, r.kv_peak_bytes);
  t->mha_peak_max = std::max(t->mha_peak_max, r.kv_peak_bytes * ratio);
  const double spared = std::max(0.0, r.expert_all_bytes - r.expert_resident_bytes);
  t->expert_spared_byte_seconds += spared * (r.prefill_s + r.decode_s);
  t->expert_spared_max = std::max(t->expert_spared_max, spared);
  t->hit_kv_bytes += static_cast<double>(r.hit_tokens) * r.kv_bytes_per_token;
}

Savings SavingsOf(const LedgerTotals& t, const std::optional<Hardware>& hardware) {
  Savings v;
  const LedgerRecord& s = t.sum;
  v.kv.peak_bytes = t.mha_peak_max - t.kv_peak_max;
  v.kv.byte_seconds = t.mha_byte_seconds - s.kv_byte_seconds;
  v.kv.bytes_read = t.mha_bytes_read - s.kv_bytes_read;
  v.experts.peak_bytes = t.expert_spared_max;
  v.experts.byte_seconds = t.expert_spared_byte_seconds;
  v.experts.seconds = -s.expert_stall_s;  // all resident: no waiting for reads
  // Reuse: the hit tokens at the prompt's measured compute time per token.
  v.reuse_tokens = static_cast<double>(s.hit_tokens);
  const double computed = static_cast<double>(s.miss_tokens + s.recomputed_tokens);
  v.reuse.seconds = computed > 0 ? v.reuse_tokens * s.prefill_s / computed : 0;
  v.reuse.bytes_read = 0;  // a recompute reads weights again; not counted (a lower bound)
  v.reuse.peak_bytes = 0;
  v.reuse_price_usd = s.uncached_usd - s.hit_usd - s.miss_usd;
  if (hardware && !hardware->tiers.empty()) {
    const Tier& ram = hardware->tiers.front();
    const double per_second = hardware->usd_per_hour / 3600;
    const double per_byte_second = ram.usd_per_gb / 1e9 / (hardware->amortize_years * 365 * 86400);
    v.kv.seconds = v.kv.bytes_read / (ram.gbps * 1e9);
    v.kv.usd = v.kv.byte_seconds * per_byte_second + v.kv.seconds * per_second;
    v.experts.usd = v.experts.byte_seconds * per_byte_second + v.experts.seconds * per_second;
    v.reuse.usd = v.reuse.seconds * per_second;
    v.priced_hardware = true;
  }
  return v;
}

}  // namespace frugal::ledger
