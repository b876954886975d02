// `frugal trace replay FILE --budget 25% [--policy lru|lfu|pinned|belady|all] [--profile P]
// [--json]`: evaluates expert cache policies on a routing trace (`--routing-trace`) offline —
// hit rate and bytes read for a RAM tier of that size — with Belady's optimal policy as the
// upper bound (experts/trace_replay.h).
#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "experts/expert_profile.h"
#include "experts/expert_store.h"
#include "experts/trace_replay.h"

namespace frugal::app {
namespace {

struct Flags {
  std::string trace, budget = "25%", policy = "all", profile;
  bool json = false;
};

Status Run(const Flags& f) {
  FRUGAL_ASSIGN_OR_RETURN(experts::RoutingTrace trace, experts::ReadRoutingTrace(f.trace));
  uint64_t total = 0;
  for (uint64_t b : trace.shape.expert_bytes) total += b * static_cast<uint64_t>(trace.shape.n_experts);
  FRUGAL_ASSIGN_OR_RETURN(uint64_t budget, experts::ParseExpertBudget(f.budget, total));
  const int slots = experts::SlotsForBudget(trace.shape, budget);
  std::vector<experts::ExpertKey> hot;
  if (!f.profile.empty()) {
    FRUGAL_ASSIGN_OR_RETURN(experts::ExpertProfile p, experts::ReadExpertProfile(f.profile));
    hot = p.Hottest();
  }
  std::vector<std::string> policies;
  if (f.policy == "all") {
    policies = {"lru", "lfu"};
    if (!hot.empty()) policies.push_back("pinned");
    policies.push_back("belady");
  } else {
    policies = {f.policy};
  }
  if (!f.json) {
    std::printf("trace %s: %lld routings, %zu (step, layer) groups; budget %.1f MiB = %d experts (the largest %.2f MiB; %.1f%% of %.1f MiB)\n",
                f.trace.c_str(), static_cast<long long>(trace.records), trace.groups.size(), static_cast<double>(budget) / (1 << 20),
                slots, static_cast<double>(*std::max_element(trace.shape.expert_bytes.begin(), trace.shape.expert_bytes.end())) / (1 << 20), 100.0 * static_cast<double>(budget) / static_cast<double>(total),
                static_cast<double>(total) / (1 << 20));
    std::printf("| policy | hit rate | hits | accesses | read MiB |\n|---|---|---|---|---|\n");
  }
  for (const std::string& name : policies) {
    FRUGAL_ASSIGN_OR_RETURN(experts::ReplayPolicy policy, experts::ReplayPolicyFromName(name));
    if (policy == experts::ReplayPolicy::kPinned && hot.empty()) return InvalidArgument("--policy pinned needs --profile");
    FRUGAL_ASSIGN_OR_RETURN(experts::ReplayResult r, experts::ReplayTrace(trace, slots, policy, hot));
    if (f.json) {
      const nlohmann::json j = {{"policy", name}, {"budget_bytes", budget}, {"slots", r.slots}, {"pinned", r.pinned},
                                {"hit_rate", r.hit_rate()}, {"hits", r.hits}, {"accesses", r.accesses}, {"bytes_read", r.bytes_read}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("| %s | %.2f%% | %llu | %llu | %.1f |\n", name.c_str(), 100.0 * r.hit_rate(), static_cast<unsigned long long>(r.hits),
                  static_cast<unsigned long long>(r.accesses), static_cast<double>(r.bytes_read) / (1 << 20));
    }
  }
  return OkStatus();
}

}  // namespace

void AddTraceCommands(CLI::App& app, std::vector<Command>* commands) {
  CLI::App* trace = app.add_subcommand("trace", "routing traces (written by --routing-trace)");
  trace->require_subcommand(1);
  commands->push_back({trace, [] { return 2; }});  // the parent first: main runs the deepest parsed command
  auto f = std::make_shared<Flags>();
  CLI::App* replay = trace->add_subcommand("replay", "evaluate expert cache policies on a routing trace");
  replay->add_option("file", f->trace, "routing trace")->required();
  replay->add_option("--budget", f->budget, "RAM tier: 25% (of the routed experts), 512M, 2G")->capture_default_str();
  replay->add_option("--policy", f->policy, "lru | lfu | pinned | belady | all")->capture_default_str();
  replay->add_option("--profile", f->profile, "routing profile for the pinned policy");
  replay->add_flag("--json", f->json, "one JSON object per policy");
  commands->push_back({replay, [f]() -> int { return ExitStatus(Run(*f)); }});
}

}  // namespace frugal::app
