// The `frugal` command: one executable, llama.cpp-style flags, subcommands per job.
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <new>
#include <string>
#include <vector>

#include "app/commands.h"

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) makes a write fail with EFBIG, reported like a full disk,
  // instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);
  // Forward steps allocate scratch of tens to hundreds of MB (a prefill chunk's per-head queries,
  // say). Above glibc's mmap threshold (at most 32 MiB) each such buffer is mapped and unmapped
  // again, and every page faults on every layer: 20% of V4-flash-shaped prefill time on a VM
  // (docs/BENCHMARKS.md). Kept in the heap instead, freed scratch is reused without faults; the
  // heap keeps its peak (one step's scratch) rather than returning it after each step.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{"frugal: DeepSeek-architecture (MLA + MoE) inference engine"};
  app.require_subcommand(1);
  std::vector<frugal::app::Command> commands = {
      frugal::app::AddRunCommand(app),
      frugal::app::AddServeCommand(app),
      frugal::app::AddInspectCommand(app),
      frugal::app::AddMakeModelCommand(app),
      frugal::app::AddDequantCommand(app),
      frugal::app::AddLogitsCommand(app),
      frugal::app::AddTokenizeCommand(app),
      frugal::app::AddProfileExpertsCommand(app),
      frugal::app::AddPlanCommand(app),
  };
  frugal::app::AddTraceCommands(app, &commands);
  frugal::app::AddBenchCommands(app, &commands);
  frugal::app::AddLedgerCommands(app, &commands);
  // llama-batched-bench's multi-letter single-dash flags (-npp, -ntg, -npl, -pps, -ub) are
  // accepted as written; CLI11 knows them with two dashes.
  std::vector<std::string> args(argv, argv + argc);
  for (std::string& a : args) {
    if (a == "-npp" || a == "-ntg" || a == "-npl" || a == "-pps" || a == "-ub") a = "-" + a;
  }
  std::vector<char*> arg_ptrs;
  for (std::string& a : args) arg_ptrs.push_back(a.data());
  try {
    app.parse(argc, arg_ptrs.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // Nested subcommands (bench tokenize) come after their parent: run the deepest parsed one.
  for (auto it = commands.rbegin(); it != commands.rend(); ++it) {
    if (!it->cli->parsed()) continue;
    try {
      return it->run();
    } catch (const std::bad_alloc&) {  // sizes the user asked for that this machine cannot hold
      std::fprintf(stderr, "error: ResourceExhausted: out of memory (the sizes asked for need more than this machine has)\n");
      return 1;
    }
  }
  return 1;
}
