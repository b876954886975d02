#include "app/commands.h"

namespace frugal::app {

void AddBenchCommands(CLI::App& app, std::vector<Command>* commands) {
  CLI::App* bench = app.add_subcommand("bench", "benchmarks (see docs/BENCHMARKS.md)");
  AddBenchModel(*bench, commands);     // the parent first: main runs the deepest parsed command
  AddBenchTokenize(*bench, commands);
  AddBenchMatMul(*bench, commands);
  AddBenchBatched(*bench, commands);
  AddBenchCache(*bench, commands);
  AddBenchExperts(*bench, commands);
}

}  // namespace frugal::app
