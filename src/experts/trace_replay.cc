#include "experts/trace_replay.h"

#include <algorithm>
#include <limits>

#include "experts/replacement_policy.h"

namespace frugal::experts {

StatusOr<ReplayPolicy> ReplayPolicyFromName(const std::string& name) {
  if (name == "belady") return ReplayPolicy::kBelady;
  FRUGAL_ASSIGN_OR_RETURN(PolicyKind k, PolicyFromName(name));
  switch (k) {
    case PolicyKind::kLru: return ReplayPolicy::kLru;
    case PolicyKind::kLfu: return ReplayPolicy::kLfu;
    case PolicyKind::kPinned: return ReplayPolicy::kPinned;
  }
  return InvalidArgument("unknown policy '{}'", name);
}

int SlotsForBudget(const TraceShape& shape, uint64_t budget_bytes) {
  uint64_t largest = 0;
  for (uint64_t b : shape.expert_bytes) largest = std::max(largest, b);
  if (largest == 0) return 0;
  return static_cast<int>(std::min<uint64_t>(budget_bytes / largest, static_cast<uint64_t>(std::numeric_limits<int>::max())));
}

StatusOr<ReplayResult> ReplayTrace(const RoutingTrace& trace, int slots, ReplayPolicy policy, const std::vector<ExpertKey>& hot_set) {
  const TraceShape& shape = trace.shape;
  const int top_k = std::max(1, shape.top_k);
  if (slots < top_k) return InvalidArgument("{} slots cannot hold the {} experts a token needs", slots, top_k);
  const auto n_keys = static_cast<size_t>(shape.n_layers) * static_cast<size_t>(shape.n_experts);
  slots = static_cast<int>(std::min<size_t>(static_cast<size_t>(slots), n_keys));
  auto key_of = [&](int layer, int id) { return static_cast<size_t>(layer) * static_cast<size_t>(shape.n_experts) + static_cast<size_t>(id); };
  ReplayResult r;
  r.slots = slots;
  std::vector<int> index(n_keys, -1);        // key → slot
  std::vector<size_t> slot_key(static_cast<size_t>(slots), SIZE_MAX);
  std::vector<int> pins(static_cast<size_t>(slots), 0);
  const PolicyKind kind = policy == ReplayPolicy::kLfu ? PolicyKind::kLfu : policy == ReplayPolicy::kPinned ? PolicyKind::kPinned : PolicyKind::kLru;
  ReplacementPolicy rp(kind, slots);
  // Belady: for each key, the group indices that use it, and how far we are through them.
  std::vector<std::vector<size_t>> uses;
  std::vector<size_t> next_use_at;
  if (policy == ReplayPolicy::kBelady) {
    uses.resize(n_keys);
    next_use_at.assign(n_keys, 0);
    for (size_t g = 0; g < trace.groups.size(); ++g) {
      for (int e : trace.groups[g].experts) uses[key_of(trace.groups[g].layer, e)].push_back(g);
    }
  }
  auto next_use = [&](size_t key, size_t after) -> size_t {
    auto& u = uses[key];
    size_t& at = next_use_at[key];
    while (at < u.size() && u[at] <= after) ++at;
    return at < u.size() ? u[at] : SIZE_MAX;
  };
  auto fill = [&](size_t key, int s) {
    if (slot_key[static_cast<size_t>(s)] != SIZE_MAX) index[slot_key[static_cast<size_t>(s)]] = -1;
    slot_key[static_cast<size_t>(s)] = key;
    index[key] = s;
    rp.Used(s);
  };
  int n_pinned = 0;
  if (policy == ReplayPolicy::kPinned) {  // sized as ExpertStore::LoadHotSet
    const int reserve = std::max(2 * top_k, slots / 4);
    for (const ExpertKey& k : hot_set) {
      if (n_pinned >= slots - reserve) break;
      if (k.layer < 0 || k.layer >= shape.n_layers || k.id < 0 || k.id >= shape.n_experts) {
        return InvalidArgument("the hot set names expert (layer {}, id {}), outside the trace's shape", k.layer, k.id);
      }
      const size_t key = key_of(k.layer, k.id);
      if (index[key] >= 0) continue;
      fill(key, n_pinned);
      rp.Pin(n_pinned);
      ++n_pinned;
    }
  }
  r.pinned = n_pinned;
  const int wave = slots - n_pinned;
  for (size_t g = 0; g < trace.groups.size(); ++g) {
    const TraceGroup& group = trace.groups[g];
    const uint64_t bytes = shape.expert_bytes[static_cast<size_t>(group.layer)];
    for (size_t w0 = 0; w0 < group.experts.size(); w0 += static_cast<size_t>(wave)) {
      const size_t w1 = std::min(group.experts.size(), w0 + static_cast<size_t>(wave));
      std::vector<int> held;
      for (size_t i = w0; i < w1; ++i) {  // hits first
        const int s = index[key_of(group.layer, group.experts[i])];
        ++r.accesses;
        if (s < 0) continue;
        ++r.hits;
        rp.Used(s);
        ++pins[static_cast<size_t>(s)];
        held.push_back(s);
      }
      for (size_t i = w0; i < w1; ++i) {
        const size_t key = key_of(group.layer, group.experts[i]);
        if (index[key] >= 0) continue;
        int victim = -1;
        if (policy == ReplayPolicy::kBelady) {
          size_t furthest = 0;
          for (int s = 0; s < slots; ++s) {
            if (pins[static_cast<size_t>(s)] > 0) continue;
            if (slot_key[static_cast<size_t>(s)] == SIZE_MAX) {
              victim = s;
              break;
            }
            const size_t nu = next_use(slot_key[static_cast<size_t>(s)], g);
            if (victim < 0 || nu > furthest) {
              victim = s;
              furthest = nu;
            }
          }
        } else {
          victim = rp.Victim([&](int s) { return pins[static_cast<size_t>(s)] == 0; });
        }
        if (victim < 0) return MakeStatus(StatusCode::kInternal, "no victim for a wave of {} experts in {} slots", w1 - w0, slots);
        if (slot_key[static_cast<size_t>(victim)] != SIZE_MAX) rp.Cleared(victim);
        fill(key, victim);
        ++pins[static_cast<size_t>(victim)];
        held.push_back(victim);
        r.bytes_read += bytes;
      }
      for (int s : held) --pins[static_cast<size_t>(s)];
    }
  }
  return r;
}

}  // namespace frugal::experts
