// A session reuses the cached prefix: feeding a longer prompt after a shorter one computes only
// the new tokens and gives the same logits as a fresh session.
#include <unistd.h>

#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

#include "engine/session.h"
#include "tools/model_generator.h"

namespace frugal {
namespace {

TEST(SessionTest, PrefixReuseGivesTheSameLogits) {
  const std::string path = ::testing::TempDir() + "/frugal_session_" + std::to_string(::getpid());
  ThreadPool pool(2);
  ASSERT_TRUE(tools::GenerateModel({.preset = "tiny"}, path, pool).ok());
  auto m = model::LoadModel(path);
  ASSERT_TRUE(m.ok());
  std::remove(path.c_str());
  const engine::SessionOptions o{.context = 64, .kv_dtype = model::KvDtype::kF32, .prefill_chunk = 5};
  std::vector<int32_t> a = {1, 5, 9, 200, 33, 7, 8};
  std::vector<int32_t> b = a;
  b.insert(b.end(), {44, 45, 46});
  auto reused_s = engine::Session::Create(**m, o, pool), fresh_s = engine::Session::Create(**m, o, pool);
  ASSERT_TRUE(reused_s.ok() && fresh_s.ok());
  engine::Session &reused = **reused_s, &fresh = **fresh_s;
  ASSERT_EQ(*reused.Feed(a), 7);
  ASSERT_EQ(*reused.Feed(b), 3);          // only the new tokens
  ASSERT_EQ(*fresh.Feed(b), 10);
  float d = 0;
  for (size_t i = 0; i < fresh.logits().size(); ++i) d = std::max(d, std::fabs(fresh.logits()[i] - reused.logits()[i]));
  EXPECT_LT(d, 1e-5);
  // A diverging prompt recomputes from the first difference.
  std::vector<int32_t> c = {1, 5, 77};
  EXPECT_EQ(*reused.Feed(c), 1);
  EXPECT_EQ(*reused.Feed(c), 1);  // identical prompt: the last token is recomputed for fresh logits
  EXPECT_FALSE(reused.Feed(std::vector<int32_t>(65, 1)).ok());
}

}  // namespace
}  // namespace frugal
