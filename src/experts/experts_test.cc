#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "experts/expert_profile.h"
#include "experts/expert_store.h"
#include "experts/routing_trace.h"
#include "experts/trace_replay.h"

namespace frugal::experts {
namespace {

// A file of `n_experts` experts in layer 1 (layer 0 has none): three stacked slices of f32 rows
// (4 rows × 250 columns = 4000 bytes per slice, deliberately not 4096-aligned), after a header.
constexpr int kExperts = 8, kRows = 4, kCols = 250;
constexpr uint64_t kSlice = kRows * kCols * 4, kHeader = 1000;

ExpertLayout TestLayout() {
  ExpertLayout l;
  l.layers.resize(2);
  l.n_experts_used = 2;
  LayerExperts& le = l.layers[1];
  le.n_experts = kExperts;
  for (int p = 0; p < 3; ++p) {
    le.parts[static_cast<size_t>(p)] = {.file_offset = kHeader + static_cast<uint64_t>(p) * kSlice * kExperts, .bytes = kSlice,
                                        .type = GgmlType::kF32, .rows = kRows, .cols = kCols};
  }
  l.file_size = kHeader + 3 * kSlice * kExperts + 77;
  return l;
}

std::vector<std::byte> TestBytes() {
  std::vector<std::byte> b(TestLayout().file_size);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::byte>((i * 7 + i / 251) & 0xff);
  return b;
}

using FaultOptions = io::FaultOptions;

std::unique_ptr<ExpertStore> NewStore(int slots, FaultOptions faults = {}, PolicyKind policy = PolicyKind::kLru,
                                      std::vector<ExpertKey> hot = {}) {
  const ExpertLayout layout = TestLayout();
  auto file = io::NewFaultInjectingFile(io::NewMemoryFile("experts.bin", TestBytes()), faults);
  auto s = ExpertStore::Create(layout, std::move(file),
                               {.budget_bytes = static_cast<uint64_t>(slots) * layout.MaxExpertBytes(), .policy = policy,
                                .hot_set = std::move(hot), .io_threads = 3});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

void ExpectExpertBytes(const ExpertRows& r, int id) {
  const auto bytes = TestBytes();
  const kernels::WeightRows* parts[3] = {&r.gate, &r.up, &r.down};
  for (uint64_t p = 0; p < 3; ++p) {
    const uint64_t offset = kHeader + p * kSlice * kExperts + static_cast<uint64_t>(id) * kSlice;
    EXPECT_EQ(parts[p]->n_rows, kRows);
    EXPECT_EQ(parts[p]->cols, kCols);
    EXPECT_EQ(std::memcmp(parts[p]->data, bytes.data() + offset, kSlice), 0) << "expert " << id << " part " << p;
  }
}

TEST(ExpertStoreTest, AcquireReadsTheExpertsSlices) {
  auto store = NewStore(3);
  ASSERT_NE(store, nullptr);
  const int ids[] = {5, 0};
  auto lease = store->Acquire(1, ids);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  ASSERT_EQ(lease->size(), 2u);
  ExpectExpertBytes(lease->rows(0), 5);
  ExpectExpertBytes(lease->rows(1), 0);
  const ExpertStoreStats st = store->Stats();
  EXPECT_EQ(st.Accesses(), 2u);
  EXPECT_EQ(st.Hits(), 0u);
  EXPECT_EQ(st.expert_bytes_read, 2 * 3 * kSlice);
  EXPECT_EQ(st.slots, 3);
}

// A real file with direct I/O, through each read engine; the last expert's down slice ends 77
// bytes before the file's unaligned end, so its aligned read passes the end of the file.
TEST(ExpertStoreTest, DirectFileThroughEachReadEngine) {
  const std::string path = ::testing::TempDir() + "/frugal_experts_direct_" + std::to_string(::getpid());
  {
    auto w = io::OpenAtomicWritableFile(path);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(TestBytes()).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  for (const char* engine : {"pread", "io_uring"}) {
    auto file = io::OpenDirectFile(path);
    ASSERT_TRUE(file.ok());
    ExpertStoreOptions o;
    o.budget_bytes = 3 * TestLayout().MaxExpertBytes();
    o.io_engine = engine;
    auto store = ExpertStore::Create(TestLayout(), std::move(*file), o);
    if (!store.ok() && std::string(engine) == "io_uring") {
      GTEST_LOG_(INFO) << "io_uring not available here: " << store.status().ToString();
      continue;
    }
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_STREQ((*store)->Stats().io_engine, engine);
    for (int e0 = 0; e0 < kExperts; e0 += 3) {
      std::vector<int> ids;
      for (int e = e0; e < std::min(kExperts, e0 + 3); ++e) ids.push_back(e);
      auto lease = (*store)->Acquire(1, ids);
      ASSERT_TRUE(lease.ok()) << engine << ": " << lease.status().ToString();
      for (size_t i = 0; i < ids.size(); ++i) ExpectExpertBytes(lease->rows(i), ids[i]);
    }
  }
  std::remove(path.c_str());
}

TEST(ExpertStoreTest, BadRequestsAreErrors) {
  auto store = NewStore(3);
  const int bad_id[] = {kExperts};
  EXPECT_EQ(store->Acquire(1, bad_id).status().code(), StatusCode::kInvalidArgument);
  const int ok[] = {1};
  EXPECT_EQ(store->Acquire(0, ok).status().code(), StatusCode::kInvalidArgument);  // a dense layer
  const int four[] = {0, 1, 2, 3};
  EXPECT_EQ(store->Acquire(1, four).status().code(), StatusCode::kInvalidArgument);  // more than the slots
  // A budget below one token's experts.
  auto file = io::NewMemoryFile("experts.bin", TestBytes());
  ExpertStoreOptions small;
  small.budget_bytes = TestLayout().MaxExpertBytes();
  EXPECT_EQ(ExpertStore::Create(TestLayout(), std::move(file), small).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseExpertBudget("25%", 1000).value(), 250u);
  EXPECT_EQ(ParseExpertBudget("2G", 0).value(), 2ull << 30);
  EXPECT_EQ(ParseExpertBudget("1.5MiB", 0).value(), 3ull << 19);
  EXPECT_EQ(ParseExpertBudget("4096", 0).value(), 4096u);
  for (const char* bad : {"", "%", "0%", "101%", "-1G", "12Q", "abc", "nan%"}) EXPECT_FALSE(ParseExpertBudget(bad, 1000).ok()) << bad;
}

TEST(ExpertStoreTest, PinnedExpertsAreNeverEvicted) {
  auto store = NewStore(3);
  const int a[] = {1, 2};
  auto held = store->Acquire(1, a);
  ASSERT_TRUE(held.ok());
  const int b[] = {3};
  { ASSERT_TRUE(store->Acquire(1, b).ok()); }  // the third slot
  const int c[] = {4, 5};                      // needs two slots; one is free of pins
  auto r = store->Acquire(1, c);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  ExpectExpertBytes(held->rows(0), 1);  // untouched
  ExpectExpertBytes(held->rows(1), 2);
  const int d[] = {4};
  auto one = store->Acquire(1, d);  // evicts 3, the only unpinned one
  ASSERT_TRUE(one.ok());
  ExpectExpertBytes(one->rows(0), 4);
  ExpectExpertBytes(held->rows(0), 1);
}

TEST(ExpertStoreTest, AFailedReadFailsThatAcquireNamingTheExpertThenTheStoreServesAgain) {
  // Reads 0-2 are expert 6's three slices; reads 3 and 4 (two of expert 7's) fail.
  auto store = NewStore(3, {.fail_reads_after = 3, .fail_reads_count = 2});
  const int first[] = {6};
  ASSERT_TRUE(store->Acquire(1, first).ok());
  const int second[] = {7};
  auto r = store->Acquire(1, second);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("layer 1, id 7"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("experts.bin"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(store->Stats().failed_reads, 1u);
  auto again = store->Acquire(1, second);  // read again, now successfully
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ExpectExpertBytes(again->rows(0), 7);
  auto six = store->Acquire(1, first);  // still resident, intact
  ASSERT_TRUE(six.ok());
  ExpectExpertBytes(six->rows(0), 6);
  EXPECT_EQ(store->Stats().Hits(), 1u);
}

TEST(ExpertStoreTest, ShortReadsAndSlowReads) {
  // A file shorter than its tensor table says: refused at creation, naming the layer.
  const uint64_t cut = kHeader + 2 * kSlice * kExperts + 7 * kSlice + 100;
  auto truncated = io::NewFaultInjectingFile(io::NewMemoryFile("experts.bin", TestBytes()), {.visible_size = cut});
  ExpertStoreOptions o;
  o.budget_bytes = 3 * TestLayout().MaxExpertBytes();
  auto refused = ExpertStore::Create(TestLayout(), std::move(truncated), o);
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
  // A bad sector inside expert 2's up slice: expert 2 fails every time (and 1 and 3, whose
  // aligned reads cover the same 4 KiB), the others work.
  const uint64_t bad = kHeader + kSlice * kExperts + 2 * kSlice + 2000;
  auto store = NewStore(3, {.fail_offset_begin = bad, .fail_offset_end = bad + 1});
  const int two[] = {2}, one[] = {0}, four[] = {4};
  EXPECT_EQ(store->Acquire(1, two).status().code(), StatusCode::kIoError);
  EXPECT_EQ(store->Acquire(1, two).status().code(), StatusCode::kIoError);
  auto ok1 = store->Acquire(1, one);
  auto ok4 = store->Acquire(1, four);
  ASSERT_TRUE(ok1.ok() && ok4.ok());
  ExpectExpertBytes(ok1->rows(0), 0);
  ExpectExpertBytes(ok4->rows(0), 4);
  auto slow = NewStore(3, {.read_delay_us = 20000});
  const int ids[] = {0, 1};
  ASSERT_TRUE(slow->Acquire(1, ids).ok());
  EXPECT_GE(slow->Stats().io_stall_s, 0.015);  // six reads on three threads: ≥ 2 × 20 ms, waited
}

TEST(ExpertStoreTest, PrefetchedExpertsAreHitsAndPredictionsAreScored) {
  auto store = NewStore(4);
  store->BeginStep();
  const int predicted[] = {2, 3, 4};
  store->Prefetch(1, predicted);
  const int used[] = {3, 4};
  auto lease = store->Acquire(1, used);
  ASSERT_TRUE(lease.ok());
  ExpectExpertBytes(lease->rows(0), 3);
  const ExpertStoreStats st = store->Stats();
  EXPECT_EQ(st.prefetch_reads, 3u);
  EXPECT_EQ(st.demand_reads, 0u);
  EXPECT_EQ(st.Hits(), 2u);
  EXPECT_EQ(st.predicted, 3u);
  EXPECT_EQ(st.predicted_used, 2u);
  EXPECT_DOUBLE_EQ(st.PrefetchAccuracy(), 2.0 / 3.0);
}

// A prediction that was not used goes first, so prefetching does not push out experts in use.
TEST(ExpertStoreTest, WrongPredictionsAreTheFirstVictims) {
  auto store = NewStore(4);
  const int used[] = {0, 1}, wrong[] = {2, 3}, next[] = {4, 5};
  store->BeginStep();
  ASSERT_TRUE(store->Acquire(1, used).ok());
  store->Prefetch(1, wrong);  // read, never acquired in this step
  // Slots still being read cannot be victims: wait for the prefetch to land.
  for (int i = 0; i < 2000 && store->Stats().expert_bytes_read < 4 * 3 * kSlice; ++i) ::usleep(1000);
  ASSERT_EQ(store->Stats().expert_bytes_read, 4 * 3 * kSlice);
  store->BeginStep();
  ASSERT_TRUE(store->Acquire(1, next).ok());  // evicts 2 and 3, not 0 and 1 (LRU alone would)
  const uint64_t hits = store->Stats().Hits();
  ASSERT_TRUE(store->Acquire(1, used).ok());
  EXPECT_EQ(store->Stats().Hits(), hits + 2);
}

// The same access sequence through the store (no prefetch) and through the replay gives the
// same hits: the replay predicts the store.
TEST(ExpertStoreTest, ReplayPredictsTheStore) {
  for (PolicyKind policy : {PolicyKind::kLru, PolicyKind::kLfu, PolicyKind::kPinned}) {
    std::vector<ExpertKey> hot = {{1, 0}, {1, 3}};
    auto store = NewStore(6, {}, policy, policy == PolicyKind::kPinned ? hot : std::vector<ExpertKey>{});
    ASSERT_NE(store, nullptr);
    RoutingTrace trace;
    trace.shape = {2, kExperts, 2, {0, 3 * kSlice}};
    std::mt19937 rng(7);
    for (int step = 0; step < 300; ++step) {
      TraceGroup g{step, 1, {}};
      const int n = 1 + static_cast<int>(rng() % 2);
      while (static_cast<int>(g.experts.size()) < n) {
        const int e = rng() % 2 == 0 ? static_cast<int>(rng() % kExperts) : static_cast<int>(rng() % 3);  // skewed
        if (std::find(g.experts.begin(), g.experts.end(), e) == g.experts.end()) g.experts.push_back(e);
      }
      std::sort(g.experts.begin(), g.experts.end());
      store->BeginStep();
      ASSERT_TRUE(store->Acquire(1, g.experts).ok());
      trace.groups.push_back(g);
    }
    auto r = ReplayTrace(trace, 6, policy == PolicyKind::kLru ? ReplayPolicy::kLru : policy == PolicyKind::kLfu ? ReplayPolicy::kLfu : ReplayPolicy::kPinned, hot);
    ASSERT_TRUE(r.ok());
    const ExpertStoreStats st = store->Stats();
    EXPECT_EQ(r->accesses, st.Accesses()) << PolicyName(policy);
    EXPECT_EQ(r->hits, st.Hits()) << PolicyName(policy);
    EXPECT_EQ(r->bytes_read, st.expert_bytes_read) << PolicyName(policy);
    EXPECT_EQ(st.pinned_slots, policy == PolicyKind::kPinned ? 2 : 0);
    EXPECT_GT(r->hits, 0u);
    EXPECT_LT(r->hits, r->accesses);
    auto belady = ReplayTrace(trace, 6, ReplayPolicy::kBelady);
    EXPECT_GE(belady->hits, r->hits) << PolicyName(policy);
  }
}

// Hand-checked: 2 slots, one expert per step, sequence 0 1 2 0 1 2 0 (Belady keeps 0).
TEST(TraceReplayTest, LruAndBeladyOnAKnownSequence) {
  RoutingTrace trace;
  trace.shape = {1, 3, 1, {100}};
  int step = 0;
  for (int e : {0, 1, 2, 0, 1, 2, 0}) trace.groups.push_back({step++, 0, {e}});
  auto lru = ReplayTrace(trace, 2, ReplayPolicy::kLru);
  ASSERT_TRUE(lru.ok());
  EXPECT_EQ(lru->accesses, 7u);
  EXPECT_EQ(lru->hits, 0u);  // LRU always evicts what comes next
  EXPECT_EQ(lru->bytes_read, 700u);
  auto opt = ReplayTrace(trace, 2, ReplayPolicy::kBelady);
  // 0 1 miss; 2 miss (evict 1: next use 4 vs 0's 3… 1 is further); 0 hit; 1 miss (evict 2 or 0:
  // 0's next use is 6, 2's is 5 → evict 0); 2 hit; 0 miss.
  EXPECT_EQ(opt->hits, 2u);
  EXPECT_EQ(ReplayTrace(trace, 3, ReplayPolicy::kLru)->hits, 4u);  // everything fits
  EXPECT_FALSE(ReplayTrace(trace, 0, ReplayPolicy::kLru).ok());
}

TEST(ReplacementPolicyTest, LfuAgesAndPrefersRarelyUsed) {
  ReplacementPolicy p(PolicyKind::kLfu, 2);
  auto any = [](int) { return true; };
  EXPECT_EQ(p.Victim(any), 0);  // empty first
  p.Used(0);
  p.Used(1);
  for (int i = 0; i < 5; ++i) p.Used(0);
  EXPECT_EQ(p.Victim(any), 1);  // used less
  p.Pin(1);
  EXPECT_EQ(p.Victim(any), 0);
  EXPECT_EQ(p.Victim([](int s) { return s != 0; }), -1);
  ReplacementPolicy lru(PolicyKind::kLru, 2);
  lru.Used(0);
  lru.Used(1);
  lru.Used(0);
  EXPECT_EQ(lru.Victim(any), 1);
}

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/frugal_experts_" + std::to_string(::getpid()) + name; }

TEST(RoutingTraceTest, WriteThenReadGroupsByStepAndLayer) {
  const std::string path = TempPath("trace");
  {
    auto w = RoutingTraceWriter::Open(path, {2, 8, 2, {0, 12000}});
    ASSERT_TRUE(w.ok());
    (*w)->BeginStep();
    const int a[] = {3, 1}, b[] = {1, 5};
    (*w)->Record(1, 0, a);
    (*w)->Record(1, 1, b);
    (*w)->BeginStep();
    (*w)->Record(1, 0, a);
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto t = ReadRoutingTrace(path);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->records, 3);
  ASSERT_EQ(t->groups.size(), 2u);
  EXPECT_EQ(t->groups[0].experts, (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(t->groups[1].step, 1);
  EXPECT_EQ(t->shape.expert_bytes[1], 12000u);
  const std::string header = "# frugal routing trace v1\nlayers 2 experts 8 top_k 2\nexpert_bytes 0 12000\n";
  for (const std::string& bad : {std::string("garbage\n"), header + "0 1 0 9\n", header + "0 0 0 1\n", header + "0 1 0\n",
                                 header + "0 1 0 1 x\n", header + "3 1 0 1\n1 1 0 1\n", std::string("# frugal routing trace v1\nlayers 2\n"),
                                 std::string("# frugal routing trace v1\nlayers 4096 experts 65536 top_k 8\n"),
                                 std::string("# frugal routing trace v1\nlayers 2 experts 8 top_k 2\nexpert_bytes 0 99999999999999999\n")}) {
    std::ofstream(path) << bad;
    auto r = ReadRoutingTrace(path);
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << bad;
  }
  std::remove(path.c_str());
}

TEST(ExpertProfileTest, CountsWriteReadAndHottestFirst) {
  ExpertProfile p(2, 4);
  const int a[] = {1, 2}, b[] = {2, 3};
  p.Record(1, 0, a);
  p.Record(1, 1, b);
  p.Record(0, 0, b);
  const std::string path = TempPath("profile");
  ASSERT_TRUE(p.Write(path).ok());
  auto q = ReadExpertProfile(path);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->count(1, 2), 2u);
  const auto hot = q->Hottest();
  ASSERT_EQ(hot.size(), 5u);
  EXPECT_EQ(hot[0], (ExpertKey{1, 2}));
  std::ofstream(path) << "# frugal expert profile v1\nlayers 2 experts 4\n1 9 3\n";
  EXPECT_EQ(ReadExpertProfile(path).status().code(), StatusCode::kDataLoss);
  std::ofstream(path) << "# frugal expert profile v1\nlayers 4096 experts 65536\n";  // 2 GiB of counts: refused
  EXPECT_EQ(ReadExpertProfile(path).status().code(), StatusCode::kDataLoss);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace frugal::experts
