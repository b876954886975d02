// `frugal bench matmul`: one weight matrix (random values, stored as --type) times a batch of
// activations, on the kernels the forward pass would pick (or the exact float path): median
// GFLOP/s (2·rows·cols·tokens per product) and weight GB/s over runs. For kernel work; the
// model-level figures come from `frugal bench -m`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "app/bench_common.h"
#include "app/commands.h"
#include "kernels/cpu_features.h"
#include "kernels/matmul.h"
#include "kernels/panel_rows.h"
#include "kernels/quantize.h"
#include "util/log.h"
#include "util/rng.h"
#include "util/thread_pool.h"

namespace frugal::app {
namespace {

struct Flags {
  std::string type = "q8_0";
  int64_t rows = 3072, cols = 1024, tokens = 512;
  int repetitions = 5, threads = 2;
  bool exact = false;
  bool panels = false;
};

Status Run(const Flags& f) {
  const std::optional<GgmlType> type = TypeFromName(f.type);
  if (!type || !kernels::CanQuantize(*type)) return InvalidArgument("--type: '{}' is not a writable type", f.type);
  if (f.rows < 1 || f.rows > (1 << 20) || f.tokens < 1 || f.tokens > 8192 || f.cols < 1 || f.cols > (1 << 16) ||
      f.cols % TraitsOf(*type).block_elems != 0 || f.repetitions < 1 || f.repetitions > 10000 || f.threads < 1 ||
      f.threads > 256) {
    return InvalidArgument("bad sizes: rows 1..2^20, tokens 1..8192, cols 1..65536 in whole blocks, -r 1..10000, -t 1..256");
  }
  constexpr double kMaxBytes = 8.0 * (1 << 30);  // each of: the weights, the activations, the outputs
  const double weight_bytes = static_cast<double>(f.rows) * static_cast<double>(RowBytes(*type, static_cast<uint64_t>(f.cols)));
  if (weight_bytes > kMaxBytes || 4.0 * static_cast<double>(f.tokens) * static_cast<double>(std::max(f.rows, f.cols)) > kMaxBytes) {
    return InvalidArgument("--rows × --cols × --tokens need more than 8 GiB for one of weights, activations, outputs");
  }
  Rng rng(7);
  std::vector<float> row(static_cast<size_t>(f.cols)), x(static_cast<size_t>(f.tokens * f.cols));
  const uint64_t rb = RowBytes(*type, static_cast<uint64_t>(f.cols));
  std::vector<std::byte> w(rb * static_cast<uint64_t>(f.rows));
  for (int64_t r = 0; r < f.rows; ++r) {
    for (float& v : row) v = static_cast<float>(rng.Gaussian() * 0.02);
    kernels::QuantizeRow(*type, row.data(), w.data() + static_cast<uint64_t>(r) * rb, f.cols);
  }
  if (f.panels) {  // reordered as the loader reorders every-token Q8_0 weights
    if (!kernels::HasPanelOrder(*type) || !kernels::PanelRowsFit(f.cols) || !kernels::PanelRowsUsable()) {
      return InvalidArgument("--panels: q8_0 or q4_K rows of a multiple of 512 columns, on AVX-512 VNNI without AMX");
    }
    std::vector<std::byte> reordered(w.size());
    for (int64_t r = 0; r < f.rows; ++r) {
      kernels::PackPanelRow(*type, w.data() + static_cast<uint64_t>(r) * rb, f.cols, reordered.data() + static_cast<uint64_t>(r) * rb);
    }
    w = std::move(reordered);
  }
  for (float& v : x) v = static_cast<float>(rng.Gaussian());
  std::vector<float> y(static_cast<size_t>(f.tokens * f.rows));
  ThreadPool pool(f.threads);
  const kernels::WeightRows weights{w.data(), *type, f.cols, f.rows, 0,
                                    f.panels ? RowOrder::kPanels : RowOrder::kAsStored};
  const kernels::MatMulParams params{.n_tokens = f.tokens, .exact = f.exact};
  kernels::MatMul(weights, x.data(), y.data(), params, &pool);  // warm-up
  std::vector<double> seconds;
  for (int r = 0; r < f.repetitions; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    kernels::MatMul(weights, x.data(), y.data(), params, &pool);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const Spread s = SpreadOf(seconds);
  const double flop = 2.0 * static_cast<double>(f.rows) * static_cast<double>(f.cols) * static_cast<double>(f.tokens);
  std::printf("| type | rows × cols | tokens | threads | isa | amx | path | GFLOP/s (median) | min..max | weights GB/s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  std::printf("| %s | %lld × %lld | %lld | %d | %s | %s | %s | %.1f | %.1f..%.1f | %.1f |\n", f.type.c_str(),
              static_cast<long long>(f.rows), static_cast<long long>(f.cols), static_cast<long long>(f.tokens), f.threads,
              kernels::IsaName(kernels::DetectedIsa()), kernels::AmxUsable() ? "yes" : "no", kernels::PathName(kernels::PathOf(*type, f.cols, params, weights.order)),
              flop / s.median / 1e9, flop / s.max / 1e9, flop / s.min / 1e9,
              static_cast<double>(w.size()) / s.median / 1e9);
  return OkStatus();
}

}  // namespace

void AddBenchMatMul(CLI::App& bench, std::vector<Command>* commands) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = bench.add_subcommand("matmul", "one weight matrix × a batch of activations (kernel throughput)");
  cmd->add_option("--type", f->type, "stored weight type")->capture_default_str();
  cmd->add_option("--rows", f->rows, "weight rows (outputs)")->capture_default_str();
  cmd->add_option("--cols", f->cols, "weight columns (inputs)")->capture_default_str();
  cmd->add_option("--tokens", f->tokens, "activation rows")->capture_default_str();
  cmd->add_option("-r,--repetitions", f->repetitions, "runs")->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "threads")->capture_default_str();
  cmd->add_flag("--exact", f->exact, "exact float kernels");
  cmd->add_flag("--panels", f->panels, "q8_0/q4_K rows reordered for the panel kernels, as the loader does with every-token weights");
  commands->push_back({cmd, [f]() -> int { return ExitStatus(Run(*f)); }});
}

}  // namespace frugal::app
