#include "ledger/prices.h"

#include <fstream>

#include <nlohmann/json.hpp>

namespace frugal::ledger {

std::vector<PriceSheet> BuiltinPriceSheets() {
  return {
      {"deepseek-v3-2025-02", 0.07, 0.27, 1.10},        // deepseek-chat from 2025-02-09
      {"deepseek-r1-2025-01", 0.14, 0.55, 2.19},        // deepseek-reasoner
      {"deepseek-v3.1", 0.07, 0.56, 1.68},
      {"deepseek-v3.2", 0.028, 0.28, 0.42},
      {"deepseek-v4-flash-launch", 0.028, 0.14, 0.28},
      {"deepseek-v4-pro-launch", 0.145, 1.74, 3.48},
      {"deepseek-v4-pro-promo", 0.003625, 0.435, 0.87},  // the 75% promotion, made permanent ~2026-05
      {"deepseek-v4-flash-offpeak", 0.007, 0.22, 0.66},  // from 2026-08-16
      {"deepseek-v4-flash-peak", 0.014, 0.44, 1.32},
      {"deepseek-v4-pro-offpeak", 0.022, 0.66, 1.98},
      {"deepseek-v4-pro-peak", 0.044, 1.32, 3.96},
      {"deepseek-v4.1-flash-offpeak", 0.003, 0.15, 0.60},  // current (Oct–Nov 2026)
      {"deepseek-v4.1-flash-peak", 0.006, 0.30, 1.20},
  };
}

std::string DefaultPriceSheetFor(const std::string& model) {
  if (model == "deepseek-r1") return "deepseek-r1-2025-01";
  if (model == "deepseek-v3.2") return "deepseek-v3.2";
  if (model == "deepseek-v4-flash") return "deepseek-v4.1-flash-peak";
  if (model == "deepseek-v4-pro") return "deepseek-v4-pro-peak";
  return "deepseek-v3-2025-02";  // V2, V3, K2 and files: V3's list price
}

StatusOr<PriceSheet> LoadPriceSheet(const std::string& name_or_path) {
  for (const PriceSheet& s : BuiltinPriceSheets()) {
    if (s.name == name_or_path) return s;
  }
  std::ifstream f(name_or_path);
  if (!f) {
    std::string names;
    for (const PriceSheet& s : BuiltinPriceSheets()) names += (names.empty() ? "" : ", ") + s.name;
    return NotFound("price sheet '{}': neither a file nor one of {}", name_or_path, names);
  }
  const nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("price sheet {}: not a JSON object", name_or_path);
  PriceSheet s;
  s.name = j.contains("name") && j["name"].is_string() ? j["name"].get<std::string>() : name_or_path;
  for (const auto& [key, field] : {std::pair<const char*, double*>{"hit", &s.hit}, {"miss", &s.miss}, {"output", &s.output}}) {
    if (!j.contains(key) || !j[key].is_number() || j[key].get<double>() < 0) {
      return InvalidArgument("price sheet {}: \"{}\" must be a price in USD per 1M tokens (a number >= 0)", name_or_path, key);
    }
    *field = j[key].get<double>();
  }
  return s;
}

TokenCost PriceTokens(const PriceSheet& sheet, double hit_tokens, double miss_tokens, double output_tokens) {
  TokenCost c;
  c.hit_usd = hit_tokens * sheet.hit / 1e6;
  c.miss_usd = miss_tokens * sheet.miss / 1e6;
  c.output_usd = output_tokens * sheet.output / 1e6;
  c.total_usd = c.hit_usd + c.miss_usd + c.output_usd;
  c.uncached_prompt_usd = (hit_tokens + miss_tokens) * sheet.miss / 1e6;
  return c;
}

Cost CostOf(const PriceSheet& sheet, double requests, double prompt_tokens, double hit_rate, double output_tokens) {
  Cost c;
  const double prompt = requests * prompt_tokens;
  c.prompt_usd = (prompt * hit_rate * sheet.hit + prompt * (1 - hit_rate) * sheet.miss) / 1e6;
  c.output_usd = requests * output_tokens * sheet.output / 1e6;
  c.total_usd = c.prompt_usd + c.output_usd;
  return c;
}

}  // namespace frugal::ledger
