#include <atomic>
#include <chrono>
#include <new>
#include <thread>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "util/checked_math.h"
#include "util/ggml_type.h"
#include "util/half.h"
#include "util/rng.h"
#include "util/spin_once.h"
#include "util/status.h"
#include "util/thread_pool.h"

namespace frugal {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2) return InvalidArgument("{} is odd", x);
  return x / 2;
}

Status Quarter(int x, int* out) {
  FRUGAL_ASSIGN_OR_RETURN(int h, Half(x));
  FRUGAL_ASSIGN_OR_RETURN(*out, Half(h));
  return OkStatus();
}

TEST(StatusTest, PropagatesErrorsWithMessages) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = Quarter(6, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "3 is odd");
  EXPECT_EQ(s.WithContext("file x").ToString(), "InvalidArgument: file x: 3 is odd");
}

TEST(CheckedMathTest, DetectsOverflow) {
  uint64_t r;
  EXPECT_TRUE(CheckedMul(1ull << 31, 1ull << 32, &r));
  EXPECT_EQ(r, 1ull << 63);
  EXPECT_FALSE(CheckedMul(1ull << 32, 1ull << 32, &r));
  EXPECT_FALSE(CheckedAdd(UINT64_MAX, 1, &r));
  EXPECT_TRUE(CheckedAlignUp(33, 32, &r));
  EXPECT_EQ(r, 64u);
  EXPECT_FALSE(CheckedAlignUp(UINT64_MAX - 3, 32, &r));
  EXPECT_TRUE(IsPowerOfTwo(64));
  EXPECT_FALSE(IsPowerOfTwo(48));
  EXPECT_FALSE(IsPowerOfTwo(0));
}

TEST(HalfTest, KnownValues) {
  EXPECT_EQ(F16ToF32(0x3c00), 1.0f);
  EXPECT_EQ(F16ToF32(0xc000), -2.0f);
  EXPECT_EQ(F16ToF32(0x3800), 0.5f);
  EXPECT_EQ(F16ToF32(0x7bff), 65504.0f);
  EXPECT_EQ(F16ToF32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(F16ToF32(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_TRUE(std::isinf(F16ToF32(0x7c00)));
  EXPECT_TRUE(std::isnan(F16ToF32(0x7e00)));
  EXPECT_EQ(F32ToF16(1.0f), 0x3c00);
  EXPECT_EQ(F32ToF16(65520.0f), 0x7c00);  // rounds to inf
  EXPECT_EQ(F32ToF16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie -> even
  EXPECT_EQ(F32ToF16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie -> even (up)
  EXPECT_EQ(Bf16ToF32(0x3f80), 1.0f);
  EXPECT_EQ(F32ToBf16(1.0f), 0x3f80);
  EXPECT_EQ(F32ToBf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(F32ToBf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);
}

TEST(HalfTest, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = F16ToF32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(F32ToF16(f), h) << "h=" << h;
  }
}

TEST(GgmlTypeTest, GeometryAndNames) {
  EXPECT_EQ(TraitsOf(GgmlType::kQ4_K).block_bytes, 144u);
  EXPECT_EQ(TraitsOf(GgmlType::kQ6_K).block_elems, 256u);
  EXPECT_EQ(RowBytes(GgmlType::kQ8_0, 64), 68u);
  EXPECT_TRUE(IsRemovedTypeId(4));
  EXPECT_FALSE(TraitsOfTypeId(4).has_value());
  EXPECT_FALSE(TraitsOfTypeId(40).has_value());
  EXPECT_EQ(TypeFromName("Q4_K"), GgmlType::kQ4_K);
  EXPECT_EQ(TypeFromName("bf16"), GgmlType::kBF16);
  EXPECT_FALSE(TypeFromName("q7_0").has_value());
}

TEST(RngTest, DeterministicAndRoughlyNormal) {
  Rng a(7), b(7);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.Next(), b.Next());
  Rng r(1);
  double sum = 0, sum2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = r.NormalFast();
    sum += x;
    sum2 += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum2 / n, 1.0, 0.02);
}

TEST(ThreadPoolTest, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 5, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.ParallelFor(n, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
  }
}

TEST(ThreadPoolTest, DynamicCoversEveryIndexOnceInChunks) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 5, 1000}) {
      for (int64_t chunk : {1, 7, 2000}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<bool> oversized{false};
        pool.ParallelForDynamic(n, chunk, [&](int64_t b, int64_t e, int thread) {
          if (e - b > chunk || thread < 0 || thread >= threads) oversized = true;
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
        });
        for (auto& h : hits) EXPECT_EQ(h.load(), 1);
        EXPECT_FALSE(oversized.load());
      }
      // A static job after a dynamic one still splits statically.
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.ParallelFor(n, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
  }
}

// A job that throws (bad_alloc in a worker, say) reaches the caller as that exception after
// every thread has stopped; the pool stays usable.
TEST(ThreadPoolTest, JobExceptionReachesCallerAndPoolStaysUsable) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t bad_item : {0, 150, 299}) {  // in the first, a middle and the last share
      std::atomic<int> running{0};
      EXPECT_THROW(pool.ParallelForDynamic(300, 1,
                                           [&](int64_t b, int64_t, int) {
                                             running++;
                                             if (b == bad_item) throw std::bad_alloc();
                                             running--;
                                           }),
                   std::bad_alloc);
      // Only the throwing call is still counted: no worker runs the job after the rethrow.
      const int after = running.load();
      EXPECT_EQ(after, 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      EXPECT_EQ(running.load(), after);
      std::vector<std::atomic<int>> hits(100);
      pool.ParallelFor(100, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
  }
}

// Racing threads: exactly one runs its function, and every caller sees what it wrote once Run
// returns (the losers wait for it rather than returning early).
TEST(SpinOnceTest, OneRunsTheOthersWaitAndSeeItsWrites) {
  for (int round = 0; round < 200; ++round) {
    SpinOnce once;
    std::atomic<int> runs{0}, seen_unset{0};
    int value = 0;  // written by the one run, read by every caller
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        while (!go.load()) {
        }
        once.Run([&] {
          runs++;
          std::this_thread::sleep_for(std::chrono::microseconds(50));  // the others arrive while it runs
          value = 42;
        });
        if (value != 42) seen_unset++;
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(runs.load(), 1);
    EXPECT_EQ(seen_unset.load(), 0);
    EXPECT_TRUE(once.done());
  }
}

// A function that throws marks nothing done: the exception reaches its caller, and a caller that
// was waiting runs its own function instead of returning with nothing initialized.
TEST(SpinOnceTest, AThrowLetsTheNextCallerRun) {
  SpinOnce once;
  EXPECT_THROW(once.Run([] { throw std::bad_alloc(); }), std::bad_alloc);
  EXPECT_FALSE(once.done());
  int runs = 0;
  once.Run([&] { runs++; });
  once.Run([&] { runs++; });
  EXPECT_EQ(runs, 1);

  SpinOnce racing;
  std::atomic<bool> started{false}, release{false};
  std::atomic<int> waiter_ran{0};
  std::thread first([&] {
    EXPECT_THROW(racing.Run([&] {
                   started = true;
                   while (!release.load()) {
                   }
                   throw std::bad_alloc();
                 }),
                 std::bad_alloc);
  });
  while (!started.load()) {
  }
  std::thread waiter([&] { racing.Run([&] { waiter_ran++; }); });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(waiter_ran.load(), 0);  // still waiting for the first
  release = true;
  first.join();
  waiter.join();
  EXPECT_EQ(waiter_ran.load(), 1);
  EXPECT_TRUE(racing.done());
}

}  // namespace
}  // namespace frugal
