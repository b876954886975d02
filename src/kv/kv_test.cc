#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kv/block_key.h"
#include "kv/block_pool.h"
#include "kv/sequence_kv.h"

namespace frugal::kv {
namespace {

BlockShape Shape(int block_tokens = 4) { return {.n_layers = 2, .width = 8, .block_tokens = block_tokens, .dtype = model::KvDtype::kF32}; }

std::vector<int32_t> Ids(int n, int start = 100) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  std::iota(ids.begin(), ids.end(), start);
  return ids;
}

long RssKiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST(BlockPoolTest, ExactAccountingAndWholeBlocks) {
  const BlockShape s = Shape();
  EXPECT_EQ(s.bytes_per_token(), 2u * 8u * 4u);  // layers × width × bytes per value
  EXPECT_EQ(s.block_bytes(), 4u * s.bytes_per_token());
  auto pool = BlockPool::Create(s, 10 * s.block_bytes() + 5);
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ((*pool)->n_blocks(), 10);
  EXPECT_EQ((*pool)->Stats().storage_bytes, 10 * s.block_bytes());
  EXPECT_FALSE(BlockPool::Create(s, s.block_bytes() - 1).ok());
}

// V3 at inspect's block size: 70,272 bytes a token (61 layers × 576 values × 2 B); the pool's
// bookkeeping (token ids, keys, counts, lists) stays far within 2% of the storage.
TEST(BlockPoolTest, V3ShapedAccountingAndOverhead) {
  const BlockShape s{.n_layers = 61, .width = 576, .block_tokens = 64, .dtype = model::KvDtype::kF16};
  EXPECT_EQ(s.bytes_per_token(), 70272u);
  auto pool = BlockPool::Create(s, 1000 * s.block_bytes());
  ASSERT_TRUE(pool.ok());
  const PoolStats st = (*pool)->Stats();
  EXPECT_EQ(st.storage_bytes, uint64_t{1000} * 64 * 70272);
  EXPECT_GT(st.metadata_bytes, 1000u * 64u * 4u);  // at least the token ids are counted
  EXPECT_LE(static_cast<double>(st.metadata_bytes), 0.02 * static_cast<double>(st.storage_bytes));
}

TEST(BlockPoolTest, ReservesWithoutCommittingMemory) {
  // V3-shaped blocks: 61 layers × 576 × f16 × 32 tokens; a 4 GiB budget must not touch 4 GiB.
  const BlockShape s{.n_layers = 61, .width = 576, .block_tokens = 32, .dtype = model::KvDtype::kF16};
  const long before = RssKiB();
  auto pool = BlockPool::Create(s, uint64_t{4} << 30);
  ASSERT_TRUE(pool.ok());
  EXPECT_LT(RssKiB() - before, 8 * 1024);  // metadata only
  auto b = (*pool)->Allocate();
  ASSERT_TRUE(b.ok());
  std::fill_n((*pool)->Data(*b), s.block_bytes(), std::byte{1});
  EXPECT_GE(RssKiB() - before, static_cast<long>(s.block_bytes() / 1024) - 64);
  const PoolStats st = (*pool)->Stats();
  EXPECT_LE(static_cast<double>(st.metadata_bytes), 0.02 * static_cast<double>(st.storage_bytes));
}

// The storage is in huge pages where the kernel gives them, but writing every block of a budget
// that is not a whole number of 2 MiB pages must not commit the rest of the last one: resident
// memory stays within the budget (here 5 blocks of 576 KiB = 2.8 MiB; a huge page over the tail
// would make it 4 MiB).
TEST(BlockPoolTest, WritingTheWholeBudgetStaysWithinIt) {
  const BlockShape s{.n_layers = 8, .width = 576, .block_tokens = 64, .dtype = model::KvDtype::kF16};
  const uint64_t budget = 5 * s.block_bytes();
  const long before = RssKiB();
  auto pool = BlockPool::Create(s, budget);
  ASSERT_TRUE(pool.ok());
  for (int i = 0; i < 5; ++i) {
    auto b = (*pool)->Allocate();
    ASSERT_TRUE(b.ok());
    std::fill_n((*pool)->Data(*b), s.block_bytes(), std::byte{1});
  }
  const long grown = RssKiB() - before;
  EXPECT_GE(grown, static_cast<long>(budget / 1024) - 64);
  // Slack: bookkeeping, and AddressSanitizer's shadow (an eighth of what is written) in that build.
  EXPECT_LE(grown, static_cast<long>(budget / 1024 + budget / 8 / 1024) + 256)
      << "KiB resident for a budget of " << budget / 1024 << " KiB";
}

TEST(BlockPoolTest, FullPoolIsAnErrorAndReleaseFrees) {
  auto pool = std::move(BlockPool::Create(Shape(), 3 * Shape().block_bytes())).value();
  std::vector<int> got;
  for (int i = 0; i < 3; ++i) got.push_back(*pool->Allocate());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));  // lowest first
  auto full = pool->Allocate();
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(full.status().message().find("--kv-budget"), std::string::npos);
  pool->Release(1);
  EXPECT_EQ(*pool->Allocate(), 1);
}

