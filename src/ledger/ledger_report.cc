#include "ledger/ledger_report.h"

#include <ctime>
#include <map>

#include <fmt/format.h>

#include "ledger/svg_chart.h"
#include "ledger/units.h"

namespace frugal::ledger {
namespace {

std::string DayOf(double unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

std::string KeyOf(const LedgerRecord& r, GroupBy by) {
  switch (by) {
    case GroupBy::kNone: return "";
    case GroupBy::kTenant: return r.tenant.empty() ? "-" : r.tenant;
    case GroupBy::kDay: return DayOf(r.time);
    case GroupBy::kModel: return r.model;
    case GroupBy::kSource: return r.source;
  }
  return "";
}

const char* GroupName(GroupBy by) {
  switch (by) {
    case GroupBy::kTenant: return "tenant";
    case GroupBy::kDay: return "day";
    case GroupBy::kModel: return "model";
    case GroupBy::kSource: return "source";
    case GroupBy::kNone: break;
  }
  return "";
}

std::string Usd(double v) { return std::fabs(v) >= 0.01 || v == 0 ? fmt::format("${:.4f}", v) : fmt::format("${:.3g}", v); }

double Share(double part, double whole) { return whole > 0 ? 100 * part / whole : 0; }

nlohmann::json LeverJson(const LeverSaving& l) {
  return {{"peak_bytes", l.peak_bytes}, {"byte_seconds", l.byte_seconds}, {"bytes_read", l.bytes_read}, {"seconds", l.seconds}, {"usd", l.usd}};
}

nlohmann::json TotalsJson(const LedgerTotals& t, const Savings& v) {
  const LedgerRecord& s = t.sum;
  nlohmann::json j;
  j["generations"] = t.generations;
  j["first_time"] = t.first_time;
  j["last_time"] = s.time;
  j["tokens"] = {{"prompt", s.prompt_tokens}, {"hit", s.hit_tokens}, {"hit_disk", s.hit_disk_tokens}, {"hit_ram", s.hit_tokens - s.hit_disk_tokens},
                 {"miss", s.miss_tokens}, {"output", s.output_tokens}, {"recomputed", s.recomputed_tokens}};
  j["seconds"] = {{"wall", s.wall_s}, {"prefill", s.prefill_s}, {"decode", s.decode_s}};
  j["bytes_read"] = {{"weights_ram", s.weight_bytes_read}, {"experts_ram", s.expert_bytes_ram}, {"experts_disk", s.expert_bytes_disk},
                     {"kv_ram", s.kv_bytes_read}, {"kv_disk", s.kv_disk_bytes_read}};
  j["experts"] = {{"fetches", s.expert_fetches}, {"stall_seconds", s.expert_stall_s}};
  j["kv"] = {{"byte_seconds", s.kv_byte_seconds}, {"peak_bytes", t.kv_peak_max}};
  j["cost"] = {{"hit_usd", s.hit_usd}, {"miss_usd", s.miss_usd}, {"output_usd", s.output_usd}, {"total_usd", s.total_usd},
               {"uncached_prompt_usd", s.uncached_usd}};
  j["saved"] = {{"kv", LeverJson(v.kv)},
                {"experts", LeverJson(v.experts)},
                {"reuse", LeverJson(v.reuse)},
                {"reuse_tokens", v.reuse_tokens},
                {"reuse_price_usd", v.reuse_price_usd},
                {"priced_hardware", v.priced_hardware}};
  return j;
}

std::string LeverLine(const char* name, const LeverSaving& l, bool priced) {
  return fmt::format("  {:<44} {:>10} {:>12} {:>11} {:>9.3f} {:>11}\n", name, DecimalBytes(l.peak_bytes), DecimalBytes(l.byte_seconds / 3600) + "·h",
                     DecimalBytes(l.bytes_read), l.seconds, priced ? Usd(l.usd) : "-");
}

}  // namespace

StatusOr<GroupBy> ParseGroupBy(const std::string& name) {
  if (name.empty()) return GroupBy::kNone;
  if (name == "tenant") return GroupBy::kTenant;
  if (name == "day") return GroupBy::kDay;
  if (name == "model") return GroupBy::kModel;
  if (name == "source") return GroupBy::kSource;
  return InvalidArgument("--by {}: choose tenant, day, model or source", name);
}

LedgerReport BuildReport(const LedgerContents& contents, GroupBy by, const std::optional<Hardware>& hardware) {
  LedgerReport r;
  r.hardware = hardware;
  r.files = contents.files;
  r.bad_lines = contents.bad_lines;
  r.first_bad = contents.first_bad;
  std::map<std::string, LedgerTotals> groups;
  for (const LedgerRecord& rec : contents.records) {
    AddRecord(rec, &r.all);
    if (by != GroupBy::kNone) AddRecord(rec, &groups[KeyOf(rec, by)]);
  }
  r.savings = SavingsOf(r.all, hardware);
  for (auto& [key, totals] : groups) r.groups.push_back({key, totals, SavingsOf(totals, hardware)});
  return r;
}

std::string ReportText(const LedgerReport& r, GroupBy by) {
  const LedgerRecord& s = r.all.sum;
  std::string o;
  o += fmt::format("ledger: {} generations from {} file(s)", r.all.generations, r.files.size());
  if (r.all.generations > 0) o += fmt::format(", {} … {} (UTC)", DayOf(r.all.first_time), DayOf(s.time));
  o += "\n";
  if (r.bad_lines > 0) o += fmt::format("skipped {} line(s) that are not records; the first: {}\n", r.bad_lines, r.first_bad);
  o += fmt::format("tokens: prompt {} (hit {} = {:.1f}%: RAM {}, disk {}; miss {}), output {}, recomputed after preemption {}\n",
                   s.prompt_tokens, s.hit_tokens, Share(static_cast<double>(s.hit_tokens), static_cast<double>(s.prompt_tokens)),
                   s.hit_tokens - s.hit_disk_tokens, s.hit_disk_tokens, s.miss_tokens, s.output_tokens, s.recomputed_tokens);
  o += fmt::format("compute: prefill {:.3f} s, decode {:.3f} s (wall {:.3f} s, summed over generations)\n", s.prefill_s, s.decode_s,
                   s.wall_s);
  o += fmt::format("bytes read: weights {} (RAM); experts {} RAM + {} disk ({:.0f} fetches, {:.3f} s waiting); KV {} RAM + {} disk\n",
                   DecimalBytes(s.weight_bytes_read), DecimalBytes(s.expert_bytes_ram), DecimalBytes(s.expert_bytes_disk), s.expert_fetches,
                   s.expert_stall_s, DecimalBytes(s.kv_bytes_read), DecimalBytes(s.kv_disk_bytes_read));
  o += fmt::format("KV held: {}·h (bytes × hours), largest generation {}\n", DecimalBytes(s.kv_byte_seconds / 3600), DecimalBytes(r.all.kv_peak_max));
  o += fmt::format("cost: hit {} + miss {} + output {} = {}; with no prompt cache the prompt would bill {} more ({:.1f}% of the bill saved)\n",
                   Usd(s.hit_usd), Usd(s.miss_usd), Usd(s.output_usd), Usd(s.total_usd), Usd(r.savings.reuse_price_usd),
                   Share(r.savings.reuse_price_usd, s.total_usd + r.savings.reuse_price_usd));
  const bool priced = r.savings.priced_hardware;
  o += fmt::format("\nwhat each lever saved against a conventional engine{}:\n",
                   priced ? fmt::format(" (hardware sheet {})", r.hardware->name) : " (money and KV seconds need --hardware)");
  o += fmt::format("  {:<44} {:>10} {:>12} {:>11} {:>9} {:>11}\n", "lever", "memory", "memory×time", "not read", "seconds", "USD");
  o += LeverLine("memory: latent KV instead of multi-head KV", r.savings.kv, priced);
  o += LeverLine("body: expert budget instead of all resident", r.savings.experts, priced);
  o += LeverLine(fmt::format("reuse: {:.0f} prompt tokens not recomputed", r.savings.reuse_tokens).c_str(), r.savings.reuse, priced);
  o += fmt::format("  (negative seconds: time the lever cost; reuse at the price sheet: {} saved)\n", Usd(r.savings.reuse_price_usd));
  if (by != GroupBy::kNone) {
    o += fmt::format("\nby {}:\n  {:<24} {:>6} {:>10} {:>6} {:>9} {:>11} {:>11} {:>11}\n", GroupName(by), GroupName(by), "gens", "prompt",
                     "hit%", "output", "billed", "reuse saved", "KV saved");
    for (const ReportGroup& g : r.groups) {
      const LedgerRecord& gs = g.totals.sum;
      o += fmt::format("  {:<24} {:>6} {:>10} {:>5.1f}% {:>9} {:>11} {:>11} {:>10}·h\n", g.key, g.totals.generations, gs.prompt_tokens,
                       Share(static_cast<double>(gs.hit_tokens), static_cast<double>(gs.prompt_tokens)), gs.output_tokens,
                       Usd(gs.total_usd), Usd(g.savings.reuse_price_usd), DecimalBytes(g.savings.kv.byte_seconds / 3600));
    }
  }
  return o;
}

nlohmann::json ReportJson(const LedgerReport& r) {
  nlohmann::json j = TotalsJson(r.all, r.savings);
  j["files"] = r.files;
  j["bad_lines"] = r.bad_lines;
  if (r.hardware) j["hardware"] = r.hardware->name;
  if (!r.groups.empty()) {
    j["groups"] = nlohmann::json::array();
    for (const ReportGroup& g : r.groups) {
      nlohmann::json gj = TotalsJson(g.totals, g.savings);
      gj["key"] = g.key;
      j["groups"].push_back(std::move(gj));
    }
  }
  return j;
}

std::string ReportSvg(const LedgerReport& r, GroupBy by) {
  std::vector<std::pair<std::string, const LedgerTotals*>> rows;
  if (r.groups.empty()) rows.push_back({"all", &r.all});
  for (const ReportGroup& g : r.groups) rows.push_back({g.key, &g.totals});
  Chart cost, tokens;
  cost.title = "Bill vs. no prompt cache";
  cost.x_label = tokens.x_label = by == GroupBy::kNone ? "" : GroupName(by);
  cost.y_label = "USD";
  tokens.title = "Tokens";
  tokens.y_label = "tokens";
  Series billed, uncached, hit_ram, hit_disk, miss, output;
  billed.name = "billed";
  uncached.name = "without prompt cache";
  hit_ram.name = "hit (RAM)";
  hit_disk.name = "hit (disk)";
  miss.name = "miss";
  output.name = "output";
  for (const auto& [key, t] : rows) {
    const LedgerRecord& s = t->sum;
    cost.categories.push_back(key);
    tokens.categories.push_back(key);
    billed.y.push_back(s.total_usd);
    uncached.y.push_back(s.total_usd - s.hit_usd - s.miss_usd + s.uncached_usd);
    hit_ram.y.push_back(static_cast<double>(s.hit_tokens - s.hit_disk_tokens));
    hit_disk.y.push_back(static_cast<double>(s.hit_disk_tokens));
    miss.y.push_back(static_cast<double>(s.miss_tokens));
    output.y.push_back(static_cast<double>(s.output_tokens));
  }
  cost.series = {billed, uncached};
  tokens.series = {hit_ram, hit_disk, miss, output};
  return RenderSvg({cost, tokens});
}

}  // namespace frugal::ledger
