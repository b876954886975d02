#include "app/expert_flags.h"

#include <fmt/format.h>

#include "experts/expert_profile.h"
#include "experts/model_experts.h"

namespace frugal::app {

void AddExpertFlags(CLI::App* cmd, ExpertFlags* f) {
  cmd->add_option("--expert-budget", f->budget,
                  "RAM for routed experts: 25% (of their bytes), 512M, 2G; the rest is read from the file with direct I/O "
                  "(default: all in RAM, copied at load into huge pages where that fits in half the available memory)");
  cmd->add_flag("--experts-in-place", f->in_place,
                "without --expert-budget: read routed experts from the file's mapping as routed instead of copying them at load "
                "(faster start and less memory for experts never routed to; slower batched decode)");
  cmd->add_option("--expert-policy", f->policy, "expert cache policy: lru | lfu | pinned (needs --expert-profile)")
      ->capture_default_str();
  cmd->add_option("--expert-profile", f->profile, "routing profile (frugal profile-experts) whose hottest experts are pinned");
  cmd->add_option("--expert-prefetch", f->prefetch,
                  "predict and read each layer's experts ahead: auto (steps of 32+ tokens: prefill) | on | off")
      ->capture_default_str();
  cmd->add_option("--expert-io-threads", f->io_threads, "expert reads in flight (pread threads, or io_uring ring entries)")->capture_default_str();
  cmd->add_option("--expert-io", f->io_engine, "expert reads: auto | io_uring | pread")->capture_default_str();
  cmd->add_option("--routing-trace", f->trace, "write every routing decision (step, layer, token, experts) to this file");
}

Status ExpertSetup::Finish() { return trace ? trace->Close() : OkStatus(); }

model::LoadOptions LoadOptionsFor(const ExpertFlags& f) { return {.routed_experts_resident = f.budget.empty() && !f.in_place}; }

StatusOr<ExpertSetup> SetUpExperts(model::LoadedModel* m, const ExpertFlags& f) {
  ExpertSetup setup;
  FRUGAL_ASSIGN_OR_RETURN(experts::PolicyKind policy, experts::PolicyFromName(f.policy));
  if (f.budget.empty() && (f.policy != "lru" || !f.profile.empty())) {
    return InvalidArgument("--expert-policy and --expert-profile need --expert-budget");
  }
  if (policy == experts::PolicyKind::kPinned && f.profile.empty()) return InvalidArgument("--expert-policy pinned needs --expert-profile");
  if (f.io_threads < 1 || f.io_threads > 256) return InvalidArgument("--expert-io-threads must be in 1..256");
  if (f.prefetch != "auto" && f.prefetch != "on" && f.prefetch != "off") {
    return InvalidArgument("--expert-prefetch must be auto, on or off (not '{}')", f.prefetch);
  }
  FRUGAL_ASSIGN_OR_RETURN(experts::ExpertLayout layout, experts::ExpertLayoutOf(m->file, m->config));
  if (!f.budget.empty()) {
    experts::ExpertStoreOptions o;
    FRUGAL_ASSIGN_OR_RETURN(o.budget_bytes, experts::ParseExpertBudget(f.budget, layout.TotalBytes()));
    o.policy = policy;
    o.io_threads = f.io_threads;
    o.io_engine = f.io_engine;
    if (!f.profile.empty()) {
      FRUGAL_ASSIGN_OR_RETURN(experts::ExpertProfile profile, experts::ReadExpertProfile(f.profile));
      if (profile.n_layers() != m->config.n_layers || profile.n_experts() != m->config.moe.n_experts) {
        return InvalidArgument("profile '{}' is for {} layers of {} experts, the model has {} of {}", f.profile, profile.n_layers(),
                               profile.n_experts(), m->config.n_layers, m->config.moe.n_experts);
      }
      o.hot_set = profile.Hottest();
    }
    FRUGAL_ASSIGN_OR_RETURN(setup.store, experts::AttachExpertStore(m, o));
    if (f.prefetch == "on") setup.store->set_prefetch(true);
    if (f.prefetch == "off") setup.store->set_prefetch(false);
  }
  if (!f.trace.empty()) {
    experts::TraceShape shape{m->config.n_layers, m->config.moe.n_experts, m->config.moe.n_experts_used, {}};
    for (const experts::LayerExperts& le : layout.layers) shape.expert_bytes.push_back(le.n_experts > 0 ? le.ExpertBytes() : 0);
    FRUGAL_ASSIGN_OR_RETURN(setup.trace, experts::RoutingTraceWriter::Open(f.trace, shape));
    m->routing = setup.trace.get();
  }
  return setup;
}

nlohmann::json ExpertStatsJson(const experts::ExpertStoreStats& s) {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t l = 0; l < s.accesses.size(); ++l) {
    if (s.accesses[l] == 0) continue;
    layers.push_back({{"layer", l}, {"accesses", s.accesses[l]}, {"hits", s.hits[l]},
                      {"hit_rate", static_cast<double>(s.hits[l]) / static_cast<double>(s.accesses[l])}});
  }
  return {{"expert_hit_rate", s.HitRate()},
          {"expert_bytes_read", s.expert_bytes_read},
          {"expert_bytes_served_from_ram", s.expert_bytes_served},
          {"io_stall_s", s.io_stall_s},
          {"prefetch_accuracy", s.PrefetchAccuracy()},
          {"prefetch_predicted", s.predicted},
          {"prefetch_reads", s.prefetch_reads},
          {"demand_reads", s.demand_reads},
          {"failed_reads", s.failed_reads},
          {"expert_accesses", s.Accesses()},
          {"expert_hits", s.Hits()},
          {"expert_slots", s.slots},
          {"expert_pinned_slots", s.pinned_slots},
          {"expert_budget_bytes", s.budget_bytes},
          {"expert_policy", experts::PolicyName(s.policy)},
          {"direct_io", s.direct_io},
          {"io_engine", s.io_engine},
          {"per_layer", layers}};
}

