#include "kv/block_key.h"

#include <xxhash.h>

#include <cstring>
#include <vector>

namespace frugal::kv {

uint64_t RootKey(const PrefixScope& scope) {
  std::vector<char> bytes(sizeof(uint64_t) + 2 * sizeof(int32_t) + scope.tenant.size());
  const int32_t dtype = static_cast<int32_t>(scope.dtype);
  std::memcpy(bytes.data(), &scope.model_fingerprint, sizeof(uint64_t));
  std::memcpy(bytes.data() + 8, &dtype, 4);
  std::memcpy(bytes.data() + 12, &scope.block_tokens, 4);
  std::memcpy(bytes.data() + 16, scope.tenant.data(), scope.tenant.size());
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), 0x66727567616cULL);  // "frugal"
}

uint64_t BlockKey(uint64_t parent, std::span<const int32_t> tokens) {
  return XXH3_64bits_withSeed(tokens.data(), tokens.size_bytes(), parent);
}

uint64_t SnapshotKey(uint64_t block_key, int part) {
  const int64_t tagged[2] = {0x76347461696cLL, part};  // "v4tail"
  return XXH3_64bits_withSeed(tagged, sizeof tagged, block_key);
}

}  // namespace frugal::kv
