// Price sheets (USD per 1M tokens: prompt cache hit, prompt cache miss, output) and what a
// workload costs under one. Built-in sheets are DeepSeek's published API prices
// (../shared/reference/deepseek-architectures.md §7.3); a user sheet is a JSON file
// {"name": "...", "hit": 0.028, "miss": 0.28, "output": 0.42}. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace frugal::ledger {

struct PriceSheet {
  std::string name;
  double hit = 0, miss = 0, output = 0;  // USD per 1M tokens
};

std::vector<PriceSheet> BuiltinPriceSheets();
// A built-in sheet by name, or a JSON file's.
StatusOr<PriceSheet> LoadPriceSheet(const std::string& name_or_path);
// The sheet a built-in model is priced with when none is given.
std::string DefaultPriceSheetFor(const std::string& model);

struct Cost {
  double prompt_usd = 0, output_usd = 0, total_usd = 0;
};

// One request's tokens priced: hit, miss and output parts, and the prompt as if every token
// had been a miss (no prompt cache).
struct TokenCost {
  double hit_usd = 0, miss_usd = 0, output_usd = 0, total_usd = 0, uncached_prompt_usd = 0;
};
TokenCost PriceTokens(const PriceSheet& sheet, double hit_tokens, double miss_tokens, double output_tokens);
// `requests` requests of `prompt_tokens` prompt tokens (a share `hit_rate` of them cache hits)
// and `output_tokens` output tokens each.
Cost CostOf(const PriceSheet& sheet, double requests, double prompt_tokens, double hit_rate, double output_tokens);

}  // namespace frugal::ledger
