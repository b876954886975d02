// `frugal plan`: what a model needs and costs before anything runs — KV bytes per token and per
// sequence under each kind of cache, weights and experts placed in a hardware sheet's tiers with
// the bandwidth-roofline decode speed, a workload's cost under a price sheet, and a fleet's size.
// The model: a built-in name or a GGUF file (read: header and tensor table only).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "io/gguf_file.h"
#include "ledger/model_spec_gguf.h"
#include "ledger/plan.h"
#include "ledger/units.h"
#include "ledger/plan_charts.h"
#include "model/config.h"
#include "model/footprint.h"

namespace frugal::app {
namespace {

struct PlanFlags {
  std::string model, prices, hardware, weight_type = "q4_K", svg;
  int64_t context = 0;
  int sequences = 1;
  double requests = 1, hit_rate = 0, output = 0;
  double fleet_daily = 0, unit_tps = 0, unit_usd = 0, efficiency = 4;
  bool json = false;
};

StatusOr<ledger::ModelSpec> SpecOf(const std::string& model) {
  if (model.size() > 5 && model.compare(model.size() - 5, 5, ".gguf") == 0) {
    FRUGAL_ASSIGN_OR_RETURN(auto file, io::OpenGguf(model));
    if (const StatusOr<std::string> arch = file.GetString("general.architecture");
        arch.ok() && ledger::PlannedFromKeys(*arch)) {
      return ledger::SpecFromKeys(model, file);
    }
    FRUGAL_ASSIGN_OR_RETURN(model::ModelConfig config, model::LoadModelConfig(file));
    return ledger::SpecFromFile(model, config, model::ComputeFootprint(config, model::TensorEntriesOf(file)));
  }
  return ledger::BuiltinModel(model);
}

std::string Text(const ledger::PlanInput& in, const ledger::PlanResult& r) {
  std::string o;
  const ledger::ModelSpec& s = in.spec;
  o += fmt::format("{}: {} layers, {:.1f} B parameters ({:.1f} B active a token), {} routed experts × {} MoE layers, top {}\n",
                   s.name, s.n_layers, s.total_params / 1e9, s.active_params / 1e9, s.n_experts, s.moe_layers, s.top_k);
  const ledger::KvPerToken& k = r.kv_per_token;
  o += fmt::format("\nKV cache per token (all layers)        per sequence of {} tokens   × {} sequences\n", in.context, in.sequences);
  o += fmt::format("  native (16-bit)      {:>12}       {:>14}            {:>12}\n", ledger::DecimalBytes(k.native), ledger::DecimalBytes(r.kv_per_sequence.native),
                   ledger::DecimalBytes(r.kv_per_sequence.native * in.sequences));
  o += fmt::format("  8-bit as deployed    {:>12}       {:>14}            {:>12}\n", ledger::DecimalBytes(k.deployed), ledger::DecimalBytes(r.kv_per_sequence.deployed),
                   ledger::DecimalBytes(r.kv_per_sequence.deployed * in.sequences));
  o += fmt::format("  GQA, 8 KV heads      {:>12}\n", ledger::DecimalBytes(k.gqa8));
  o += fmt::format("  full multi-head      {:>12}       {:>14}            {:>12}   ({:.0f}× native)\n", ledger::DecimalBytes(k.mha),
                   ledger::DecimalBytes(r.kv_per_sequence.mha), ledger::DecimalBytes(r.kv_per_sequence.mha * in.sequences), k.mha / k.native);
  o += fmt::format("\nweights {} (routed experts {}, the rest {}); one decoded token reads {}\n", ledger::DecimalBytes(r.weight_bytes),
                   ledger::DecimalBytes(r.expert_bytes), ledger::DecimalBytes(r.dense_bytes), ledger::DecimalBytes(r.active_bytes_per_token));
  if (in.hardware) {
    o += fmt::format("\nhardware {}: tier, KV, dense weights, experts, bytes a decode step reads, seconds\n", in.hardware->name);
    for (const ledger::TierUse& u : r.tiers) {
      o += fmt::format("  {:<10} {:>12} {:>12} {:>12} {:>12} {:>10.4f}\n", u.name, ledger::DecimalBytes(u.kv_bytes), ledger::DecimalBytes(u.weight_bytes),
                       ledger::DecimalBytes(u.expert_bytes), ledger::DecimalBytes(u.read_per_step), u.seconds_per_step);
    }
    if (!r.fits) o += "  does not fit: " + r.fit_note + "\n";
    o += fmt::format("  decode roofline {:.2f} tokens/s for {} sequences ({:.1f} distinct experts a MoE layer a step); "
                     "{:.0f} tokens per hardware dollar; memory ${:.0f}\n",
                     r.decode_tokens_per_s, in.sequences, r.distinct_experts_per_step, r.tokens_per_usd, r.memory_usd);
  }
  o += fmt::format("\nprices '{}' (USD per 1M: hit {}, miss {}, output {}): {} requests of {} prompt tokens ({:.0f}% hits) and {} "
                   "output tokens: prompt ${:.6f}, output ${:.6f}, total ${:.6f}\n",
                   in.prices.name, in.prices.hit, in.prices.miss, in.prices.output, in.requests, in.context, 100 * in.hit_rate,
                   in.output_tokens, r.cost.prompt_usd, r.cost.output_usd, r.cost.total_usd);
  if (in.fleet) {
    o += fmt::format("\nfleet: {:.3g} tokens a day at {:.3g} tokens/s a unit = {:.0f} units (${:.0f} a day); {:.1f}× the throughput "
                     "= {:.0f} units ({:.0f}% fewer)\n",
                     in.fleet->daily_tokens, in.fleet->unit_tokens_per_s, r.units, r.fleet_usd_per_day, in.fleet->efficiency,
                     r.units_with_efficiency, 100 * r.units_saved_fraction);
  }
  return o;
}

Status RunPlan(const PlanFlags& f) {
  ledger::PlanInput in;
  FRUGAL_ASSIGN_OR_RETURN(in.spec, SpecOf(f.model));
  in.context = f.context;
  in.sequences = f.sequences;
  in.requests = f.requests;
  in.hit_rate = f.hit_rate;
  in.output_tokens = f.output;
  FRUGAL_ASSIGN_OR_RETURN(in.weight_bits, ledger::BitsPerWeight(f.weight_type));
  FRUGAL_ASSIGN_OR_RETURN(in.prices, ledger::LoadPriceSheet(f.prices.empty() ? ledger::DefaultPriceSheetFor(in.spec.name) : f.prices));
  if (!f.hardware.empty()) {
    FRUGAL_ASSIGN_OR_RETURN(ledger::Hardware h, ledger::LoadHardware(f.hardware));
    in.hardware = h;
  }
  if (f.fleet_daily > 0) {
    in.fleet = ledger::Fleet{.daily_tokens = f.fleet_daily, .unit_tokens_per_s = f.unit_tps, .unit_usd_per_hour = f.unit_usd,
                             .efficiency = f.efficiency};
  }
  FRUGAL_ASSIGN_OR_RETURN(ledger::PlanResult r, ledger::Plan(in));
  if (!f.svg.empty()) {
    FRUGAL_ASSIGN_OR_RETURN(const std::vector<ledger::Chart> charts, ledger::PlanCharts(in));
    FRUGAL_RETURN_IF_ERROR(WriteTextFile(f.svg, ledger::RenderSvg(charts)));
  }
  const std::string out = f.json ? ledger::PlanJson(in, r).dump(2) + "\n" : Text(in, r);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return OkStatus();
}

}  // namespace

Command AddPlanCommand(CLI::App& app) {
  auto f = std::make_shared<PlanFlags>();
  CLI::App* cmd = app.add_subcommand("plan", "memory, speed and cost of a model before running it (capacity planner)");
  cmd->add_option("--model", f->model,
                  "FILE.gguf or deepseek-v2-lite | deepseek-v2 | deepseek-v3 | deepseek-r1 | kimi-k2 | deepseek-v3.2 | "
                  "deepseek-v4-flash | deepseek-v4-pro")
      ->required();
  cmd->add_option("--context", f->context, "tokens per sequence (each request's prompt)")->required();
  cmd->add_option("--sequences", f->sequences, "sequences decoding together")->capture_default_str();
  cmd->add_option("--requests", f->requests, "requests, for the cost")->capture_default_str();
  cmd->add_option("--hit-rate", f->hit_rate, "share of prompt tokens that are cache hits, 0..1")->capture_default_str();
  cmd->add_option("--output", f->output, "output tokens per request")->capture_default_str();
  cmd->add_option("--weight-type", f->weight_type, "bits per weight of a built-in model: q4_K, q8_0, bf16, fp8, fp4…")
      ->capture_default_str();
  cmd->add_option("--prices", f->prices, "a built-in price sheet or a JSON file {name, hit, miss, output} (default: the model's)");
  cmd->add_option("--hardware", f->hardware, "a JSON sheet {usd_per_hour, tiers: [{name, gb, gbps, usd_per_gb}, …]}, fastest first");
  cmd->add_option("--fleet", f->fleet_daily, "tokens to serve a day: how many serving units");
  cmd->add_option("--unit-tokens-per-s", f->unit_tps, "with --fleet: one unit's throughput");
  cmd->add_option("--unit-usd-per-hour", f->unit_usd, "with --fleet: one unit's cost");
  cmd->add_option("--efficiency", f->efficiency, "with --fleet: a throughput multiple to compare")->capture_default_str();
  cmd->add_flag("--json", f->json, "one JSON object");
  cmd->add_option("--svg", f->svg, "also draw memory vs context and cost vs cache hits into this SVG file");
  return {cmd, [f]() -> int { return ExitStatus(RunPlan(*f)); }};
}

}  // namespace frugal::app