TEST(BlockPoolTest, PublishedBlocksAreSharedVerifiedAndEvictedLeastRecentFirst) {
  auto pool = std::move(BlockPool::Create(Shape(), 3 * Shape().block_bytes())).value();
  const auto a = Ids(4, 0), b = Ids(4, 10), c = Ids(4, 20);
  const int ba = *pool->Allocate(), bb = *pool->Allocate();
  pool->Publish(ba, 1, 111, a);
  pool->Publish(bb, 1, 222, b);
  EXPECT_EQ(pool->Lookup(111, b), -1);  // same key, other ids: a miss
  EXPECT_EQ(pool->Lookup(333, a), -1);
  EXPECT_EQ(pool->Lookup(111, a), ba);
  EXPECT_EQ(pool->refcount(ba), 2);
  pool->Release(ba);
  pool->Release(ba);  // idle, cached
  pool->Release(bb);  // idle, cached, more recent
  EXPECT_EQ(pool->Stats().cached_idle, 2);
  const int third = *pool->Allocate();  // the free block first
  EXPECT_NE(third, ba);
  EXPECT_NE(third, bb);
  pool->Publish(third, 1, 333, c);
  EXPECT_EQ(pool->Lookup(222, b), bb);  // bb in use again: not evictable
  const int evicted = *pool->Allocate();
  EXPECT_EQ(evicted, ba);  // the only idle one
  EXPECT_EQ(pool->Stats().evictions, 1);
  EXPECT_EQ(pool->Lookup(111, a), -1);  // gone from the index
  EXPECT_FALSE(pool->Allocate().ok());  // bb, third and ba all referenced
}

TEST(SequenceKvTest, ReusesPublishedPrefixOnlyInWholeBlocksAndScope) {
  auto pool = std::move(BlockPool::Create(Shape(), 20 * Shape().block_bytes())).value();
  const PrefixScope scope{.model_fingerprint = 7, .dtype = model::KvDtype::kF32, .block_tokens = 4, .tenant = ""};
  const uint64_t root = RootKey(scope);
  const auto prompt = Ids(10);
  {
    SequenceKv s(*pool, root);
    EXPECT_EQ(s.Reuse(prompt).tokens, 0);
    ASSERT_TRUE(s.Reserve(10).ok());
    EXPECT_EQ(s.blocks(), 3);
    s.Commit(prompt);
    EXPECT_EQ(pool->Stats().in_use, 3);
  }
  EXPECT_EQ(pool->Stats().cached_idle, 2);  // the two full blocks stay cached
  SequenceKv again(*pool, root);
  EXPECT_EQ(again.Reuse(prompt).tokens, 8);
  std::vector<int32_t> other = prompt;
  other[5] = 1;  // differs in the second block
  SequenceKv diverging(*pool, root);
  EXPECT_EQ(diverging.Reuse(other).tokens, 4);
  PrefixScope tenant_b = scope;
  tenant_b.tenant = "b";
  SequenceKv isolated(*pool, RootKey(tenant_b));
  EXPECT_EQ(isolated.Reuse(prompt).tokens, 0);
  PrefixScope bf16 = scope;
  bf16.dtype = model::KvDtype::kBF16;
  EXPECT_NE(RootKey(bf16), root);
  PrefixScope other_model = scope;
  other_model.model_fingerprint = 8;
  EXPECT_NE(RootKey(other_model), root);
  // A prompt of exactly two blocks reuses one: its last token must be computed.
  SequenceKv exact(*pool, root);
  EXPECT_EQ(exact.Reuse(std::span(prompt).first(8)).tokens, 4);
}

