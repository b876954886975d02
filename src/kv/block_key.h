// Prefix-cache keys: a hash chain over full blocks of token ids. A block's key hashes its
// parent's key (the previous block's, or the root) with its own ids; the root hashes what must
// match for two sequences to share computed latents — the model's fingerprint, the cache type,
// the block size and the tenant. Different tenants get different roots, so they never share
// blocks unless they are given the same tenant string. Hits are verified on the ids (the pool
// keeps them), so a 64-bit collision is a miss, never wrong latents. Pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "model/latent_blocks.h"

namespace frugal::kv {

struct PrefixScope {
  uint64_t model_fingerprint = 0;
  model::KvDtype dtype = model::KvDtype::kF16;
  int block_tokens = 0;
  std::string tenant;  // empty: the shared scope
};

uint64_t RootKey(const PrefixScope& scope);
uint64_t BlockKey(uint64_t parent, std::span<const int32_t> tokens);
// Part `part` of a DeepSeek-V4 snapshot (a sequence's window and compressor state) at the end of
// the block whose key is `block_key`: a key space of its own, verified on that block's ids.
uint64_t SnapshotKey(uint64_t block_key, int part);

}  // namespace frugal::kv
