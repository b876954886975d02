// `frugal bench experts -m MODEL`: the disk tier's read speed. Alternates (-r times) a raw
// sequential direct read of the routed experts' part of the file — 4 MiB O_DIRECT reads one
// after another, what `dd iflag=direct bs=4M` measures — with the expert store fetching every
// expert once into a RAM tier half their size (each layer's experts requested at once, their
// slices read with --expert-io-threads reads in flight; LRU makes every fetch a miss; the
// tier's memory is faulted in by an untimed first pass). Prints both speeds, medians, ratio.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

#include "app/bench_common.h"
#include "app/commands.h"
#include "experts/model_experts.h"
#include "model/loaded_model.h"

namespace frugal::app {
namespace {

struct Flags {
  std::string model, io_engine = "auto";
  int repetitions = 3, io_threads = 8;
  bool json = false;
};

using Clock = std::chrono::steady_clock;

StatusOr<double> RawRead(const io::RandomAccessFile& file, uint64_t begin, uint64_t end) {
  constexpr uint64_t kChunk = 4 << 20;
  std::unique_ptr<std::byte, decltype(&std::free)> buf(static_cast<std::byte*>(std::aligned_alloc(io::kDirectIoAlignment, kChunk)), &std::free);
  if (!buf) return ResourceExhausted("no memory for a read buffer");
  begin = begin / io::kDirectIoAlignment * io::kDirectIoAlignment;
  const auto t0 = Clock::now();
  uint64_t done = 0;
  for (uint64_t at = begin; at < end; at += kChunk) {
    const uint64_t n = std::min(kChunk, end - at);
    FRUGAL_RETURN_IF_ERROR(file.ReadAt(at, {buf.get(), static_cast<size_t>(n)}));
    done += n;
  }
  return static_cast<double>(done) / std::chrono::duration<double>(Clock::now() - t0).count();
}

// One pass over every expert, layer by layer, each layer's experts requested at once. With the
// tier half the experts' size, LRU evicts each expert before its next pass: every fetch is a read.
StatusOr<double> StoreFetch(experts::ExpertStore& store) {
  const experts::ExpertLayout& layout = store.layout();
  const uint64_t before = store.Stats().expert_bytes_read;
  const auto t0 = Clock::now();
  for (int l = 0; l < layout.n_layers(); ++l) {
    const int n = layout.layers[static_cast<size_t>(l)].n_experts;
    for (int e0 = 0; e0 < n; e0 += store.wave_limit()) {
      std::vector<int> ids;
      for (int e = e0; e < n && e < e0 + store.wave_limit(); ++e) ids.push_back(e);
      FRUGAL_RETURN_IF_ERROR(store.Acquire(l, ids).status());
    }
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return static_cast<double>(store.Stats().expert_bytes_read - before) / s;
}

Status Run(const Flags& f) {
  if (f.repetitions < 1 || f.io_threads < 1) return InvalidArgument("-r and --expert-io-threads must be at least 1");
  const model::LoadOptions store_reads_experts{.routed_experts_resident = false};
  FRUGAL_ASSIGN_OR_RETURN(auto m, model::LoadModel(f.model, store_reads_experts));
  FRUGAL_ASSIGN_OR_RETURN(experts::ExpertLayout layout, experts::ExpertLayoutOf(m->file, m->config));
  if (layout.TotalBytes() == 0) return InvalidArgument("'{}' has no routed experts", f.model);
  uint64_t begin = UINT64_MAX, end = 0;
  for (const auto& le : layout.layers) {
    for (const auto& p : le.parts) {
      if (le.n_experts == 0) continue;
      begin = std::min(begin, p.file_offset);
      end = std::max(end, p.file_offset + p.bytes * static_cast<uint64_t>(le.n_experts));
    }
  }
  FRUGAL_ASSIGN_OR_RETURN(auto raw_file, io::OpenDirectFile(f.model));
  FRUGAL_ASSIGN_OR_RETURN(auto store_file, io::OpenDirectFile(f.model));
  experts::ExpertStoreOptions o;
  o.budget_bytes = layout.TotalBytes() / 2;
  o.io_threads = f.io_threads;
  o.io_engine = f.io_engine;
  FRUGAL_ASSIGN_OR_RETURN(auto tier, experts::ExpertStore::Create(layout, std::move(store_file), o));
  const std::string engine = tier->Stats().io_engine;
  // Untimed: the tier's memory is faulted in once (steady state: slots are refilled, not new).
  FRUGAL_RETURN_IF_ERROR(StoreFetch(*tier).status());
  std::vector<double> raw, store;
  for (int r = 0; r < f.repetitions; ++r) {
    FRUGAL_ASSIGN_OR_RETURN(double a, RawRead(*raw_file, begin, end));
    FRUGAL_ASSIGN_OR_RETURN(double b, StoreFetch(*tier));
    raw.push_back(a);
    store.push_back(b);
  }
  const experts::ExpertStoreStats st = tier->Stats();
  if (st.Hits() != 0) return MakeStatus(StatusCode::kInternal, "the fetch passes hit the tier {} times", st.Hits());
  const Spread a = SpreadOf(raw), b = SpreadOf(store);
  if (f.json) {
    const nlohmann::json j = {{"model", f.model}, {"direct_io", raw_file->DirectIo()}, {"expert_bytes", layout.TotalBytes()},
                              {"raw_read_bytes_per_s", a.median}, {"store_read_bytes_per_s", b.median},
                              {"ratio", b.median / a.median}, {"io_threads", f.io_threads}, {"io_engine", engine}, {"raw_runs", raw}, {"store_runs", store}};
    std::printf("%s\n", j.dump(2).c_str());
    return OkStatus();
  }
  std::printf("%s: %.1f MiB of routed experts, %s I/O\n", f.model.c_str(), static_cast<double>(layout.TotalBytes()) / (1 << 20),
              raw_file->DirectIo() ? "direct" : "buffered (no O_DIRECT here)");
  std::printf("raw sequential read (4 MiB, one at a time): %.2f GB/s (%.2f..%.2f)\n", a.median / 1e9, a.min / 1e9, a.max / 1e9);
  std::printf("expert store fetch (%s, %d threads):  %.2f GB/s (%.2f..%.2f) = %.0f%% of raw\n", engine.c_str(), f.io_threads, b.median / 1e9,
              b.min / 1e9, b.max / 1e9, 100.0 * b.median / a.median);
  return OkStatus();
}

}  // namespace

void AddBenchExperts(CLI::App& bench, std::vector<Command>* commands) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = bench.add_subcommand("experts", "direct-I/O read speed of the expert store vs raw sequential reads");
  cmd->add_option("-m,--model", f->model, "GGUF file")->required();
  cmd->add_option("-r,--repetitions", f->repetitions, "alternations")->capture_default_str();
  cmd->add_option("--expert-io-threads", f->io_threads, "expert reads in flight (threads or ring entries)")->capture_default_str();
  cmd->add_option("--io-engine", f->io_engine, "auto | io_uring | pread")->capture_default_str();
  cmd->add_flag("--json", f->json, "JSON on stdout");
  commands->push_back({cmd, [f]() -> int { return ExitStatus(Run(*f)); }});
}

}  // namespace frugal::app
