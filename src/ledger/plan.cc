#include "ledger/plan.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "util/ggml_type.h"

namespace frugal::ledger {

StatusOr<Hardware> ParseHardware(const nlohmann::json& j, const std::string& name) {
  if (!j.is_object() || !j.contains("tiers") || !j["tiers"].is_array() || j["tiers"].empty()) {
    return InvalidArgument("hardware sheet {}: needs \"tiers\": [{{\"name\", \"gb\", \"gbps\", \"usd_per_gb\"}}, …]", name);
  }
  Hardware h;
  h.name = j.contains("name") && j["name"].is_string() ? j["name"].get<std::string>() : name;
  if (j.contains("usd_per_hour")) {
    if (!j["usd_per_hour"].is_number() || j["usd_per_hour"].get<double>() < 0) {
      return InvalidArgument("hardware sheet {}: usd_per_hour must be a number >= 0", name);
    }
    h.usd_per_hour = j["usd_per_hour"].get<double>();
  }
  if (j.contains("amortize_years")) {
    if (!j["amortize_years"].is_number() || !(j["amortize_years"].get<double>() > 0)) {
      return InvalidArgument("hardware sheet {}: amortize_years must be a number > 0", name);
    }
    h.amortize_years = j["amortize_years"].get<double>();
  }
  for (const auto& t : j["tiers"]) {
    Tier tier;
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) return InvalidArgument("hardware sheet {}: a tier without a name", name);
    tier.name = t["name"].get<std::string>();
    for (const auto& [key, field] : {std::pair<const char*, double*>{"gb", &tier.gb}, {"gbps", &tier.gbps}, {"usd_per_gb", &tier.usd_per_gb}}) {
      if (!t.contains(key) || !t[key].is_number() || t[key].get<double>() < 0) {
        return InvalidArgument("hardware sheet {}: tier {}: \"{}\" must be a number >= 0", name, tier.name, key);
      }
      *field = t[key].get<double>();
    }
    if (tier.gbps <= 0) return InvalidArgument("hardware sheet {}: tier {}: gbps must be > 0", name, tier.name);
    h.tiers.push_back(tier);
  }
  return h;
}

StatusOr<Hardware> LoadHardware(const std::string& path) {
  std::ifstream f(path);
  if (!f) return NotFound("hardware sheet {}: cannot open", path);
  const nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("hardware sheet {}: not JSON", path);
  return ParseHardware(j, path);
}

StatusOr<double> BitsPerWeight(const std::string& type) {
  if (type == "fp8") return 8.0;
  if (type == "fp4") return 4.25;  // e2m1 values and a ue8m0 scale per 32
  const std::optional<GgmlType> t = TypeFromName(type);
  if (!t) return InvalidArgument("unknown weight type '{}' (ggml names such as q4_K, q8_0, bf16; or fp8, fp4)", type);
  const GgmlTypeTraits tr = TraitsOf(*t);
  return 8.0 * static_cast<double>(tr.block_bytes) / tr.block_elems;
}

