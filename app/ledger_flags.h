// The ledger flags shared by run, serve, bench and bench cache (--ledger FILE, --prices SHEET,
// --ledger-rotate BYTES) and what they open: the price sheet the cost uses and, with --ledger,
// the log every finished generation is appended to.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "engine/engine.h"
#include "ledger/generation_record.h"
#include "ledger/ledger_log.h"

namespace frugal::app {

struct LedgerFlags {
  std::string path;
  std::string prices;
  uint64_t rotate_bytes = uint64_t{64} << 20;
};

void AddLedgerFlags(CLI::App* cmd, LedgerFlags* f);

struct LedgerSetup {
  ledger::LedgerSource source;
  std::unique_ptr<ledger::LedgerLog> log;  // null without --ledger

  // Appends the generation's record (with --ledger); an error is reported, not returned: the
  // generation itself succeeded.
  void Record(const engine::GenerationEvent& final_event, const std::string& tenant, const engine::ModelCosts& costs) const;
};

// source: "run", "serve", "bench"; model_path: the model file (its name goes in the records).
StatusOr<LedgerSetup> SetUpLedger(const LedgerFlags& f, const std::string& source, const std::string& model_path);

}  // namespace frugal::app
