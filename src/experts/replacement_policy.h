// Which expert slot to refill next: LRU, LFU with aging, or LRU around a pinned hot set. Works
// on slot numbers only, so the expert store (online) and trace replay (offline) share it and a
// replay predicts what the store does. Victim() scans the slots: O(slots) per miss, microseconds
// for thousands of slots. Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "util/status.h"

namespace frugal::experts {

enum class PolicyKind {
  kLru,     // least recently used
  kLfu,     // least frequently used; counts halve every 4 × slots uses (aging), ties go LRU
  kPinned,  // a hot set (from a routing profile) never leaves; LRU for the other slots
};
StatusOr<PolicyKind> PolicyFromName(const std::string& name);
const char* PolicyName(PolicyKind kind);

class ReplacementPolicy {
 public:
  ReplacementPolicy(PolicyKind kind, int n_slots);

  // The slot was hit, or was just filled.
  void Used(int slot);
  // The slot was emptied.
  void Cleared(int slot);
  // The slot's content turned out not to be needed (a wrong prediction): it becomes the first
  // victim among the filled slots.
  void Demote(int slot);
  // The slot never becomes a victim again (the pinned hot set).
  void Pin(int slot) { pinned_[static_cast<size_t>(slot)] = 1; }
  bool pinned(int slot) const { return pinned_[static_cast<size_t>(slot)] != 0; }
  // The slot to fill next: an empty one if any, else the policy's choice among the filled,
  // unpinned slots for which evictable(slot) holds (not in use, not being read); -1 if none.
  int Victim(const std::function<bool(int)>& evictable) const;

 private:
  PolicyKind kind_;
  uint64_t tick_ = 0;
  uint64_t uses_since_aging_ = 0;
  std::vector<uint64_t> last_use_;
  std::vector<uint32_t> count_;
  std::vector<uint8_t> filled_, pinned_;
};

}  // namespace frugal::experts
