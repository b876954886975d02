// One sequence's part of the paged latent cache: its block table (block i holds positions
// [i·B, (i+1)·B)), the ids of the positions computed so far, and the prefix-cache chain of its
// full blocks. The forward pass reads and writes it through View(). Full blocks are published to
// the pool's prefix index as soon as they are computed, and a sequence can start from the
// longest published prefix of its prompt — in RAM, then in the pool's disk tier (read back into
// new blocks, which are published again). Releases its blocks when destroyed (last block first,
// so that a chain's tail is evicted before its head). Owned by the engine thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kv/block_pool.h"
#include "model/latent_blocks.h"
#include "util/status.h"

namespace frugal::kv {

// What Reuse found: positions now held, and how many of them were read from the disk tier.
struct PrefixHit {
  int tokens = 0;
  int disk_tokens = 0;
};

class SequenceKv {
 public:
  // root_key: RootKey of the sequence's prefix scope (block_key.h).
  SequenceKv(BlockPool& pool, uint64_t root_key);
  ~SequenceKv();
  SequenceKv(const SequenceKv&) = delete;
  SequenceKv& operator=(const SequenceKv&) = delete;

  BlockPool& pool() const { return pool_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }  // ids of the computed positions
  int length() const { return static_cast<int>(tokens_.size()); }
  int blocks() const { return static_cast<int>(blocks_.size()); }

  // Keeps the longest prefix of what the sequence holds that `prompt` starts with, then extends
  // it with published blocks of `prompt`; at least the prompt's last token is left to compute
  // (its logits are needed). Returns the positions now held (the prompt's cache hits).
  PrefixHit Reuse(std::span<const int32_t> prompt);
  // Drops positions from n on (whole blocks past it; a published block holding position n is
  // dropped too, never written again, so its positions are recomputed).
  void Truncate(int n);
  // Makes room for `n` more positions (allocating blocks); on a full pool an error, with nothing
  // allocated.
  Status Reserve(int n);
  // Makes this empty sequence hold what `source` holds (llama.cpp's seq_cp): its full blocks
  // shared, its partly filled last block copied. An error, with nothing held, on a full pool.
  Status CopyFrom(const SequenceKv& source);
  // Records that positions [length(), length() + ids.size()) now hold the rows of `ids`, and
  // publishes the blocks this completes.
  void Commit(std::span<const int32_t> ids);

  // The blocks as the forward pass sees them (valid until the next Reserve or Truncate).
  model::LatentBlocks View() const { return model::LatentBlocks(pool_.shape().layout(), bases_); }
  // DeepSeek-V4: the window and compressor state (null for MLA models). Its full blocks are
  // published like MLA ones, but resuming at a block boundary also needs the state there: when
  // a step ends on a boundary the sequence keeps an image of it — of the last boundary it
  // reached, and of the last one before the latest prompt's final token — and when the sequence
  // lets go of its positions (destroyed, or truncated below its length) it stores them in pool
  // blocks of its own (published under SnapshotKey, RAM only, evictable like cached blocks). Reuse then resumes at the longest boundary of the prompt that has both the chain
  // and a snapshot — or keeps all the sequence holds when the prompt continues it.
  model::V4Tail* v4_tail() const { return tail_.get(); }

 private:
  void PopBlock();
  // V4: stores the boundary images as snapshots (where there are any), then forgets them.
  void PublishSnapshot();
  // V4: the snapshot at the end of full block `i` of what the sequence holds, retained, or empty.
  std::vector<int> LookupSnapshot(size_t i);
  void Append(int block, uint64_t key, std::span<const int32_t> ids);
  // Extends the sequence with blocks of `prompt` (up to `limit` positions) read from the disk
  // tier; returns the positions added.
  int ReuseFromDisk(std::span<const int32_t> prompt, size_t limit);

  BlockPool& pool_;
  uint64_t root_key_;
  std::vector<int> blocks_;
  std::vector<std::byte*> bases_;  // pool_.Data(blocks_[i])
  std::vector<uint64_t> keys_;     // chain keys of the full blocks
  std::vector<int32_t> tokens_;
  std::unique_ptr<model::V4Tail> tail_;
  // V4: the tail at a block boundary, with the key and ids of the block ending there.
  struct BoundaryImage {
    std::vector<std::byte> bytes;
    uint64_t key = 0;
    std::vector<int32_t> ids;
  };
  void PublishImage(BoundaryImage& image);
  BoundaryImage last_image_;    // the last boundary reached (where a continuing conversation resumes)
  BoundaryImage prompt_image_;  // the last boundary before the prompt's last token (a repeated prompt)
  int prompt_boundary_ = 0;     // that boundary, from the latest Reuse
};

}  // namespace frugal::kv
