#include "server/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace frugal::server {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  std::lock_guard lock(mu_);
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  ++counts_[i];
  sum_ += value;
  ++count_;
}

uint64_t Histogram::count() const {
  std::lock_guard lock(mu_);
  return count_;
}

void Histogram::Render(const std::string& name, const std::string& help, std::string* out) const {
  std::lock_guard lock(mu_);
  *out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    *out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  cumulative += counts_.back();
  *out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, cumulative, name, sum_, name, count_);
}

Metrics::Metrics()
    : time_to_first_token({0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80}),
      inter_token_latency({0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10}),
      e2e_latency({0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480}) {}

void Metrics::CountHttp(int status) {
  std::lock_guard lock(mu_);
  ++http_[status];
}

void Metrics::AddLedger(const ledger::LedgerRecord& record) {
  std::lock_guard lock(mu_);
  ledger::AddRecord(record, &ledger_);
  price_sheet_ = record.prices;
}

namespace {

// The ledger's cumulative counters (docs/LEDGER.md); floats, labelled by part.
void RenderLedger(const ledger::LedgerTotals& t, const std::string& sheet, std::string* out) {
  const ledger::LedgerRecord& s = t.sum;
  const ledger::Savings v = ledger::SavingsOf(t, std::nullopt);
  const auto family = [&](const char* name, const char* help, std::initializer_list<std::pair<std::string, double>> series) {
    *out += fmt::format("# HELP frugal:{} {}\n# TYPE frugal:{} counter\n", name, help, name);
    for (const auto& [labels, value] : series) *out += fmt::format("frugal:{}{} {}\n", name, labels, value);
  };
  family("cost_usd_total", "What the served tokens cost under the price sheet, by part.",
         {{fmt::format("{{price_sheet=\"{}\",part=\"prompt_cache_hit\"}}", sheet), s.hit_usd},
          {fmt::format("{{price_sheet=\"{}\",part=\"prompt_cache_miss\"}}", sheet), s.miss_usd},
          {fmt::format("{{price_sheet=\"{}\",part=\"completion\"}}", sheet), s.output_usd}});
  family("saved_usd_total", "Under the price sheet: the prompts priced as all misses, less what they were billed.",
         {{"{lever=\"reuse\"}", v.reuse_price_usd}});
  family("compute_seconds_total", "Forward-step time, each step split over its requests by tokens.",
         {{"{phase=\"prefill\"}", s.prefill_s}, {"{phase=\"decode\"}", s.decode_s}});
  family("kv_byte_seconds_total", "Latent-cache bytes held × seconds; and a full multi-head cache's for the same work.",
         {{"{cache=\"latent\"}", s.kv_byte_seconds}, {"{cache=\"mha_counterfactual\"}", t.mha_byte_seconds}});
  family("bytes_read_total", "Bytes read by the forward steps, by what and tier.",
         {{"{what=\"weights\",tier=\"ram\"}", s.weight_bytes_read},
          {"{what=\"experts\",tier=\"ram\"}", s.expert_bytes_ram},
          {"{what=\"experts\",tier=\"disk\"}", s.expert_bytes_disk},
          {"{what=\"kv\",tier=\"ram\"}", s.kv_bytes_read},
          {"{what=\"kv\",tier=\"disk\"}", s.kv_disk_bytes_read}});
  family("saved_seconds_total", "Prompt tokens not recomputed, at the measured prefill time per token.",
         {{"{lever=\"reuse\"}", v.reuse.seconds}});
}

}  // namespace

std::string Metrics::Render(const LiveGauges& live) const {
  std::string out;
  const auto gauge = [&](const char* name, const char* help, int64_t v) {
    out += fmt::format("# HELP frugal:{} {}\n# TYPE frugal:{} gauge\nfrugal:{} {}\n", name, help, name, name, v);
  };
  const auto counter = [&](const char* name, const char* help, uint64_t v) {
    out += fmt::format("# HELP frugal:{} {}\n# TYPE frugal:{} counter\nfrugal:{} {}\n", name, help, name, name, v);
  };
  gauge("num_requests_running", "Requests in the running batch.", live.requests_running);
  gauge("num_requests_waiting", "Requests queued for admission.", live.requests_waiting);
  gauge("kv_blocks_used", "KV cache blocks held by sequences.", live.kv_blocks_used);
  gauge("kv_blocks_cached", "Unreferenced prefix-cache blocks (evictable).", live.kv_blocks_cached);
  gauge("kv_blocks_free", "KV cache blocks never used or released.", live.kv_blocks_free);
  const int total = live.kv_blocks_used + live.kv_blocks_cached + live.kv_blocks_free;
  out += fmt::format("# HELP frugal:kv_cache_usage_perc Fraction of KV blocks held by sequences.\n"
                     "# TYPE frugal:kv_cache_usage_perc gauge\nfrugal:kv_cache_usage_perc {}\n",
                     total > 0 ? static_cast<double>(live.kv_blocks_used) / total : 0.0);
  counter("num_preemptions_total", "Generations preempted (recomputed later) because the KV pool was full.",
          static_cast<uint64_t>(live.preemptions));
  counter("prompt_tokens_total", "Prompt tokens of admitted requests.", prompt_tokens);
  counter("generation_tokens_total", "Generated tokens.", generation_tokens);
  counter("prompt_cache_hit_tokens_total", "Prompt tokens whose latents came from the prefix cache.", cache_hit_tokens);
  counter("prompt_cache_miss_tokens_total", "Prompt tokens computed.", cache_miss_tokens);
  counter("prompt_cache_hit_disk_tokens_total", "Of the prompt cache-hit tokens, those read back from the disk tier.",
          cache_hit_disk_tokens);
  out += "# HELP frugal:request_success_total Finished requests by finish reason.\n"
         "# TYPE frugal:request_success_total counter\n";
  out += fmt::format("frugal:request_success_total{{finished_reason=\"stop\"}} {}\n", finished_stop.load());
  out += fmt::format("frugal:request_success_total{{finished_reason=\"length\"}} {}\n", finished_length.load());
  counter("request_failure_total", "Requests that ended with an engine error.", finished_error);
  counter("request_cancelled_total", "Requests cancelled by a client disconnect.", finished_cancelled);
  time_to_first_token.Render("frugal:time_to_first_token_seconds", "Time from arrival to the first generated token.", &out);
  inter_token_latency.Render("frugal:inter_token_latency_seconds", "Time between consecutive generated tokens.", &out);
  e2e_latency.Render("frugal:e2e_request_latency_seconds", "Time from arrival to the last token.", &out);
  std::lock_guard lock(mu_);
  out += "# HELP frugal:http_requests_total HTTP responses by status code.\n# TYPE frugal:http_requests_total counter\n";
  for (const auto& [code, n] : http_) out += fmt::format("frugal:http_requests_total{{code=\"{}\"}} {}\n", code, n);
  RenderLedger(ledger_, price_sheet_, &out);
  if (extra_) out += extra_();
  return out;
}

}  // namespace frugal::server
