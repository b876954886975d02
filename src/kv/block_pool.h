// The paged latent cache's storage: fixed-size blocks, each holding `block_tokens` positions of
// every layer ([layer][slot][width] values of the cache type), under one byte budget. The
// blocks' address space is reserved at creation and its pages are committed by the kernel only
// when first written, so a large budget costs nothing until it is used; never-used blocks are
// handed out lowest first and released blocks are reused before them, so resident memory grows
// only to the most blocks ever in use at once (rounded up to the 2 MiB page, never past the
// budget: the last partial 2 MiB of the storage has 4 KiB pages). The storage is advised for
// transparent huge pages, and a block's pages are committed in one call when it is
// first handed out (MADV_POPULATE_WRITE), not page fault by page fault as it is written. On the
// Zen 5 VM of docs/BENCHMARKS.md ("KV disk tier") copying 7,680 tokens read from disk into fresh
// blocks took 0.06 s with 4 KiB pages (committed that way), 0.004 s with 2 MiB pages.
//
// Blocks are reference-counted. A full block can be published under a prefix key (block_key.h)
// together with its token ids; a later Lookup with the same key and the same ids shares it. A
// published block nobody references stays cached (evictable, least recently released first)
// until a new block is needed and no free one is left. With a disk tier attached
// (AttachDisk), an evicted published block is stored there first (unless it is already), and so
// is every published block with the tier's write-through. Owned by the engine thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include <optional>

#include "model/latent_blocks.h"
#include "model/v4_cache.h"
#include "util/huge_page_region.h"
#include "util/status.h"

namespace frugal::kv {

// MLA (deepseek2/32): n_layers × block_tokens × width values. DeepSeek-V4 (v4 set): a block holds
// the compressed rows and index keys of its positions (model::V4BlockLayout); width is unused.
struct BlockShape {
  int n_layers = 0;
  int width = 0;          // values per position per layer (kv_lora + rope: 576 for V3)
  int block_tokens = 32;  // positions per block
  model::KvDtype dtype = model::KvDtype::kF16;
  std::optional<model::V4Shape> v4 = std::nullopt;
  size_t v4_block_bytes = 0;  // with v4: model::V4BlockLayout::For(*v4, dtype, block_tokens).block_bytes (ShapeFor sets it)

  model::LatentLayout layout() const { return {width, dtype, block_tokens}; }
  size_t block_bytes() const { return v4 ? v4_block_bytes : static_cast<size_t>(n_layers) * layout().layer_bytes(); }
  // MLA: layers × width × bytes per value; V4: a block's bytes over its positions (the
  // compressed rows' share; each sequence holds its window and compressor state besides).
  size_t bytes_per_token() const {
    return v4 ? block_bytes() / static_cast<size_t>(block_tokens) : static_cast<size_t>(n_layers) * layout().row_bytes();
  }
};

struct PoolStats {
  int blocks = 0;       // in the budget
  int in_use = 0;       // referenced by a sequence
  int cached_idle = 0;  // published, unreferenced (evictable)
  int free = 0;         // never used or released unpublished
  int64_t evictions = 0;
  size_t storage_bytes = 0;   // blocks × block bytes (the budget, rounded down to whole blocks)
  size_t metadata_bytes = 0;  // bookkeeping: reference counts, keys, token ids, lists
};

class DiskTier;

class BlockPool {
 public:
  // Whole blocks of `shape` within budget_bytes (at least one, else an error).
  static StatusOr<std::unique_ptr<BlockPool>> Create(const BlockShape& shape, uint64_t budget_bytes);
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  const BlockShape& shape() const { return shape_; }
  int n_blocks() const { return n_blocks_; }
  // Blocks Allocate can still hand out (free, or cached and unreferenced).
  int available() const { return static_cast<int>(free_.size()) + idle_count_; }
  PoolStats Stats() const;

  // A new private block (reference count 1): a free one, else the least recently released
  // cached one (dropping it from the prefix index). ResourceExhausted when every block is in use.
  StatusOr<int> Allocate();
  void Retain(int block);
  // Drops one reference; at zero a published block stays cached, a private one becomes free.
  void Release(int block);
  int refcount(int block) const { return meta_[static_cast<size_t>(block)].refs; }
  bool published(int block) const { return meta_[static_cast<size_t>(block)].published; }

  // The cached block published under `key` whose token ids equal `tokens`, retained for the
  // caller; -1 if none (a key collision with other ids is a miss).
  int Lookup(uint64_t key, std::span<const int32_t> tokens);
  // Publishes a full block under `key` (its token ids kept to verify hits). If another block is
  // already published under the key, this one stays private. The block must not be written again.
  // `parent`: the key of the block before it in the chain (the root key for the first).
  // `skip_disk`: never store it in the disk tier — its entry is there already (it was read from
  // there), or it must stay in RAM (a part of a V4 snapshot, kv/sequence_kv.h).
  void Publish(int block, uint64_t parent, uint64_t key, std::span<const int32_t> tokens, bool skip_disk = false);

  // The disk tier evicted blocks go to (null: none). Not owned; must outlive the pool's use.
  void AttachDisk(DiskTier* disk) { disk_ = disk; }
  DiskTier* disk() const { return disk_; }
  // Stores every published block not yet on disk (at shutdown: what RAM holds survives).
  void StoreAllToDisk();

  // A block's storage: [layer][slot][width] values of the cache type.
  std::byte* Data(int block) { return storage_.data() + static_cast<size_t>(block) * shape_.block_bytes(); }

 private:
  struct Meta {
    int refs = 0;
    bool published = false;
    uint64_t key = 0;
    uint64_t parent = 0;
    bool on_disk = false;  // stored in the disk tier (or not to be stored there: Publish's skip_disk)
    bool committed = false;  // its pages have been populated
    int lru_prev = -1, lru_next = -1;  // in the idle list when published and unreferenced
  };
  BlockPool(const BlockShape& shape, int n_blocks, HugePageRegion storage);
  void IdlePush(int block);   // most recently released end
  void IdleRemove(int block);
  void Unpublish(int block);
  void StoreToDisk(int block, bool wait = false);

  BlockShape shape_;
  int n_blocks_;
  HugePageRegion storage_;  // n_blocks_ × block bytes (and up to 2 MiB never touched)
  std::vector<Meta> meta_;
  std::vector<int32_t> tokens_;  // [n_blocks, block_tokens]: the ids of published blocks
  std::vector<int> free_;        // a stack: lowest ids on top
  std::unordered_map<uint64_t, int> index_;
  int idle_head_ = -1, idle_tail_ = -1, idle_count_ = 0;  // head: least recently released
  int64_t evictions_ = 0;
  DiskTier* disk_ = nullptr;
};

}  // namespace frugal::kv