StatusOr<PlanResult> Plan(const PlanInput& in) {
  const ModelSpec& s = in.spec;
  if (in.context < 1 || in.context > (int64_t{1} << 40)) return InvalidArgument("--context must be in 1..2^40");
  if (in.sequences < 1) return InvalidArgument("--sequences must be at least 1");
  if (!(in.hit_rate >= 0 && in.hit_rate <= 1)) return InvalidArgument("--hit-rate must be in [0, 1]");
  if (!(in.requests >= 0 && in.output_tokens >= 0) || !std::isfinite(in.requests) || !std::isfinite(in.output_tokens)) {
    return InvalidArgument("--requests and --output must be finite and not negative");
  }
  PlanResult r;
  r.kv_per_token = KvBytesPerToken(s);
  r.kv_per_sequence = KvBytesPerSequence(s, in.context);
  r.kv_all_sequences = r.kv_per_sequence.native * in.sequences;

  // Weights.
  if (s.file_bytes > 0) {
    r.weight_bytes = static_cast<double>(s.file_bytes);
    r.expert_bytes = static_cast<double>(s.file_expert_bytes);
    r.active_bytes_per_token = static_cast<double>(s.file_active_bytes);
  } else {
    if (in.weight_bits <= 0) return InvalidArgument("a built-in model needs a weight type");
    const double b = in.weight_bits / 8;
    r.weight_bytes = s.total_params * b;
    r.expert_bytes = s.routed_expert_params() * b;
    r.active_bytes_per_token = s.active_params * b;
  }
  r.dense_bytes = r.weight_bytes - r.expert_bytes;
  const double bytes_per_expert = s.n_experts > 0 && s.moe_layers > 0 ? r.expert_bytes / (s.n_experts * s.moe_layers) : 0;
  // Distinct experts a step of `sequences` tokens reads per MoE layer (uniform routing).
  r.distinct_experts_per_step =
      s.n_experts > 0 ? s.n_experts * (1 - std::pow(1 - static_cast<double>(s.top_k) / s.n_experts, in.sequences)) : 0;

  // Cost of the workload.
  r.cost = CostOf(in.prices, in.requests, static_cast<double>(in.context), in.hit_rate, in.output_tokens);
  r.cost_per_million_prompt = in.hit_rate * in.prices.hit + (1 - in.hit_rate) * in.prices.miss;
  r.cost_per_million_output = in.prices.output;

  if (in.hardware) {
    // Fastest tier first: the KV cache and the dense weights, then experts wherever room is left.
    double kv_left = r.kv_all_sequences, dense_left = r.dense_bytes, experts_left = r.expert_bytes;
    for (const Tier& t : in.hardware->tiers) {
      TierUse u;
      u.name = t.name;
      double room = t.gb * 1e9;
      const double kv = std::min(kv_left, room);
      room -= kv;
      kv_left -= kv;
      const double dense = std::min(dense_left, room);
      room -= dense;
      dense_left -= dense;
      const double experts = std::min(experts_left, room);
      experts_left -= experts;
      u.kv_bytes = kv;
      u.weight_bytes = dense;
      u.expert_bytes = experts;
      r.memory_usd += (kv + dense + experts) / 1e9 * t.usd_per_gb;
      r.tiers.push_back(u);
    }
    r.fits = kv_left <= 0.5 && dense_left <= 0.5 && experts_left <= 0.5;
    if (!r.fits) {
      r.fit_note = fmt::format("{:.1f} GB do not fit in the tiers (KV {:.1f}, dense weights {:.1f}, experts {:.1f})",
                               (kv_left + dense_left + experts_left) / 1e9, kv_left / 1e9, dense_left / 1e9, experts_left / 1e9);
    }
    // A decode step: dense weights once (the top-k experts' share of a token is in active bytes),
    // the distinct experts of the step, each sequence's whole cache.
    const double dense_read = r.active_bytes_per_token - (s.moe_layers * s.top_k) * bytes_per_expert;
    const double expert_read = r.distinct_experts_per_step * s.moe_layers * bytes_per_expert;
    double step_s = 0;
    for (size_t i = 0; i < r.tiers.size(); ++i) {
      TierUse& u = r.tiers[i];
      const double expert_share = r.expert_bytes > 0 ? u.expert_bytes / r.expert_bytes : 0;
      const double dense_share = r.dense_bytes > 0 ? u.weight_bytes / r.dense_bytes : 0;
      const double kv_share = r.kv_all_sequences > 0 ? u.kv_bytes / r.kv_all_sequences : 0;
      u.read_per_step = dense_read * dense_share + expert_read * expert_share + r.kv_all_sequences * kv_share;
      u.seconds_per_step = u.read_per_step / (in.hardware->tiers[i].gbps * 1e9);
      step_s += u.seconds_per_step;  // tiers read one after another: no overlap assumed
    }
    if (r.fits && step_s > 0) r.decode_tokens_per_s = in.sequences / step_s;
    if (in.hardware->usd_per_hour > 0) r.tokens_per_usd = r.decode_tokens_per_s * 3600 / in.hardware->usd_per_hour;
  }

  if (in.fleet) {
    const Fleet& f = *in.fleet;
    if (!(f.unit_tokens_per_s > 0 && f.efficiency > 0 && f.daily_tokens >= 0) || !std::isfinite(f.daily_tokens) ||
        !std::isfinite(f.unit_tokens_per_s) || !std::isfinite(f.efficiency)) {
      return InvalidArgument("--fleet needs daily tokens >= 0, a unit's tokens/s > 0 and an efficiency > 0");
    }
    const double per_unit_day = f.unit_tokens_per_s * 86400;
    r.units = std::ceil(f.daily_tokens / per_unit_day);
    r.units_with_efficiency = std::ceil(f.daily_tokens / (per_unit_day * f.efficiency));
    r.units_saved_fraction = r.units > 0 ? 1 - r.units_with_efficiency / r.units : 0;
    r.fleet_usd_per_day = r.units * f.unit_usd_per_hour * 24;
  }
  return r;
}

