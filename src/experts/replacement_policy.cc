#include "experts/replacement_policy.h"

namespace frugal::experts {

StatusOr<PolicyKind> PolicyFromName(const std::string& name) {
  if (name == "lru") return PolicyKind::kLru;
  if (name == "lfu") return PolicyKind::kLfu;
  if (name == "pinned") return PolicyKind::kPinned;
  return InvalidArgument("unknown expert policy '{}' (lru, lfu, pinned)", name);
}

const char* PolicyName(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kLru: return "lru";
    case PolicyKind::kLfu: return "lfu";
    case PolicyKind::kPinned: return "pinned";
  }
  return "?";
}

ReplacementPolicy::ReplacementPolicy(PolicyKind kind, int n_slots)
    : kind_(kind), last_use_(static_cast<size_t>(n_slots)), count_(static_cast<size_t>(n_slots)),
      filled_(static_cast<size_t>(n_slots)), pinned_(static_cast<size_t>(n_slots)) {}

void ReplacementPolicy::Used(int slot) {
  const auto s = static_cast<size_t>(slot);
  last_use_[s] = ++tick_;
  filled_[s] = 1;
  if (kind_ != PolicyKind::kLfu) return;
  ++count_[s];
  if (++uses_since_aging_ >= 4 * count_.size()) {
    uses_since_aging_ = 0;
    for (uint32_t& c : count_) c /= 2;
  }
}

void ReplacementPolicy::Cleared(int slot) {
  const auto s = static_cast<size_t>(slot);
  filled_[s] = 0;
  count_[s] = 0;
  last_use_[s] = 0;
  pinned_[s] = 0;
}

void ReplacementPolicy::Demote(int slot) {
  const auto s = static_cast<size_t>(slot);
  last_use_[s] = 0;
  count_[s] = 0;
}

int ReplacementPolicy::Victim(const std::function<bool(int)>& evictable) const {
  const int n = static_cast<int>(filled_.size());
  int best = -1;
  for (int s = 0; s < n; ++s) {
    const auto i = static_cast<size_t>(s);
    if (pinned_[i] || !evictable(s)) continue;
    if (!filled_[i]) return s;
    if (best < 0) {
      best = s;
      continue;
    }
    const auto b = static_cast<size_t>(best);
    const bool older = last_use_[i] < last_use_[b];
    if (kind_ == PolicyKind::kLfu ? (count_[i] < count_[b] || (count_[i] == count_[b] && older)) : older) best = s;
  }
  return best;
}

}  // namespace frugal::experts
