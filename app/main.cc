// The `frugal` command: one executable, llama.cpp-style flags, subcommands per job.
#include <vector>

#include "app/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"frugal: DeepSeek-architecture (MLA + MoE) inference engine"};
  app.require_subcommand(1);
  std::vector<frugal::app::Command> commands = {
      frugal::app::AddRunCommand(app),
      frugal::app::AddInspectCommand(app),
      frugal::app::AddMakeModelCommand(app),
      frugal::app::AddDequantCommand(app),
      frugal::app::AddLogitsCommand(app),
      frugal::app::AddTokenizeCommand(app),
  };
  frugal::app::AddBenchCommands(app, &commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (const frugal::app::Command& c : commands) {
    if (c.cli->parsed()) return c.run();
  }
  return 1;
}
