// A block pool sized for one sequence of up to `capacity` positions, with that sequence's blocks
// all reserved: for tools and tests that run one sequence without the engine (`frugal logits`,
// forward-pass tests). Owned by one thread.
#pragma once

#include <memory>

#include "kv/block_pool.h"
#include "kv/sequence_kv.h"
#include "model/config.h"

namespace frugal::kv {

// Positions a block holds unless told otherwise (docs/BENCHMARKS.md, "KV block size").
inline constexpr int kDefaultBlockTokens = 64;

// DeepSeek-V4: block_tokens rounded up to a multiple of 128 (model::V4BlockTokens).
BlockShape ShapeFor(const model::ModelConfig& config, model::KvDtype dtype, int block_tokens = kDefaultBlockTokens);
// DeepSeek-V4: the blocks one prefix-cache snapshot of a sequence's tail takes (SequenceKv keeps
// up to two per sequence); 0 for MLA shapes.
uint64_t SnapshotBlocks(const BlockShape& shape);

class SequenceCache {
 public:
  static StatusOr<std::unique_ptr<SequenceCache>> Create(const model::ModelConfig& config, int capacity,
                                                         model::KvDtype dtype, int block_tokens = kDefaultBlockTokens);
  SequenceKv& sequence() { return *sequence_; }
  model::LatentBlocks View() const { return sequence_->View(); }
  model::V4Tail* v4_tail() const { return sequence_->v4_tail(); }
  const BlockPool& pool() const { return *pool_; }

 private:
  std::unique_ptr<BlockPool> pool_;
  std::unique_ptr<SequenceKv> sequence_;
};

}  // namespace frugal::kv