nlohmann::json PlanJson(const PlanInput& in, const PlanResult& r) {
  nlohmann::json j = {
      {"model", in.spec.name},
      {"context", in.context},
      {"sequences", in.sequences},
      {"requests", in.requests},
      {"hit_rate", in.hit_rate},
      {"output_tokens", in.output_tokens},
      {"kv_bytes_per_token",
       {{"native", r.kv_per_token.native}, {"mha", r.kv_per_token.mha}, {"gqa8", r.kv_per_token.gqa8},
        {"deployed_8bit", r.kv_per_token.deployed}}},
      {"kv_bytes_per_sequence",
       {{"native", r.kv_per_sequence.native}, {"mha", r.kv_per_sequence.mha}, {"deployed_8bit", r.kv_per_sequence.deployed}}},
      {"kv_bytes_all_sequences", r.kv_all_sequences},
      {"weight_bytes", r.weight_bytes},
      {"expert_bytes", r.expert_bytes},
      {"dense_bytes", r.dense_bytes},
      {"active_bytes_per_token", r.active_bytes_per_token},
      {"prices", {{"sheet", in.prices.name}, {"hit", in.prices.hit}, {"miss", in.prices.miss}, {"output", in.prices.output}}},
      {"cost", {{"prompt_usd", r.cost.prompt_usd}, {"output_usd", r.cost.output_usd}, {"total_usd", r.cost.total_usd}}},
      {"usd_per_million_prompt_tokens", r.cost_per_million_prompt},
  };
  if (in.hardware) {
    nlohmann::json tiers = nlohmann::json::array();
    for (const TierUse& u : r.tiers) {
      tiers.push_back({{"name", u.name}, {"kv_bytes", u.kv_bytes}, {"weight_bytes", u.weight_bytes}, {"expert_bytes", u.expert_bytes},
                       {"bytes_read_per_step", u.read_per_step}, {"seconds_per_step", u.seconds_per_step}});
    }
    j["hardware"] = {{"name", in.hardware->name}, {"tiers", tiers}, {"fits", r.fits}, {"note", r.fit_note},
                     {"decode_tokens_per_s", r.decode_tokens_per_s}, {"tokens_per_usd", r.tokens_per_usd},
                     {"memory_usd", r.memory_usd}, {"distinct_experts_per_step", r.distinct_experts_per_step}};
  }
  if (in.fleet) {
    j["fleet"] = {{"units", r.units}, {"units_with_efficiency", r.units_with_efficiency},
                  {"efficiency", in.fleet->efficiency}, {"units_saved_fraction", r.units_saved_fraction},
                  {"usd_per_day", r.fleet_usd_per_day}};
  }
  return j;
}

}  // namespace frugal::ledger
