#include "app/ledger_flags.h"

#include <filesystem>

#include "ledger/prices.h"
#include "util/log.h"

namespace frugal::app {

void AddLedgerFlags(CLI::App* cmd, LedgerFlags* f) {
  cmd->add_option("--ledger", f->path, "append a JSONL record of every finished generation to this file (docs/LEDGER.md)");
  cmd->add_option("--prices", f->prices, "price sheet of the ledger's costs: a built-in name or a JSON file (default: DeepSeek V3's list price)");
  cmd->add_option("--ledger-rotate", f->rotate_bytes, "rename the ledger to FILE.N past this size (8M, 1G...)")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
}

StatusOr<LedgerSetup> SetUpLedger(const LedgerFlags& f, const std::string& source, const std::string& model_path) {
  LedgerSetup s;
  s.source.source = source;
  s.source.model = std::filesystem::path(model_path).filename().string();
  FRUGAL_ASSIGN_OR_RETURN(s.source.prices, ledger::LoadPriceSheet(f.prices.empty() ? ledger::DefaultPriceSheetFor("") : f.prices));
  if (!f.path.empty()) {
    if (f.rotate_bytes < 4096) return InvalidArgument("--ledger-rotate {} is too small (at least 4096 bytes)", f.rotate_bytes);
    FRUGAL_ASSIGN_OR_RETURN(s.log, ledger::LedgerLog::Open({.path = f.path, .rotate_bytes = f.rotate_bytes}));
  }
  return s;
}

void LedgerSetup::Record(const engine::GenerationEvent& ev, const std::string& tenant, const engine::ModelCosts& costs) const {
  if (!log) return;
  const Status s = log->Append(ledger::LedgerRecordOf(ev, tenant, costs, source, ledger::UnixNow()));
  if (!s.ok()) LogError("{}", s.ToString());
}

}  // namespace frugal::app
