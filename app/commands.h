// Subcommands of the `frugal` executable. Each registers its flags on the CLI11 app and
// returns the process exit status when run.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "util/status.h"

namespace frugal::app {

struct Command {
  CLI::App* cli;             // the registered subcommand
  std::function<int()> run;  // runs it after parsing; returns the exit status
};

Command AddInspectCommand(CLI::App& app);
Command AddMakeModelCommand(CLI::App& app);
Command AddDequantCommand(CLI::App& app);
Command AddLogitsCommand(CLI::App& app);
Command AddTokenizeCommand(CLI::App& app);
Command AddRunCommand(CLI::App& app);
Command AddServeCommand(CLI::App& app);
Command AddProfileExpertsCommand(CLI::App& app);
Command AddPlanCommand(CLI::App& app);
// `frugal ledger report …`: registers the parent and its subcommand (in that order).
void AddLedgerCommands(CLI::App& app, std::vector<Command>* commands);
// `frugal trace replay …`: registers the parent and its subcommand (in that order).
void AddTraceCommands(CLI::App& app, std::vector<Command>* commands);
// `frugal bench ...`: registers the bench subcommands (each a Command) under one parent.
void AddBenchCommands(CLI::App& app, std::vector<Command>* commands);
void AddBenchTokenize(CLI::App& bench, std::vector<Command>* commands);
void AddBenchModel(CLI::App& bench, std::vector<Command>* commands);
void AddBenchBatched(CLI::App& bench, std::vector<Command>* commands);
void AddBenchCache(CLI::App& bench, std::vector<Command>* commands);
void AddBenchExperts(CLI::App& bench, std::vector<Command>* commands);
void AddBenchMatMul(CLI::App& bench, std::vector<Command>* commands);

// Writes `text` to `path` (replacing it); an error names the file.
Status WriteTextFile(const std::string& path, const std::string& text);

// Exit status of a command: 0, or 1 after printing the error to stderr.
int ExitStatus(const Status& status);

// Directory holding the DeepSeek-V3 tokenizer.json: $FRUGAL_TOKENIZER_DIR, else
// deps/tokenizer-deepseek_v3/models under the current directory or next to the executable's
// build directory (where scripts/setup.sh puts it).
std::string DefaultTokenizerDir();

}  // namespace frugal::app
