// `frugal bench -m MODEL`: llama-bench's definitions — ppN = prefill of N tokens from an empty
// cache, tgN = N decoded tokens one at a time from an empty cache (with -d D: after D tokens
// already in the cache, untimed, as llama-bench's "@ dD"), an untimed warm-up run of each test
// first (--no-warmup: none) — median and spread over runs,
// a markdown table and --json; --roofline adds measured read bandwidth and decode's share of the
// bandwidth roofline (bandwidth ÷ bytes each decoded token reads).
#include <algorithm>
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/bench_common.h"
#include "app/commands.h"
#include "app/expert_flags.h"
#include "app/ledger_flags.h"
#include "engine/engine.h"
#include "engine/session.h"
#include "kernels/attention_block.h"
#include "kv/sequence_cache.h"
#include "model/footprint.h"
#include "model/loaded_model.h"
#include "util/memory_bandwidth.h"
#include "util/rng.h"

namespace frugal::app {
namespace {

struct Flags {
  std::string model, kv_type = "f16";
  int prompt = 512, gen = 128, depth = 0, repetitions = 5, threads = DefaultThreadCount();
  bool json = false, roofline = false, exact = false, warmup = true;
  ExpertFlags experts;
  LedgerFlags ledger;
};

using Clock = std::chrono::steady_clock;

std::vector<int32_t> SeededIds(int n, int vocab, uint64_t seed) {
  Rng rng(seed);
  return RandomIds(rng, n, vocab);
}

// Where each timed run goes: the ledger (with --ledger), as a generation of `depth` cached
// prompt tokens plus the test's (pp: prompt misses; tg: output), with the session's counters.
struct BenchLedger {
  const LedgerSetup* setup = nullptr;
  engine::ModelCosts costs;
};

void RecordRun(const BenchLedger& ledger, const model::LoadedModel& m, const engine::Session& s, bool prefill, int depth, int n,
               double wall, const model::ExpertTraffic& before) {
  if (ledger.setup == nullptr || !ledger.setup->log) return;
  const engine::SessionWork& w = s.work();
  const engine::ModelCosts& c = ledger.costs;
  engine::GenerationEvent ev;
  ev.finish = engine::FinishReason::kLength;
  ev.usage = {.prompt_tokens = depth + (prefill ? n : 0), .cache_hit_tokens = depth, .cache_hit_disk_tokens = 0,
              .cache_miss_tokens = prefill ? n : 0, .completion_tokens = prefill ? 0 : n};
  engine::GenerationWork& g = ev.work;
  g.wall_s = wall;
  (prefill ? g.prefill_s : g.decode_s) = w.seconds;
  g.kv_peak_bytes = static_cast<double>(s.tokens().size()) * c.kv_bytes_per_token;
  g.kv_byte_seconds = w.kv_byte_seconds;
  g.kv_bytes_read = static_cast<double>(w.kv_rows_read) * c.kv_bytes_per_token;
  g.weight_bytes_read = static_cast<double>(w.steps) * c.weight_bytes_per_step + static_cast<double>(w.tokens) * c.embedding_row_bytes;
  if (m.expert_store) {
    const model::ExpertTraffic t = m.expert_store->Traffic();
    g.expert_bytes_ram = static_cast<double>(t.bytes_served - before.bytes_served);
    g.expert_bytes_disk = static_cast<double>(t.bytes_read - before.bytes_read);
    g.expert_fetches = static_cast<double>(t.reads - before.reads);
    g.expert_stall_s = t.stall_s - before.stall_s;
  } else {
    g.expert_bytes_ram = static_cast<double>(w.routed_experts) * c.bytes_per_expert;
  }
  ledger.setup->Record(ev, "", c);
}

model::ExpertTraffic TrafficOf(const model::LoadedModel& m) {
  return m.expert_store ? m.expert_store->Traffic() : model::ExpertTraffic{};
}

// The first `depth` ids fill the cache untimed; the rest are the test.
StatusOr<double> TimePrefill(const model::LoadedModel& m, const engine::SessionOptions& o, ThreadPool& pool, int n, int depth,
                             int rep, const BenchLedger& ledger) {
  FRUGAL_ASSIGN_OR_RETURN(auto session, engine::Session::Create(m, o, pool));
  engine::Session& s = *session;
  const auto ids = SeededIds(depth + n, m.config.vocab_size, 1000 + static_cast<uint64_t>(rep));
  if (depth > 0) FRUGAL_RETURN_IF_ERROR(s.Feed({ids.begin(), ids.begin() + depth}).status());
  s.ResetWork();
  const model::ExpertTraffic before = TrafficOf(m);
  const auto t0 = Clock::now();
  FRUGAL_ASSIGN_OR_RETURN(int computed, s.Feed(ids));  // reuses the depth prefix
  const double t = std::chrono::duration<double>(Clock::now() - t0).count();
  RecordRun(ledger, m, s, true, depth, computed, t, before);
  return computed / t;
}

StatusOr<double> TimeDecode(const model::LoadedModel& m, const engine::SessionOptions& o, ThreadPool& pool, int n, int depth,
                            int rep, const BenchLedger& ledger) {
  FRUGAL_ASSIGN_OR_RETURN(auto session, engine::Session::Create(m, o, pool));
  engine::Session& s = *session;
  if (depth > 0) FRUGAL_RETURN_IF_ERROR(s.Feed(SeededIds(depth, m.config.vocab_size, 3000 + static_cast<uint64_t>(rep))).status());
  s.ResetWork();
  const model::ExpertTraffic before = TrafficOf(m);
  const auto ids = SeededIds(n, m.config.vocab_size, 2000 + static_cast<uint64_t>(rep));
  const auto t0 = Clock::now();
  for (int32_t id : ids) FRUGAL_RETURN_IF_ERROR(s.Append(id));
  const double t = std::chrono::duration<double>(Clock::now() - t0).count();
  RecordRun(ledger, m, s, false, depth, n, t, before);
  return n / t;
}

Status Run(const Flags& f) {
  if (f.prompt < 0 || f.gen < 0 || f.depth < 0 || f.prompt > 1 << 20 || f.gen > 1 << 20 || f.depth > 1 << 20) {
    return InvalidArgument("-p, -n and -d must be in 0..{}", 1 << 20);
  }
  if (f.repetitions < 1 || f.threads < 1) return InvalidArgument("-r and -t must be at least 1");
  FRUGAL_ASSIGN_OR_RETURN(model::KvDtype kv, model::KvDtypeFromName(f.kv_type));
  FRUGAL_ASSIGN_OR_RETURN(auto m, model::LoadModel(f.model, LoadOptionsFor(f.experts)));
  FRUGAL_ASSIGN_OR_RETURN(ExpertSetup experts, SetUpExperts(m.get(), f.experts));
  FRUGAL_ASSIGN_OR_RETURN(const LedgerSetup ledger_setup, SetUpLedger(f.ledger, "bench", f.model));
  const BenchLedger ledger{&ledger_setup, engine::ModelCostsOf(*m, kv::ShapeFor(m->config, kv))};
  const BenchLedger untimed{};  // warm-up runs are not recorded
  ThreadPool pool(f.threads);
  const engine::SessionOptions o{.context = f.depth + std::max(f.prompt, f.gen) + 1, .kv_dtype = kv,
                                 .prefill_chunk = std::max({1, f.prompt, std::min(f.depth, 512)}), .exact = f.exact};
  const model::Footprint fp = model::ComputeFootprint(m->config, model::TensorEntriesOf(m->file));
  nlohmann::json out = {{"model", f.model}, {"file_bytes", m->file.file_size()}, {"params", fp.total_params},
                        {"threads", f.threads}, {"kv_type", f.kv_type}, {"exact", f.exact}, {"tests", nlohmann::json::array()}};
  std::vector<std::pair<std::string, Spread>> rows;
  for (const auto& [name, n, prefill] : {std::tuple{"pp", f.prompt, true}, std::tuple{"tg", f.gen, false}}) {
    if (n <= 0) continue;
    std::vector<double> rates;
    if (f.warmup) {  // one untimed run first, as llama-bench does (page faults, caches, allocations)
      FRUGAL_RETURN_IF_ERROR(
          (prefill ? TimePrefill(*m, o, pool, n, f.depth, f.repetitions, untimed)
                   : TimeDecode(*m, o, pool, n, f.depth, f.repetitions, untimed))
              .status());
    }
    for (int r = 0; r < f.repetitions; ++r) {
      FRUGAL_ASSIGN_OR_RETURN(double rate,
                              prefill ? TimePrefill(*m, o, pool, n, f.depth, r, ledger) : TimeDecode(*m, o, pool, n, f.depth, r, ledger));
      rates.push_back(rate);
    }
    const Spread s = SpreadOf(rates);
    const std::string test = name + std::to_string(n) + (f.depth > 0 ? " @ d" + std::to_string(f.depth) : "");
    rows.push_back({test, s});
    out["tests"].push_back({{"test", test}, {"tokens_per_s", rates}, {"median", s.median}, {"min", s.min}, {"max", s.max}});
  }
  out["peak_rss_bytes"] = PeakResidentBytes();
  if (experts.store) {
    const nlohmann::json stats = ExpertStatsJson(experts.store->Stats());
    for (const auto& [key, value] : stats.items()) out[key] = value;
  }
  FRUGAL_RETURN_IF_ERROR(experts.Finish());
  out["every_token_weight_copy_bytes"] = m->resident.size();
  out["every_token_weight_huge_page_bytes"] = m->resident.HugeBytes();
  out["routed_expert_copy_bytes"] = m->resident_experts.size();
  out["routed_expert_huge_page_bytes"] = m->resident_experts.HugeBytes();
  if (f.roofline) {
    const double bw = MeasureReadBandwidth(pool, size_t{1} << 30, 5);
    // A decode step reads every active weight byte once, and the latent cache of the positions
    // before it (on average depth + n/2 of them during tgN @ dD): the ceiling is bw / bytes.
    const double kv_value_bytes = kv == model::KvDtype::kF32 ? 4.0 : 2.0;
    const double mean_context = static_cast<double>(f.depth) + 0.5 * static_cast<double>(f.gen);
    const double kv_bytes = mean_context * static_cast<double>(fp.kv_latent_bytes_per_token) / 2.0 * kv_value_bytes;
    const double bytes = static_cast<double>(fp.active_bytes_per_token) + kv_bytes;
    out["roofline"] = {{"read_bandwidth_bytes_per_s", bw}, {"bytes_per_decoded_token", bytes},
                       {"weight_bytes_per_decoded_token", fp.active_bytes_per_token},
                       {"kv_bytes_per_decoded_token", kv_bytes}, {"decode_roofline_tokens_per_s", bw / bytes}};
  }
  if (f.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return OkStatus();
  }
  std::printf("| model | size | params | threads | kv | test | t/s (median) | min..max |\n|---|---|---|---|---|---|---|---|\n");
  for (const auto& [test, s] : rows) {
    std::printf("| %s | %.2f GiB | %.2f B | %d | %s | %s | %.2f | %.2f..%.2f |\n", f.model.c_str(),
                static_cast<double>(m->file.file_size()) / (1 << 30), static_cast<double>(fp.total_params) / 1e9, f.threads,
                f.kv_type.c_str(), test.c_str(), s.median, s.min, s.max);
  }
  std::printf("\npeak RSS %.0f MiB (file %.0f MiB); every-token weights copied: %.0f MiB, %.0f MiB of it in huge pages\n",
              static_cast<double>(out["peak_rss_bytes"].get<size_t>()) / (1 << 20),
              static_cast<double>(m->file.file_size()) / (1 << 20), static_cast<double>(m->resident.size()) / (1 << 20),
              static_cast<double>(m->resident.HugeBytes()) / (1 << 20));
  if (m->resident_experts.size() > 0) {
    std::printf("routed experts copied: %.0f MiB, %.0f MiB of it in huge pages\n", static_cast<double>(m->resident_experts.size()) / (1 << 20),
                static_cast<double>(m->resident_experts.HugeBytes()) / (1 << 20));
  }
  if (experts.store) std::printf("%s", ExpertStatsText(experts.store->Stats()).c_str());
  if (kernels::AttentionBlockFastUsable()) {
    std::printf("prefill attention (naive path): %s; vdpbf16ps runs %.2fx the f32 FMA's multiply-adds here\n",
                kernels::AttentionBlockBf16Preferred() ? "bf16 products where K and V come from 8-bit products" : "f32 products",
                kernels::AttentionBf16DotSpeedup());
  }
  if (f.roofline) {
    const double bw = out["roofline"]["read_bandwidth_bytes_per_s"], roof = out["roofline"]["decode_roofline_tokens_per_s"];
    const double per_token = out["roofline"]["bytes_per_decoded_token"];
    std::printf("read bandwidth %.1f GB/s; decode reads %.1f MiB/token; roofline %.1f tokens/s", bw / 1e9,
                per_token / (1 << 20), roof);
    for (const auto& [test, s] : rows) {
      if (test.rfind("tg", 0) == 0) std::printf("; %s at %.0f%% of it", test.c_str(), 100.0 * s.median / roof);
    }
    std::printf("\n");
  }
  return OkStatus();
}

}  // namespace

void AddBenchModel(CLI::App& bench, std::vector<Command>* commands) {
  auto f = std::make_shared<Flags>();
  bench.add_option("-m,--model", f->model, "GGUF file");
  bench.add_option("-p,--n-prompt", f->prompt, "prefill test length (0: skip)")->capture_default_str();
  bench.add_option("-n,--n-gen", f->gen, "decode test length (0: skip)")->capture_default_str();
  bench.add_option("-d,--n-depth", f->depth, "tokens already in the cache before each test (untimed)")->capture_default_str();
  bench.add_option("-r,--repetitions", f->repetitions, "runs per test")->capture_default_str();
  bench.add_option("-t,--threads", f->threads, "threads")->capture_default_str();
  bench.add_option("--kv-type", f->kv_type, "latent cache type")->capture_default_str();
  bench.add_flag("--json", f->json, "JSON on stdout");
  bench.add_flag("--roofline", f->roofline, "measure read bandwidth and decode's share of the roofline");
  bench.add_flag("--exact", f->exact, "exact float kernels (no activation rounding)");
  bench.add_flag("!--no-warmup", f->warmup, "skip the untimed run before each test");
  AddExpertFlags(&bench, &f->experts);
  AddLedgerFlags(&bench, &f->ledger);
  commands->push_back({&bench, [f]() -> int {
    if (f->model.empty()) return ExitStatus(InvalidArgument("bench needs -m MODEL (or a subcommand: tokenize)"));
    return ExitStatus(Run(*f));
  }});
}

}  // namespace frugal::app
