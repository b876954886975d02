// A finished generation's ledger record (ledger/ledger_record.h), from its final event and the
// engine's model costs, priced under a sheet. Pure functions.
#pragma once

#include <string>

#include "engine/engine.h"
#include "ledger/ledger_record.h"
#include "ledger/prices.h"

namespace frugal::engine {

struct LedgerSource {
  std::string source;  // "run", "serve", "bench"
  std::string model;   // the model file's name
  ledger::PriceSheet prices;
};

// `time`: unix seconds of the end.
ledger::LedgerRecord LedgerRecordOf(const GenerationEvent& final_event, const std::string& tenant, const ModelCosts& costs,
                                    const LedgerSource& source, double time);
// Unix seconds now.
double UnixNow();

}  // namespace frugal::engine
