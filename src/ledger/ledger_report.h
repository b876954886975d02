// `frugal ledger report`: the ledger's records summed — all of them and by tenant, day (UTC),
// model or source — with the cost under the records' price sheets and what each lever saved
// (counterfactual.h), as text, JSON or SVG bar charts. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ledger/counterfactual.h"
#include "ledger/ledger_log.h"
#include "ledger/plan.h"
#include "util/status.h"

namespace frugal::ledger {

enum class GroupBy { kNone, kTenant, kDay, kModel, kSource };
StatusOr<GroupBy> ParseGroupBy(const std::string& name);  // "", tenant, day, model, source

struct ReportGroup {
  std::string key;  // the tenant ("-" for none), the day YYYY-MM-DD (UTC), the model, the source
  LedgerTotals totals;
  Savings savings;
};

struct LedgerReport {
  LedgerTotals all;
  Savings savings;
  std::vector<ReportGroup> groups;  // sorted by key
  std::optional<Hardware> hardware;
  std::vector<std::string> files;
  int64_t bad_lines = 0;
  std::string first_bad;
};

LedgerReport BuildReport(const LedgerContents& contents, GroupBy by, const std::optional<Hardware>& hardware);
std::string ReportText(const LedgerReport& r, GroupBy by);
nlohmann::json ReportJson(const LedgerReport& r);
// Bars per group (or one bar without groups): the bill against what recomputing every prompt
// token would have billed, and tokens by kind (hit RAM, hit disk, miss, output).
std::string ReportSvg(const LedgerReport& r, GroupBy by);

}  // namespace frugal::ledger
