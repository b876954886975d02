#include "ledger/generation_record.h"

#include <chrono>

namespace frugal::ledger {

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

LedgerRecord LedgerRecordOf(const engine::GenerationEvent& ev, const std::string& tenant, const engine::ModelCosts& costs,
                                    const LedgerSource& source, double time) {
  LedgerRecord r;
  r.time = time;
  r.source = source.source;
  r.tenant = tenant;
  r.model = source.model;
  r.finish = engine::FinishReasonName(ev.finish);
  r.prompt_tokens = ev.usage.prompt_tokens;
  r.hit_tokens = ev.usage.cache_hit_tokens;
  r.hit_disk_tokens = ev.usage.cache_hit_disk_tokens;
  r.miss_tokens = ev.usage.cache_miss_tokens;
  r.output_tokens = ev.usage.completion_tokens;
  const engine::GenerationWork& w = ev.work;
  r.recomputed_tokens = w.recomputed_tokens;
  r.wall_s = w.wall_s;
  r.prefill_s = w.prefill_s;
  r.decode_s = w.decode_s;
  r.kv_bytes_per_token = costs.kv_bytes_per_token;
  r.mha_bytes_per_token = costs.mha_bytes_per_token;
  r.kv_peak_bytes = w.kv_peak_bytes;
  r.kv_byte_seconds = w.kv_byte_seconds;
  r.kv_bytes_read = w.kv_bytes_read;
  r.kv_disk_bytes_read = w.kv_disk_bytes_read;
  r.weight_bytes_read = w.weight_bytes_read;
  r.expert_bytes_ram = w.expert_bytes_ram;
  r.expert_bytes_disk = w.expert_bytes_disk;
  r.expert_fetches = w.expert_fetches;
  r.expert_stall_s = w.expert_stall_s;
  r.expert_all_bytes = costs.expert_all_bytes;
  r.expert_resident_bytes = costs.expert_resident_bytes;
  PriceRecord(source.prices, &r);
  return r;
}

}  // namespace frugal::ledger