TEST(SequenceKvTest, TruncateNeverWritesIntoAPublishedBlock) {
  auto pool = std::move(BlockPool::Create(Shape(), 20 * Shape().block_bytes())).value();
  SequenceKv s(*pool, 1);
  const auto ids = Ids(10);
  ASSERT_TRUE(s.Reserve(10).ok());
  s.Commit(ids);
  s.Truncate(9);  // inside the private third block: kept
  EXPECT_EQ(s.length(), 9);
  EXPECT_EQ(s.blocks(), 3);
  s.Truncate(6);  // inside the published second block: dropped to its start
  EXPECT_EQ(s.length(), 4);
  EXPECT_EQ(s.blocks(), 1);
  // The same sequence with a new prompt keeps what it shares.
  std::vector<int32_t> next = Ids(12);
  EXPECT_EQ(s.Reuse(next).tokens, 8);  // 4 kept + the published second block
}

TEST(SequenceKvTest, FailedReserveAllocatesNothing) {
  auto pool = std::move(BlockPool::Create(Shape(), 3 * Shape().block_bytes())).value();
  SequenceKv s(*pool, 1);
  ASSERT_TRUE(s.Reserve(4).ok());
  const Status st = s.Reserve(100);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.blocks(), 1);
  EXPECT_EQ(pool->available(), 2);
}

TEST(SequenceKvTest, ViewWritesAndReadsRowsAcrossBlocks) {
  auto pool = std::move(BlockPool::Create(Shape(), 4 * Shape().block_bytes())).value();
  SequenceKv s(*pool, 1);
  ASSERT_TRUE(s.Reserve(10).ok());
  const model::LatentBlocks v = s.View();
  for (int layer = 0; layer < 2; ++layer) {
    for (int pos = 0; pos < 10; ++pos) {
      std::vector<float> row(8);
      for (int i = 0; i < 8; ++i) row[static_cast<size_t>(i)] = static_cast<float>(layer * 1000 + pos * 10 + i);
      v.Write(layer, pos, row.data());
    }
  }
  std::vector<float> out(80);
  v.Read(1, 10, out.data());
  for (int pos = 0; pos < 10; ++pos) EXPECT_EQ(out[static_cast<size_t>(pos) * 8 + 3], 1000 + pos * 10 + 3);
  int runs = 0, covered = 0;
  v.ForEachRun(0, 10, [&](const std::byte*, int first, int n) {
    EXPECT_EQ(first, covered);
    covered += n;
    ++runs;
  });
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(covered, 10);
}

}  // namespace
}  // namespace frugal::kv

namespace frugal::kv {
namespace {

TEST(SequenceKvTest, CopyFromSharesFullBlocksAndCopiesThePartialOne) {
  auto pool = std::move(BlockPool::Create(Shape(), 10 * Shape().block_bytes())).value();
  SequenceKv a(*pool, 1);
  ASSERT_TRUE(a.Reserve(6).ok());
  std::vector<float> row(8, 1.5f);
  for (int pos = 0; pos < 6; ++pos) a.View().Write(0, pos, row.data());
  a.Commit(Ids(6));
  SequenceKv b(*pool, 1);
  ASSERT_TRUE(b.CopyFrom(a).ok());
  EXPECT_EQ(b.tokens(), a.tokens());
  EXPECT_EQ(pool->Stats().in_use, 3);  // the full block shared, the partial one copied
  std::vector<float> out(6 * 8);
  b.View().Read(0, 6, out.data());
  EXPECT_EQ(out[5 * 8], 1.5f);
  // b goes on writing its own copy; a's block is untouched.
  ASSERT_TRUE(b.Reserve(1).ok());
  std::vector<float> other(8, -2.0f);
  b.View().Write(0, 6, other.data());
  a.View().Read(0, 6, out.data());
  EXPECT_EQ(out[5 * 8], 1.5f);
}

}  // namespace
}  // namespace frugal::kv
