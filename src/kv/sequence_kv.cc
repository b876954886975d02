#include "kv/sequence_kv.h"

#include <algorithm>
#include <cstring>

#include "kv/block_key.h"
#include "kv/disk_tier.h"
#include "util/check.h"

namespace frugal::kv {

SequenceKv::SequenceKv(BlockPool& pool, uint64_t root_key) : pool_(pool), root_key_(root_key) {
  if (pool.shape().v4) tail_ = std::make_unique<model::V4Tail>(*pool.shape().v4);
}

SequenceKv::~SequenceKv() {
  while (!blocks_.empty()) PopBlock();
  if (tail_) PublishSnapshot();  // released last: evicted after the chain it continues
}

void SequenceKv::PublishSnapshot() {
  if (prompt_image_.key != last_image_.key) PublishImage(prompt_image_);
  PublishImage(last_image_);  // released last: evicted last
  prompt_image_ = {};
  last_image_ = {};
}

void SequenceKv::PublishImage(BoundaryImage& image) {
  if (image.bytes.empty()) return;
  const size_t block_bytes = pool_.shape().block_bytes();
  const size_t parts = (image.bytes.size() + block_bytes - 1) / block_bytes;
  std::vector<int> got;
  for (size_t i = 0; i < parts; ++i) {
    StatusOr<int> b = pool_.Allocate();
    if (!b.ok()) break;
    got.push_back(*b);
  }
  if (got.size() == parts) {
    for (size_t i = 0; i < parts; ++i) {
      const size_t at = i * block_bytes, n = std::min(block_bytes, image.bytes.size() - at);
      std::memcpy(pool_.Data(got[i]), image.bytes.data() + at, n);
      pool_.Publish(got[i], image.key, SnapshotKey(image.key, static_cast<int>(i)), image.ids, /*skip_disk=*/true);  // RAM only
    }
  }
  for (int b : got) pool_.Release(b);  // a full pool: no snapshot (the private blocks go back free)
  image = {};
}

std::vector<int> SequenceKv::LookupSnapshot(size_t i) {
  const size_t b = static_cast<size_t>(pool_.shape().block_tokens);
  const std::span<const int32_t> ids(tokens_.data() + i * b, b);
  const size_t parts = (tail_->image_bytes() + pool_.shape().block_bytes() - 1) / pool_.shape().block_bytes();
  std::vector<int> got;
  for (size_t p = 0; p < parts; ++p) {
    const int block = pool_.Lookup(SnapshotKey(keys_[i], static_cast<int>(p)), ids);
    if (block < 0) {
      for (int g : got) pool_.Release(g);
      return {};
    }
    got.push_back(block);
  }
  return got;
}

void SequenceKv::PopBlock() {
  pool_.Release(blocks_.back());
  blocks_.pop_back();
  bases_.pop_back();
}

void SequenceKv::Append(int block, uint64_t key, std::span<const int32_t> ids) {
  blocks_.push_back(block);
  bases_.push_back(pool_.Data(block));
  keys_.push_back(key);
  tokens_.insert(tokens_.end(), ids.begin(), ids.end());
}

PrefixHit SequenceKv::Reuse(std::span<const int32_t> prompt) {
  if (prompt.empty()) return {};
  const size_t limit = prompt.size() - 1;  // the last token is always computed
  size_t common = 0;
  while (common < tokens_.size() && common < limit && tokens_[common] == prompt[common]) ++common;
  Truncate(static_cast<int>(common));
  const int own = length();  // V4: its tail is valid here
  const int b = pool_.shape().block_tokens;
  prompt_boundary_ = static_cast<int>(limit) / b * b;
  // Published blocks extend a sequence that ends on a block boundary.
  while (static_cast<size_t>(length()) == blocks_.size() * static_cast<size_t>(b) && length() + b <= static_cast<int>(limit)) {
    const std::span<const int32_t> ids = prompt.subspan(static_cast<size_t>(length()), static_cast<size_t>(b));
    const uint64_t key = BlockKey(keys_.empty() ? root_key_ : keys_.back(), ids);
    const int block = pool_.Lookup(key, ids);
    if (block < 0) break;
    Append(block, key, ids);
  }
  if (tail_) {  // V4: resume where a snapshot exists (RAM only), else keep what it held
    size_t keep = static_cast<size_t>(own);
    std::vector<int> snapshot;
    for (size_t k = blocks_.size(); k * static_cast<size_t>(b) > static_cast<size_t>(own) && k <= keys_.size(); --k) {
      snapshot = LookupSnapshot(k - 1);
      if (!snapshot.empty()) {
        keep = k * static_cast<size_t>(b);
        break;
      }
    }
    while (blocks_.size() > (keep + static_cast<size_t>(b) - 1) / static_cast<size_t>(b)) PopBlock();
    keys_.resize(std::min(keys_.size(), keep / static_cast<size_t>(b)));
    tokens_.resize(keep);
    if (!snapshot.empty()) {
      const size_t block_bytes = pool_.shape().block_bytes();
      std::vector<std::byte> image(snapshot.size() * block_bytes);
      for (size_t p = 0; p < snapshot.size(); ++p) std::memcpy(image.data() + p * block_bytes, pool_.Data(snapshot[p]), block_bytes);
      for (int s : snapshot) pool_.Release(s);
      tail_->LoadImage(image.data());
      if (static_cast<size_t>(tail_->length()) != keep) {  // not the state at that boundary: start over
        Truncate(0);
        tail_->Reset();
      }
    }
    return {.tokens = length()};
  }
  PrefixHit hit;
  if (pool_.disk() != nullptr) hit.disk_tokens = ReuseFromDisk(prompt, limit);
  hit.tokens = length();
  return hit;
}

int SequenceKv::ReuseFromDisk(std::span<const int32_t> prompt, size_t limit) {
  const size_t b = static_cast<size_t>(pool_.shape().block_tokens);
  if (tokens_.size() != blocks_.size() * b) return 0;  // only whole blocks extend a chain
  // The chain of the prompt's remaining full blocks (keys need only the ids).
  std::vector<ChainLink> links;
  uint64_t parent = keys_.empty() ? root_key_ : keys_.back();
  for (size_t at = tokens_.size(); at + b <= limit; at += b) {
    const std::span<const int32_t> ids = prompt.subspan(at, b);
    const uint64_t key = BlockKey(parent, ids);
    links.push_back({parent, key, ids});
    parent = key;
  }
  DiskTier& disk = *pool_.disk();
  links.resize(static_cast<size_t>(disk.Probe(links)));
  std::vector<int> fresh;
  std::vector<std::byte*> dest;
  while (fresh.size() < links.size()) {  // as many blocks as the pool can give
    StatusOr<int> block = pool_.Allocate();
    if (!block.ok()) break;
    fresh.push_back(*block);
    dest.push_back(pool_.Data(*block));
  }
  const int loaded = disk.Load(links, dest);
  for (size_t i = 0; i < fresh.size(); ++i) {
    if (static_cast<int>(i) < loaded) {
      pool_.Publish(fresh[i], links[i].parent, links[i].key, links[i].tokens, /*skip_disk=*/true);  // read from there
      Append(fresh[i], links[i].key, links[i].tokens);
    } else {
      pool_.Release(fresh[i]);
    }
  }
  return loaded * static_cast<int>(b);
}

void SequenceKv::Truncate(int n) {
  n = std::clamp(n, 0, length());
  if (tail_ && n < length()) {  // a V4 tail cannot be rewound: it lets go of everything
    n = 0;
    while (!blocks_.empty()) PopBlock();
    PublishSnapshot();
    tail_->Reset();
  }
  const int b = pool_.shape().block_tokens;
  // A partly kept block is written again from n on: only an unshared, unpublished one may be.
  if (n % b != 0) {
    const int block = blocks_[static_cast<size_t>(n / b)];
    if (pool_.published(block) || pool_.refcount(block) > 1) n = n / b * b;
  }
  const size_t keep = static_cast<size_t>((n + b - 1) / b);
  while (blocks_.size() > keep) PopBlock();
  keys_.resize(std::min(keys_.size(), static_cast<size_t>(n / b)));
  tokens_.resize(static_cast<size_t>(n));
}

Status SequenceKv::Reserve(int n) {
  const int b = pool_.shape().block_tokens;
  const size_t need = static_cast<size_t>((length() + n + b - 1) / b);
  const size_t before = blocks_.size();
  while (blocks_.size() < need) {
    StatusOr<int> block = pool_.Allocate();
    if (!block.ok()) {
      while (blocks_.size() > before) PopBlock();
      return block.status();
    }
    blocks_.push_back(*block);
    bases_.push_back(pool_.Data(*block));
  }
  return OkStatus();
}

Status SequenceKv::CopyFrom(const SequenceKv& source) {
  FRUGAL_CHECK(blocks_.empty() && &source.pool_ == &pool_);
  const size_t b = static_cast<size_t>(pool_.shape().block_tokens);
  for (size_t i = 0; i < source.blocks_.size() && i * b < source.tokens_.size(); ++i) {
    const int block = source.blocks_[i];
    if ((i + 1) * b <= source.tokens_.size()) {  // full: never written again, so shared
      pool_.Retain(block);
      blocks_.push_back(block);
    } else {
      StatusOr<int> copy = pool_.Allocate();
      if (!copy.ok()) {
        while (!blocks_.empty()) PopBlock();
        return copy.status();
      }
      std::memcpy(pool_.Data(*copy), pool_.Data(block), pool_.shape().block_bytes());
      blocks_.push_back(*copy);
    }
    bases_.push_back(pool_.Data(blocks_.back()));
  }
  keys_ = source.keys_;
  tokens_ = source.tokens_;
  if (tail_) {
    *tail_ = *source.tail_;
    last_image_ = source.last_image_;
    prompt_image_ = source.prompt_image_;
    prompt_boundary_ = source.prompt_boundary_;
  }
  return OkStatus();
}

void SequenceKv::Commit(std::span<const int32_t> ids) {
  FRUGAL_CHECK_LE(length() + static_cast<int>(ids.size()), static_cast<int>(blocks_.size()) * pool_.shape().block_tokens);
  tokens_.insert(tokens_.end(), ids.begin(), ids.end());
  const size_t b = static_cast<size_t>(pool_.shape().block_tokens);
  while ((keys_.size() + 1) * b <= tokens_.size()) {
    const size_t i = keys_.size();
    const std::span<const int32_t> block_ids(tokens_.data() + i * b, b);
    const uint64_t key = BlockKey(keys_.empty() ? root_key_ : keys_.back(), block_ids);
    pool_.Publish(blocks_[i], keys_.empty() ? root_key_ : keys_.back(), key, block_ids);
    keys_.push_back(key);
  }
  // V4: a step that ends on a block boundary leaves the state a snapshot there would hold.
  if (tail_ && !tokens_.empty() && tokens_.size() % b == 0 && static_cast<size_t>(tail_->length()) == tokens_.size()) {
    const bool at_prompt = static_cast<int>(tokens_.size()) == prompt_boundary_;
    if (at_prompt) last_image_ = {};  // the prompt's image is the newest one now
    BoundaryImage& image = at_prompt ? prompt_image_ : last_image_;
    image.bytes.resize(tail_->image_bytes());
    tail_->SaveImage(image.bytes.data());
    image.key = keys_.back();
    image.ids.assign(tokens_.end() - static_cast<long>(b), tokens_.end());
  }
}

}  // namespace frugal::kv
