// A finished generation's ledger record (ledger_record.h), from the engine's final event for it
// (usage and work) and the engine's model costs, priced under a sheet. Pure functions.
#pragma once

#include <string>

#include "engine/engine.h"
#include "ledger/ledger_record.h"
#include "ledger/prices.h"

namespace frugal::ledger {

struct LedgerSource {
  std::string source;  // "run", "serve", "bench"
  std::string model;   // the model file's name
  PriceSheet prices;
};

// `time`: unix seconds of the end.
LedgerRecord LedgerRecordOf(const engine::GenerationEvent& final_event, const std::string& tenant, const engine::ModelCosts& costs,
                                    const LedgerSource& source, double time);
// Unix seconds now.
double UnixNow();

}  // namespace frugal::ledger
