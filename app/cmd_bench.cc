#include "app/commands.h"

namespace frugal::app {

void AddBenchCommands(CLI::App& app, std::vector<Command>* commands) {
  CLI::App* bench = app.add_subcommand("bench", "benchmarks (see docs/BENCHMARKS.md)");
  bench->require_subcommand(1);
  AddBenchTokenize(*bench, commands);
}

}  // namespace frugal::app