std::string ExpertStatsText(const experts::ExpertStoreStats& s) {
  std::string t = fmt::format("experts: {} slots ({:.1f} MiB budget, policy {}{}), {} I/O ({}): hit rate {:.1f}% ({} of {})\n", s.slots,
                              static_cast<double>(s.budget_bytes) / (1 << 20), experts::PolicyName(s.policy),
                              s.pinned_slots > 0 ? fmt::format(", {} pinned", s.pinned_slots) : "", s.direct_io ? "direct" : "buffered", s.io_engine,
                              100.0 * s.HitRate(), s.Hits(), s.Accesses());
  t += "  per layer:";
  for (size_t l = 0; l < s.accesses.size(); ++l) {
    if (s.accesses[l] > 0) t += fmt::format(" {}:{:.0f}%", l, 100.0 * static_cast<double>(s.hits[l]) / static_cast<double>(s.accesses[l]));
  }
  t += fmt::format("\n  read from disk {:.1f} MiB ({} on demand, {} prefetched, {} failed), served from RAM {:.1f} MiB, "
                   "stalled on I/O {:.3f} s\n",
                   static_cast<double>(s.expert_bytes_read) / (1 << 20), s.demand_reads, s.prefetch_reads, s.failed_reads,
                   static_cast<double>(s.expert_bytes_served) / (1 << 20), s.io_stall_s);
  t += fmt::format("  prefetch: {} predicted, {:.1f}% of them used in their step\n", s.predicted, 100.0 * s.PrefetchAccuracy());
  return t;
}

std::string ExpertStatsPrometheus(const experts::ExpertStoreStats& s) {
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, const std::string& value) {
    out += fmt::format("# HELP frugal:{} {}\n# TYPE frugal:{} {}\nfrugal:{} {}\n", name, help, name, type, name, value);
  };
  metric("expert_accesses_total", "counter", "Routed experts acquired (once per step and layer).", std::to_string(s.Accesses()));
  metric("expert_hits_total", "counter", "Of them, found in the RAM tier.", std::to_string(s.Hits()));
  metric("expert_bytes_read_total", "counter", "Expert bytes read from disk (direct I/O).", std::to_string(s.expert_bytes_read));
  metric("expert_read_failures_total", "counter", "Expert reads that failed.", std::to_string(s.failed_reads));
  metric("expert_io_stall_seconds_total", "counter", "Time forward steps waited for expert reads.", fmt::format("{}", s.io_stall_s));
  metric("expert_prefetch_predicted_total", "counter", "Experts predicted for the next layer.", std::to_string(s.predicted));
  metric("expert_prefetch_used_total", "counter", "Of them, used in that step.", std::to_string(s.predicted_used));
  metric("expert_slots", "gauge", "Experts the RAM tier holds.", std::to_string(s.slots));
  out += "# HELP frugal:expert_layer_hits_total Expert hits per layer.\n# TYPE frugal:expert_layer_hits_total counter\n";
  for (size_t l = 0; l < s.hits.size(); ++l) {
    if (s.accesses[l] > 0) out += fmt::format("frugal:expert_layer_hits_total{{layer=\"{}\"}} {}\n", l, s.hits[l]);
  }
  out += "# HELP frugal:expert_layer_accesses_total Expert accesses per layer.\n# TYPE frugal:expert_layer_accesses_total counter\n";
  for (size_t l = 0; l < s.accesses.size(); ++l) {
    if (s.accesses[l] > 0) out += fmt::format("frugal:expert_layer_accesses_total{{layer=\"{}\"}} {}\n", l, s.accesses[l]);
  }
  return out;
}

}  // namespace frugal::app
