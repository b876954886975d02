// `frugal ledger report LOG`: the ledger's records (written by run, serve and bench cache with
// --ledger) summed, by tenant, day, model or source, with the cost and what each lever saved
// (docs/LEDGER.md). Text, --json, or --svg bar charts.
#include <cstdio>

#include "app/commands.h"
#include "ledger/ledger_log.h"
#include "ledger/ledger_report.h"

namespace frugal::app {
namespace {

struct ReportFlags {
  std::string log, by, hardware, svg;
  bool json = false;
};

Status RunReport(const ReportFlags& f) {
  FRUGAL_ASSIGN_OR_RETURN(const ledger::GroupBy by, ledger::ParseGroupBy(f.by));
  std::optional<ledger::Hardware> hardware;
  if (!f.hardware.empty()) {
    FRUGAL_ASSIGN_OR_RETURN(ledger::Hardware h, ledger::LoadHardware(f.hardware));
    hardware = h;
  }
  FRUGAL_ASSIGN_OR_RETURN(const ledger::LedgerContents contents, ledger::ReadLedger(f.log));
  const ledger::LedgerReport report = ledger::BuildReport(contents, by, hardware);
  if (!f.svg.empty()) FRUGAL_RETURN_IF_ERROR(WriteTextFile(f.svg, ledger::ReportSvg(report, by)));
  const std::string out = f.json ? ledger::ReportJson(report).dump(2) + "\n" : ledger::ReportText(report, by);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return OkStatus();
}

}  // namespace

void AddLedgerCommands(CLI::App& app, std::vector<Command>* commands) {
  CLI::App* parent = app.add_subcommand("ledger", "what generations cost and what each lever saved (written by --ledger)");
  parent->require_subcommand(1);
  commands->push_back({parent, [] { return 2; }});  // the parent first: main runs the deepest parsed command
  auto f = std::make_shared<ReportFlags>();
  CLI::App* report = parent->add_subcommand("report", "sum a ledger: tokens, bytes, seconds, cost and savings");
  report->add_option("log", f->log, "the ledger file (its rotated FILE.1, FILE.2 … are read too)")->required();
  report->add_option("--by", f->by, "group by tenant | day | model | source");
  report->add_option("--hardware", f->hardware,
                     "a JSON sheet {usd_per_hour, amortize_years, tiers: [{name, gb, gbps, usd_per_gb}, …]}: prices memory and time");
  report->add_flag("--json", f->json, "one JSON object");
  report->add_option("--svg", f->svg, "also draw the bill and the tokens per group into this SVG file");
  commands->push_back({report, [f]() -> int { return ExitStatus(RunReport(*f)); }});
}

}  // namespace frugal::app
