#include "kv/block_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "kv/disk_tier.h"
#include "util/check.h"

namespace frugal::kv {
namespace {

#ifdef MADV_POPULATE_WRITE
constexpr int kPopulateWrite = MADV_POPULATE_WRITE;
#else
constexpr int kPopulateWrite = 23;  // Linux 5.14's value, for older headers
#endif

}  // namespace

StatusOr<std::unique_ptr<BlockPool>> BlockPool::Create(const BlockShape& shape, uint64_t budget_bytes) {
  if (shape.n_layers <= 0 || (shape.width <= 0 && !shape.v4) || shape.block_tokens <= 0 || shape.block_bytes() == 0) {
    return InvalidArgument("bad cache block shape ({} layers, width {}, {} tokens a block)", shape.n_layers, shape.width,
                           shape.block_tokens);
  }
  const uint64_t block = shape.block_bytes();
  const uint64_t n = budget_bytes / block;
  if (n == 0) {
    return InvalidArgument("a KV budget of {} bytes holds no block of {} tokens ({} bytes); raise --kv-budget",
                           budget_bytes, shape.block_tokens, block);
  }
  if (n > (1u << 30)) return InvalidArgument("a KV budget of {} bytes is too large", budget_bytes);
  // Reserved, not committed: pages appear when first written.
  StatusOr<HugePageRegion> storage = HugePageRegion::Reserve(static_cast<size_t>(n * block));
  if (!storage.ok()) return ResourceExhausted("cannot reserve the KV cache's address space: {}", storage.status().message());
  return std::unique_ptr<BlockPool>(new BlockPool(shape, static_cast<int>(n), std::move(*storage)));
}

BlockPool::BlockPool(const BlockShape& shape, int n_blocks, HugePageRegion storage)
    : shape_(shape), n_blocks_(n_blocks), storage_(std::move(storage)), meta_(static_cast<size_t>(n_blocks)),
      tokens_(static_cast<size_t>(n_blocks) * static_cast<size_t>(shape.block_tokens)) {
  free_.reserve(static_cast<size_t>(n_blocks));
  for (int b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

BlockPool::~BlockPool() = default;

PoolStats BlockPool::Stats() const {
  PoolStats s;
  s.blocks = n_blocks_;
  s.free = static_cast<int>(free_.size());
  s.cached_idle = idle_count_;
  s.in_use = n_blocks_ - s.free - s.cached_idle;
  s.evictions = evictions_;
  s.storage_bytes = static_cast<size_t>(n_blocks_) * shape_.block_bytes();
  s.metadata_bytes = meta_.capacity() * sizeof(Meta) + tokens_.capacity() * sizeof(int32_t) +
                     free_.capacity() * sizeof(int) + index_.bucket_count() * sizeof(void*) +
                     index_.size() * (sizeof(uint64_t) + sizeof(int) + 2 * sizeof(void*));
  return s;
}

StatusOr<int> BlockPool::Allocate() {
  int b;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (idle_head_ >= 0) {
    b = idle_head_;
    IdleRemove(b);
    StoreToDisk(b);
    Unpublish(b);
    ++evictions_;
  } else {
    return ResourceExhausted("the KV cache is full: all {} blocks of {} tokens are in use; raise --kv-budget", n_blocks_,
                             shape_.block_tokens);
  }
  Meta& m = meta_[static_cast<size_t>(b)];
  m.refs = 1;
  if (!m.committed) {
    // Fails harmlessly (EINVAL) on kernels before 5.14: the pages then fault in as written.
    const uintptr_t page = 4096, begin = reinterpret_cast<uintptr_t>(Data(b)) & ~(page - 1);
    const uintptr_t end = (reinterpret_cast<uintptr_t>(Data(b)) + shape_.block_bytes() + page - 1) & ~(page - 1);
    (void)madvise(reinterpret_cast<void*>(begin), end - begin, kPopulateWrite);
    m.committed = true;
  }
  return b;
}

void BlockPool::Retain(int block) {
  Meta& m = meta_[static_cast<size_t>(block)];
  if (m.refs == 0 && m.published) IdleRemove(block);
  ++m.refs;
}

void BlockPool::Release(int block) {
  Meta& m = meta_[static_cast<size_t>(block)];
  FRUGAL_CHECK_GT(m.refs, 0);
  if (--m.refs > 0) return;
  if (m.published) {
    IdlePush(block);
  } else {
    free_.push_back(block);
  }
}

int BlockPool::Lookup(uint64_t key, std::span<const int32_t> tokens) {
  const auto it = index_.find(key);
  if (it == index_.end() || tokens.size() != static_cast<size_t>(shape_.block_tokens)) return -1;
  const int b = it->second;
  const int32_t* ids = tokens_.data() + static_cast<size_t>(b) * static_cast<size_t>(shape_.block_tokens);
  if (!std::equal(tokens.begin(), tokens.end(), ids)) return -1;
  Retain(b);
  return b;
}

void BlockPool::Publish(int block, uint64_t parent, uint64_t key, std::span<const int32_t> tokens, bool skip_disk) {
  Meta& m = meta_[static_cast<size_t>(block)];
  FRUGAL_CHECK_GT(m.refs, 0);
  FRUGAL_CHECK_EQ(tokens.size(), static_cast<size_t>(shape_.block_tokens));
  if (m.published || index_.contains(key)) return;
  m.published = true;
  m.key = key;
  m.parent = parent;
  m.on_disk = skip_disk;
  std::copy(tokens.begin(), tokens.end(), tokens_.begin() + static_cast<long>(block) * shape_.block_tokens);
  index_.emplace(key, block);
  if (disk_ != nullptr && disk_->write_through()) StoreToDisk(block);
}

void BlockPool::Unpublish(int block) {
  Meta& m = meta_[static_cast<size_t>(block)];
  index_.erase(m.key);
  m.published = false;
  m.on_disk = false;
}

void BlockPool::StoreToDisk(int block, bool wait) {
  Meta& m = meta_[static_cast<size_t>(block)];
  if (disk_ == nullptr || !m.published || m.on_disk) return;
  const size_t b = static_cast<size_t>(shape_.block_tokens);
  m.on_disk = disk_->Store(m.parent, m.key, std::span(tokens_).subspan(static_cast<size_t>(block) * b, b), Data(block), wait);
}

void BlockPool::StoreAllToDisk() {
  for (int b = 0; b < n_blocks_; ++b) StoreToDisk(b, /*wait=*/true);
}

void BlockPool::IdlePush(int block) {
  Meta& m = meta_[static_cast<size_t>(block)];
  m.lru_prev = idle_tail_;
  m.lru_next = -1;
  if (idle_tail_ >= 0) {
    meta_[static_cast<size_t>(idle_tail_)].lru_next = block;
  } else {
    idle_head_ = block;
  }
  idle_tail_ = block;
  ++idle_count_;
}

void BlockPool::IdleRemove(int block) {
  Meta& m = meta_[static_cast<size_t>(block)];
  if (m.lru_prev >= 0) {
    meta_[static_cast<size_t>(m.lru_prev)].lru_next = m.lru_next;
  } else {
    idle_head_ = m.lru_next;
  }
  if (m.lru_next >= 0) {
    meta_[static_cast<size_t>(m.lru_next)].lru_prev = m.lru_prev;
  } else {
    idle_tail_ = m.lru_prev;
  }
  m.lru_prev = m.lru_next = -1;
  --idle_count_;
}

}  // namespace frugal::kv
