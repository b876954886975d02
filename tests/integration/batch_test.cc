// Many sequences at once: a sequence's logits inside a batch (others at other positions,
// prefill chunks and decode tokens mixed) equal its logits computed alone; prefix-cache hits
// give the cold logits; the engine's generations, joining and leaving in random order and
// sharing prefixes, produce the tokens of independent greedy runs, with hit + miss = prompt
// tokens; a full pool, an overlong prompt and NaN weights are errors for their request.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <map>
#include <optional>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "io/gguf_file.h"
#include "kernels/cpu_features.h"
#include "kv/block_key.h"
#include "kv/sequence_cache.h"
#include "model/loaded_model.h"
#include "model/transformer.h"
#include "tools/model_generator.h"
#include "util/rng.h"

namespace frugal {
namespace {

std::string GeneratePath(const tools::GeneratorOptions& o, const std::string& tag) {
  const std::string path = ::testing::TempDir() + "/frugal_batch_" + std::to_string(::getpid()) + "_" + tag;
  ThreadPool pool(2);
  EXPECT_TRUE(tools::GenerateModel(o, path, pool).ok());
  return path;
}

std::unique_ptr<model::LoadedModel> Load(const std::string& path) {
  auto m = model::LoadModel(path);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

std::unique_ptr<model::LoadedModel> Generate(const tools::GeneratorOptions& o, const std::string& tag) {
  const std::string path = GeneratePath(o, tag);
  auto m = Load(path);
  std::remove(path.c_str());
  return m;
}

std::vector<int32_t> RandomIds(Rng& rng, int n, int vocab) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int32_t& id : ids) id = static_cast<int32_t>(rng.Next() % static_cast<uint64_t>(vocab));
  return ids;
}

float MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

// A sequence's plan: its ids in chunks of the given sizes (1 = a decode-style step).
struct Plan {
  std::vector<int32_t> ids;
  std::vector<int> chunks;
  int first_step;  // the step it joins at, in the batched run
};

// All-position logits of each plan; batched: every step holds the next chunk of every sequence
// that has joined and is unfinished; alone: each sequence by itself, same chunks.
std::vector<std::vector<float>> RunPlans(const model::LoadedModel& m, const std::vector<Plan>& plans, bool batched,
                                         bool exact) {
  const model::Transformer tf(m.config, m.weights);
  ThreadPool pool(2);
  const size_t v = static_cast<size_t>(m.config.vocab_size);
  std::vector<std::unique_ptr<kv::SequenceCache>> caches;
  for (const Plan& p : plans) {
    int total = 0;
    for (int c : p.chunks) total += c;
    EXPECT_EQ(total, static_cast<int>(p.ids.size()));
  }
  for (const Plan& p : plans) caches.push_back(std::move(kv::SequenceCache::Create(m.config, static_cast<int>(p.ids.size()), model::KvDtype::kF16, 8)).value());
  std::vector<std::vector<float>> out(plans.size());
  std::vector<size_t> next_chunk(plans.size(), 0), pos(plans.size(), 0);
  std::vector<float> logits;
  const auto members_at = [&](int step, size_t only) {
    std::vector<size_t> ks;
    for (size_t k = 0; k < plans.size(); ++k) {
      if (!batched && k != only) continue;
      if ((batched ? step >= plans[k].first_step : true) && next_chunk[k] < plans[k].chunks.size()) ks.push_back(k);
    }
    return ks;
  };
  for (size_t only = 0; only < (batched ? 1 : plans.size()); ++only) {
    for (int step = 0;; ++step) {
      const std::vector<size_t> ks = members_at(step, only);
      bool pending = false;
      for (size_t k = 0; k < plans.size(); ++k) pending |= (batched || k == only) && next_chunk[k] < plans[k].chunks.size();
      if (!pending) break;
      if (ks.empty()) continue;
      std::vector<model::SequenceChunk> chunks;
      for (size_t k : ks) {
        const size_t len = static_cast<size_t>(plans[k].chunks[next_chunk[k]]);
        chunks.push_back({std::span(plans[k].ids).subspan(pos[k], len), static_cast<int>(pos[k]), caches[k]->View(),
                          model::LogitsWanted::kAll, caches[k]->v4_tail()});
      }
      const Status s = tf.Forward(chunks, {.exact = exact}, pool, &logits);
      EXPECT_TRUE(s.ok()) << s.ToString();
      size_t row = 0;
      for (size_t i = 0; i < ks.size(); ++i) {
        const size_t k = ks[i], len = chunks[i].tokens.size();
        out[k].insert(out[k].end(), logits.begin() + static_cast<long>(row * v), logits.begin() + static_cast<long>((row + len) * v));
        row += len;
        pos[k] += len;
        ++next_chunk[k];
      }
    }
  }
  return out;
}

std::vector<Plan> MixedPlans(int vocab) {
  Rng rng(5);
  // Prefill chunks long enough for the naive path next to decode steps on the absorbed one,
  // sequences crossing block boundaries (8 positions a block) at different offsets.
  return {
      {RandomIds(rng, 45, vocab), {40, 1, 1, 1, 1, 1}, 0},
      {RandomIds(rng, 31, vocab), {3, 1, 1, 1, 1, 1, 12, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1},
      {RandomIds(rng, 20, vocab), {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10}, 2},
      {RandomIds(rng, 9, vocab), {9}, 4},
      // a prompt chunk of 20 next to decode tokens: the step's products hold 16+ tokens
      {RandomIds(rng, 23, vocab), {20, 1, 1, 1}, 6},
  };
}

class BatchedEqualsAlone : public ::testing::TestWithParam<tools::GeneratorOptions> {};

TEST_P(BatchedEqualsAlone, ExactPath) {
  auto m = Generate(GetParam(), "exact" + std::to_string(GetParam().q_lora_rank.value_or(-1)));
  const auto plans = MixedPlans(m->config.vocab_size);
  const auto alone = RunPlans(*m, plans, false, true);
  const auto batched = RunPlans(*m, plans, true, true);
  for (size_t k = 0; k < plans.size(); ++k) EXPECT_LT(MaxDiff(alone[k], batched[k]), 1e-5) << "sequence " << k;
}

INSTANTIATE_TEST_SUITE_P(Presets, BatchedEqualsAlone,
                         ::testing::Values(tools::GeneratorOptions{.preset = "tiny"},
                                           // V3.2: the indexer's choices (from 17 positions) inside a batch too
                                           tools::GeneratorOptions{.preset = "v32-tiny"},
                                           // V4: window, compressors and the indexer's top-8 (from 35 positions) in a batch
                                           tools::GeneratorOptions{.preset = "v4-tiny"},
                                           tools::GeneratorOptions{.preset = "tiny", .dtype = GgmlType::kQ8_0, .q_lora_rank = 0,
                                                                   .kv_b_layout = model::KvBLayout::kLegacy}));

// Without AMX, the fast path rounds a token's activations to 8 bits by the same rule whatever
// the number of tokens in a product (a decode token alone, 16 sequences' tokens, an expert's
// share of a prefill chunk), sums each block exactly in integers and adds the blocks in one
// order: a sequence's logits inside a batch equal its logits alone — bit for bit here (tiny's
// matrices are rows as stored: few-token kernels alone, int8 panels next to the 20-token chunk);
// held to 1e-5 (issue: 1e-3), where products that rounded by their token count (16 bits below 4
// tokens, as before) gave 0.016–0.054.
// Where AMX is usable, products of 8+ tokens take bf16 tiles instead: the check runs there under
// FRUGAL_ISA=avx512 (ctest's batch_invariance_avx512).
class BatchedFastPath : public ::testing::TestWithParam<GgmlType> {};

TEST_P(BatchedFastPath, EqualsAlone) {
  if (kernels::AmxUsable()) GTEST_SKIP() << "AMX tiles round 8+ tokens to bf16: run with FRUGAL_ISA=avx512";
  auto m = Generate({.preset = "tiny", .dtype = GetParam()}, "fast");
  const auto plans = MixedPlans(m->config.vocab_size);
  const auto alone = RunPlans(*m, plans, false, false);
  const auto batched = RunPlans(*m, plans, true, false);
  for (size_t k = 0; k < plans.size(); ++k) EXPECT_LT(MaxDiff(alone[k], batched[k]), 1e-5) << "sequence " << k;
}

INSTANTIATE_TEST_SUITE_P(Types, BatchedFastPath, ::testing::Values(GgmlType::kQ8_0, GgmlType::kQ4_K));

TEST(PrefixCacheTest, HitLogitsEqualColdLogits) {
  auto m = Generate({.preset = "tiny"}, "prefix");
  const model::Transformer tf(m->config, m->weights);
  ThreadPool pool(2);
  auto pool_kv = std::move(kv::BlockPool::Create(kv::ShapeFor(m->config, model::KvDtype::kF16, 8), 40 * kv::ShapeFor(m->config, model::KvDtype::kF16, 8).block_bytes())).value();
  Rng rng(9);
  const std::vector<int32_t> prompt = RandomIds(rng, 37, m->config.vocab_size);
  const auto run = [&](kv::SequenceKv& s) {
    std::vector<float> logits;
    const int have = s.length(), n = static_cast<int>(prompt.size()) - have;
    EXPECT_TRUE(s.Reserve(n).ok());
    const model::SequenceChunk c{std::span(prompt).subspan(static_cast<size_t>(have)), have, s.View(), model::LogitsWanted::kLast};
    EXPECT_TRUE(tf.Forward(std::span(&c, 1), {.exact = true}, pool, &logits).ok());
    s.Commit(c.tokens);
    return logits;
  };
  const uint64_t root = kv::RootKey({.model_fingerprint = engine::ModelFingerprint(*m), .dtype = model::KvDtype::kF16, .block_tokens = 8, .tenant = ""});
  kv::SequenceKv cold(*pool_kv, root);
  EXPECT_EQ(cold.Reuse(prompt).tokens, 0);
  const auto cold_logits = run(cold);
  kv::SequenceKv warm(*pool_kv, root);
  EXPECT_EQ(warm.Reuse(prompt).tokens, 32);  // four whole blocks; the last partial one is recomputed
  EXPECT_LT(MaxDiff(cold_logits, run(warm)), 1e-5);
}

// DeepSeek-V4: a sequence that let go of its positions leaves a snapshot of its window and
// compressor state at its last block boundary; a prompt sharing that prefix resumes there, and
// its logits equal a cold run's. Without a snapshot (no step ended on a boundary) nothing is reused.
TEST(PrefixCacheTest, V4ResumesFromASnapshotExactly) {
  auto m = Generate({.preset = "v4-tiny"}, "prefix_v4");
  const model::Transformer tf(m->config, m->weights);
  ThreadPool pool(2);
  const kv::BlockShape shape = kv::ShapeFor(m->config, model::KvDtype::kF32, 8);
  ASSERT_EQ(shape.block_tokens, 128);  // V4 blocks: a multiple of the largest ratio
  auto pool_kv = std::move(kv::BlockPool::Create(shape, 64 * shape.block_bytes())).value();
  Rng rng(19);
  const std::vector<int32_t> prompt = RandomIds(rng, 300, m->config.vocab_size);
  // Computes the prompt from what the sequence holds, in chunks ending at the given positions.
  const auto run = [&](kv::SequenceKv& s, std::vector<int> ends) {
    std::vector<float> logits;
    ends.push_back(static_cast<int>(prompt.size()));
    for (int end : ends) {
      const int have = s.length();
      if (end <= have) continue;
      EXPECT_TRUE(s.Reserve(end - have).ok());
      const model::SequenceChunk c{std::span(prompt).subspan(static_cast<size_t>(have), static_cast<size_t>(end - have)), have, s.View(),
                                   model::LogitsWanted::kLast, s.v4_tail()};
      const Status st = tf.Forward(std::span(&c, 1), {.exact = true}, pool, &logits);
      EXPECT_TRUE(st.ok()) << st.ToString();
      s.Commit(c.tokens);
    }
    return logits;
  };
  const uint64_t root = kv::RootKey({.model_fingerprint = engine::ModelFingerprint(*m), .dtype = model::KvDtype::kF32, .block_tokens = 128, .tenant = ""});
  std::vector<float> cold_logits;
  {
    kv::SequenceKv unaligned(*pool_kv, root);
    run(unaligned, {100});  // steps end at 100 and 300: no boundary state kept
  }
  {
    kv::SequenceKv probe(*pool_kv, root);
    EXPECT_EQ(probe.Reuse(prompt).tokens, 0) << "blocks without a snapshot of the state at their end";
  }
  {
    kv::SequenceKv cold(*pool_kv, root);
    EXPECT_EQ(cold.Reuse(prompt).tokens, 0);
    cold_logits = run(cold, {128, 256});
  }  // lets go: the state at 256 becomes a snapshot
  kv::SequenceKv warm(*pool_kv, root);
  EXPECT_EQ(warm.Reuse(prompt).tokens, 256);
  ASSERT_NE(warm.v4_tail(), nullptr);
  EXPECT_EQ(warm.v4_tail()->length(), 256);
  EXPECT_LT(MaxDiff(cold_logits, run(warm, {})), 1e-5);
  // A prompt that continues what the sequence holds keeps all of it.
  std::vector<int32_t> longer = prompt;
  longer.push_back(3);
  longer.push_back(5);
  EXPECT_EQ(warm.Reuse(longer).tokens, 300);
}

// Runs requests through one engine, submitting request i at step join[i]; returns each one's
// tokens and final usage.
struct Outcome {
  std::vector<int32_t> tokens;
  engine::Usage usage;
  engine::FinishReason finish = engine::FinishReason::kNone;
  Status error;
};
std::vector<Outcome> RunEngine(const model::LoadedModel& m, const std::vector<engine::GenerationRequest>& requests,
                               const std::vector<int>& join, const engine::EngineOptions& o, int64_t* preemptions = nullptr) {
  ThreadPool pool(2);
  auto e = std::move(engine::Engine::Create(m, nullptr, o, pool)).value();
  std::vector<Outcome> out(requests.size());
  std::map<int64_t, size_t> index;
  std::vector<engine::GenerationEvent> events;
  size_t submitted = 0;
  for (int step = 0; submitted < requests.size() || !e->idle(); ++step) {
    for (size_t i = 0; i < requests.size(); ++i) {
      if (join[i] != step) continue;
      auto id = e->Submit(requests[i]);
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      index[*id] = i;
      ++submitted;
    }
    events.clear();
    EXPECT_TRUE(e->Step(&events).ok());
    for (const auto& ev : events) {
      Outcome& r = out[index.at(ev.id)];
      if (ev.token >= 0 && ev.finish != engine::FinishReason::kStop) r.tokens.push_back(ev.token);
      if (ev.finish != engine::FinishReason::kNone) {
        r.usage = ev.usage;
        r.finish = ev.finish;
        r.error = ev.error;
      }
    }
    if (step > 10000) break;
  }
  if (preemptions != nullptr) *preemptions = e->preemptions();
  return out;
}

TEST(EngineTest, RandomScheduleGivesTheTokensOfIndependentGreedyRuns) {
  auto m = Generate({.preset = "tiny"}, "engine");
  Rng rng(17);
  const int vocab = m->config.vocab_size;
  const std::vector<int32_t> shared = RandomIds(rng, 24, vocab);
  std::vector<engine::GenerationRequest> requests;
  std::vector<int> join;
  for (int i = 0; i < 7; ++i) {
    engine::GenerationRequest r;
    if (i % 2 == 0) r.prompt = shared;  // a shared system prompt, then each its own question
    const auto own = RandomIds(rng, 1 + static_cast<int>(rng.Next() % 30), vocab);
    r.prompt.insert(r.prompt.end(), own.begin(), own.end());
    r.max_tokens = 3 + static_cast<int>(rng.Next() % 10);
    r.sampling.temperature = 0;
    requests.push_back(r);
    join.push_back(static_cast<int>(rng.Next() % 12));
  }
  const engine::EngineOptions o{.context = 96, .kv_budget = 0, .block_tokens = 8, .kv_dtype = model::KvDtype::kF16,
                                .step_tokens = 20, .exact = true};
  engine::EngineOptions big = o;
  big.kv_budget = 64 * kv::ShapeFor(m->config, o.kv_dtype, 8).block_bytes();
  const auto together = RunEngine(*m, requests, join, big);
  int hits = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto alone = RunEngine(*m, {requests[i]}, {0}, o);
    EXPECT_EQ(together[i].tokens, alone[0].tokens) << "request " << i;
    EXPECT_EQ(together[i].finish, engine::FinishReason::kLength);
    const engine::Usage& u = together[i].usage;
    EXPECT_EQ(u.cache_hit_tokens + u.cache_miss_tokens, u.prompt_tokens);
    EXPECT_EQ(u.prompt_tokens, static_cast<int>(requests[i].prompt.size()));
    EXPECT_EQ(u.completion_tokens, requests[i].max_tokens);
    EXPECT_EQ(u.cache_hit_tokens % 8, 0);
    hits += u.cache_hit_tokens;
  }
  EXPECT_GT(hits, 0);  // later requests with the shared prefix reused its blocks
}

// A warm-up computes in a pool of its own: the engine's pool, prefix cache and disk tier are
// untouched (a warm-up that published its blocks would leave them cached, and written to disk
// when the engine goes), and the engine then generates what a fresh one does.
TEST(EngineTest, WarmUpLeavesTheEngineAsItWas) {
  for (const std::string preset : {"tiny", "v4-tiny"}) {
    SCOPED_TRACE(preset);
    auto m = Generate({.preset = preset}, "warmup_" + preset);
    Rng rng(23);
    engine::GenerationRequest r;
    r.prompt = RandomIds(rng, 20, m->config.vocab_size);
    r.max_tokens = 5;
    r.sampling.temperature = 0;
    engine::EngineOptions o{.context = 300, .step_tokens = 200, .exact = true};
    const auto fresh = RunEngine(*m, {r}, {0}, o);
    ASSERT_EQ(fresh[0].tokens.size(), 5u);
    const std::string dir = ::testing::TempDir() + "/frugal_warmup_" + std::to_string(::getpid()) + "_" + preset;
    o.cache_dir = dir;  // V4: RAM only (a warning)
    ThreadPool pool(2);
    {
      auto e = std::move(engine::Engine::Create(*m, nullptr, o, pool)).value();
      const kv::PoolStats before = e->blocks().Stats();
      ASSERT_TRUE(e->WarmUp(1000).ok());  // 200 tokens: the step's
      const kv::PoolStats after = e->blocks().Stats();
      EXPECT_EQ(after.free, before.free);
      EXPECT_EQ(after.in_use, 0);
      EXPECT_EQ(after.cached_idle, 0);
      EXPECT_EQ(after.evictions, 0);
      ASSERT_TRUE(e->Submit(r).ok());
      std::vector<int32_t> tokens;
      std::vector<engine::GenerationEvent> events;
      while (!e->idle()) {
        events.clear();
        ASSERT_TRUE(e->Step(&events).ok());
        for (const auto& ev : events) {
          if (ev.token >= 0 && ev.finish != engine::FinishReason::kStop) tokens.push_back(ev.token);
        }
      }
      EXPECT_EQ(tokens, fresh[0].tokens);
    }  // writes what its pool holds: the request's 25 positions fill no 64-token block
    if (preset == "tiny") {
      auto reopened = std::move(engine::Engine::Create(*m, nullptr, o, pool)).value();
      ASSERT_NE(reopened->disk_cache(), nullptr);
      EXPECT_EQ(reopened->disk_cache()->Stats().entries, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

// A pool too small for all generations at once: the newest ones are preempted and recomputed,
// and every generation still gives the tokens it gives alone, in admission order of finishing.
TEST(EngineTest, AFullPoolPreemptsAndRecomputesWithoutChangingTheTokens) {
  auto m = Generate({.preset = "tiny"}, "preempt");
  Rng rng(29);
  std::vector<engine::GenerationRequest> requests;
  for (int i = 0; i < 5; ++i) {
    engine::GenerationRequest r;
    r.prompt = RandomIds(rng, 10 + 3 * i, m->config.vocab_size);
    r.max_tokens = 20;
    r.sampling.temperature = 0;
    requests.push_back(r);
  }
  engine::EngineOptions o{.context = 96, .kv_budget = 0, .block_tokens = 8, .kv_dtype = model::KvDtype::kF16,
                          .step_tokens = 64, .exact = true};
  engine::EngineOptions small = o;
  // 12 blocks: each generation needs 4 to 6 at its end, five of them 26.
  small.kv_budget = 12 * kv::ShapeFor(m->config, o.kv_dtype, 8).block_bytes();
  ThreadPool pool(2);
  auto e = std::move(engine::Engine::Create(*m, nullptr, small, pool)).value();
  std::map<int64_t, size_t> index;
  for (size_t i = 0; i < requests.size(); ++i) index[e->Submit(requests[i]).value()] = i;
  std::vector<std::vector<int32_t>> tokens(requests.size());
  std::vector<engine::GenerationEvent> events;
  for (int step = 0; !e->idle() && step < 2000; ++step) {
    events.clear();
    ASSERT_TRUE(e->Step(&events).ok());
    for (const auto& ev : events) {
      ASSERT_NE(ev.finish, engine::FinishReason::kError) << ev.error.ToString();
      if (ev.token >= 0) tokens[index.at(ev.id)].push_back(ev.token);
    }
  }
  ASSERT_TRUE(e->idle());
  EXPECT_GT(e->preemptions(), 0);
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto alone = RunEngine(*m, {requests[i]}, {0}, o);
    EXPECT_EQ(tokens[i], alone[0].tokens) << "request " << i;
  }
}

// DeepSeek-V4 under a full pool: preempted generations let go of their blocks (a snapshot where
// their state allows one) and are recomputed; the tokens are those of each request alone.
TEST(EngineTest, V4PreemptionKeepsTheTokens) {
  auto m = Generate({.preset = "v4-tiny"}, "preempt_v4");
  Rng rng(37);
  std::vector<engine::GenerationRequest> requests;
  for (int i = 0; i < 3; ++i) {
    engine::GenerationRequest r;
    r.prompt = RandomIds(rng, 150 + 40 * i, m->config.vocab_size);
    r.max_tokens = 90;
    r.sampling.temperature = 0;
    requests.push_back(r);
  }
  engine::EngineOptions o{.context = 400, .kv_budget = 0, .block_tokens = 128, .kv_dtype = model::KvDtype::kF16,
                          .step_tokens = 64, .exact = true};
  engine::EngineOptions small = o;
  small.kv_budget = 5 * kv::ShapeFor(m->config, o.kv_dtype, 128).block_bytes();  // each needs 2 or 3 at its end
  int64_t preemptions = 0;
  const auto together = RunEngine(*m, requests, {0, 0, 0}, small, &preemptions);
  EXPECT_GT(preemptions, 0);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(together[i].finish, engine::FinishReason::kLength) << together[i].error.ToString();
    const auto alone = RunEngine(*m, {requests[i]}, {0}, o);
    EXPECT_EQ(together[i].tokens, alone[0].tokens) << "request " << i;
  }
}

// Steps until generation `b` finishes, expecting a token of `a` (decoding) in every step;
// returns the number of steps, or max_steps + 1 when b has not finished by then.
int StepsUntilDoneNextToDecoding(engine::Engine& e, int64_t a, int64_t b, int max_steps) {
  std::vector<engine::GenerationEvent> events;
  int steps = 0;
  for (bool b_done = false; !b_done; ++steps) {
    if (steps > max_steps) return steps;
    events.clear();
    EXPECT_TRUE(e.Step(&events).ok());
    bool a_token = false;
    for (const auto& ev : events) {
      a_token |= ev.id == a && ev.token >= 0;
      b_done |= ev.id == b && ev.finish != engine::FinishReason::kNone;
    }
    EXPECT_TRUE(a_token) << "step " << steps;
  }
  return steps;
}

// While generations decode, a long prompt enters at most prefill_tokens_while_decoding tokens a
// step, so the running ones get a token every step.
TEST(EngineTest, PrefillIsChunkedBetweenDecodeTokens) {
  auto m = Generate({.preset = "tiny"}, "chunked");
  Rng rng(31);
  ThreadPool pool(2);
  engine::EngineOptions o{.context = 256, .kv_budget = 0, .block_tokens = 8, .kv_dtype = model::KvDtype::kF16,
                          .step_tokens = 256, .prefill_tokens_while_decoding = 16, .exact = true};
  o.kv_budget = 64 * kv::ShapeFor(m->config, o.kv_dtype, 8).block_bytes();
  auto e = std::move(engine::Engine::Create(*m, nullptr, o, pool)).value();
  engine::GenerationRequest running;
  running.prompt = RandomIds(rng, 5, m->config.vocab_size);
  running.max_tokens = 40;
  running.sampling.temperature = 0;
  const int64_t a = e->Submit(running).value();
  std::vector<engine::GenerationEvent> events;
  ASSERT_TRUE(e->Step(&events).ok());  // a's prompt; a decodes from now on
  engine::GenerationRequest long_prompt = running;
  long_prompt.prompt = RandomIds(rng, 160, m->config.vocab_size);
  long_prompt.max_tokens = 1;
  const int64_t b = e->Submit(long_prompt).value();
  EXPECT_EQ(StepsUntilDoneNextToDecoding(*e, a, b, 1000), 160 / 16);
}

// Paced prefill (chunks sized from step times): the running generation still gets a token
// every step, and the prompt still moves at least 4 tokens a step, whatever the timings.
TEST(EngineTest, PacedPrefillKeepsDecodingAndProgressing) {
  auto m = Generate({.preset = "tiny"}, "paced");
  Rng rng(37);
  ThreadPool pool(2);
  engine::EngineOptions o{.context = 256, .kv_budget = 0, .block_tokens = 8, .kv_dtype = model::KvDtype::kF16,
                          .step_tokens = 256, .prefill_tokens_while_decoding = 64, .max_step_slowdown = 1.5,
                          .paced_step_floor_s = 0, .exact = true};
  o.kv_budget = 64 * kv::ShapeFor(m->config, o.kv_dtype, 8).block_bytes();
  auto e = std::move(engine::Engine::Create(*m, nullptr, o, pool)).value();
  engine::GenerationRequest running;
  running.prompt = RandomIds(rng, 5, m->config.vocab_size);
  running.max_tokens = 100;
  running.sampling.temperature = 0;
  const int64_t a = e->Submit(running).value();
  std::vector<engine::GenerationEvent> events;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(e->Step(&events).ok());  // a decodes: the reference step time
  engine::GenerationRequest long_prompt = running;
  long_prompt.prompt = RandomIds(rng, 160, m->config.vocab_size);
  long_prompt.max_tokens = 1;
  const int64_t b = e->Submit(long_prompt).value();
  const int steps = StepsUntilDoneNextToDecoding(*e, a, b, 160 / 4);
  EXPECT_LE(steps, 160 / 4) << "the prompt must move at least 4 tokens a step";
  EXPECT_GE(steps, 160 / 64);  // never more than the cap a step
}

TEST(EngineTest, AConversationComputesOnlyItsNewTurn) {
  auto m = Generate({.preset = "tiny"}, "chat");
  ThreadPool pool(2);
  auto e = std::move(engine::Engine::Create(*m, nullptr, {.context = 200, .block_tokens = 8, .exact = true}, pool)).value();
  Rng rng(3);
  auto conversation = e->NewSequence("");
  std::vector<int32_t> prompt = RandomIds(rng, 21, m->config.vocab_size);
  for (int turn = 0; turn < 3; ++turn) {
    engine::GenerationRequest r;
    r.prompt = prompt;
    r.max_tokens = 5;
    r.sampling.temperature = 0;
    r.sequence = conversation;
    const size_t held = static_cast<size_t>(conversation->length());
    ASSERT_TRUE(e->Submit(r).ok());
    EXPECT_FALSE(e->Submit(r).ok());  // one generation at a time on a sequence
    std::vector<int32_t> reply;
    engine::Usage usage;
    std::vector<engine::GenerationEvent> events;
    while (!e->idle()) {
      events.clear();
      ASSERT_TRUE(e->Step(&events).ok());
      for (const auto& ev : events) {
        if (ev.token >= 0) reply.push_back(ev.token);
        if (ev.finish != engine::FinishReason::kNone) usage = ev.usage;
      }
    }
    // Everything held before the turn was reused: the new turn's tokens are the misses.
    EXPECT_EQ(usage.cache_hit_tokens, static_cast<int>(held));
    EXPECT_EQ(usage.cache_miss_tokens, static_cast<int>(prompt.size() - held));
    if (turn > 0) {
      EXPECT_EQ(usage.cache_miss_tokens, 1 + 6);  // the last reply token, never fed, and the new turn
    }
    prompt.insert(prompt.end(), reply.begin(), reply.end());
    const auto next = RandomIds(rng, 6, m->config.vocab_size);
    prompt.insert(prompt.end(), next.begin(), next.end());
  }
}

TEST(EngineTest, ErrorsAreTheRequestsOwn) {
  auto m = Generate({.preset = "tiny"}, "errors");
  ThreadPool pool(2);
  const uint64_t block = kv::ShapeFor(m->config, model::KvDtype::kF16, 8).block_bytes();
  auto e = std::move(engine::Engine::Create(*m, nullptr, {.context = 64, .kv_budget = 2 * block, .block_tokens = 8}, pool)).value();
  engine::GenerationRequest r;
  r.prompt.assign(65, 1);
  const auto too_long = e->Submit(r);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("65"), std::string::npos);
  EXPECT_NE(too_long.status().message().find("64"), std::string::npos);
  r.prompt.assign(30, 1);  // needs 4 blocks of the 2 the budget holds
  ASSERT_TRUE(e->Submit(r).ok());
  std::vector<engine::GenerationEvent> events;
  ASSERT_TRUE(e->Step(&events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].finish, engine::FinishReason::kError);
  EXPECT_EQ(events[0].error.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(e->idle());
  r.prompt.assign(10, 1);  // fits: the engine goes on
  r.max_tokens = 2;
  ASSERT_TRUE(e->Submit(r).ok());
  while (!e->idle()) ASSERT_TRUE(e->Step(&events).ok());
  EXPECT_EQ(events.back().finish, engine::FinishReason::kLength);
}

// A file whose norm or router weights hold NaN: every forward step is a clear error.
TEST(EngineTest, NanWeightsAreAnErrorNotUndefinedBehaviour) {
  for (const char* tensor : {"blk.0.attn_norm.weight", "blk.1.ffn_gate_inp.weight", "output_norm.weight"}) {
    const std::string path = GeneratePath({.preset = "tiny"}, std::string("nan_") + tensor);
    uint64_t offset = 0;
    {
      auto m = Load(path);
      for (const auto& t : m->file.tensors()) {
        if (t.name == tensor) offset = t.file_offset;
      }
    }
    ASSERT_GT(offset, 0u) << tensor;
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      const float nan = std::nanf("");
      f.seekp(static_cast<std::streamoff>(offset));
      for (int i = 0; i < 4; ++i) f.write(reinterpret_cast<const char*>(&nan), sizeof nan);
    }
    auto m = Load(path);
    std::remove(path.c_str());
    ThreadPool pool(2);
    auto e = std::move(engine::Engine::Create(*m, nullptr, {.context = 64}, pool)).value();
    engine::GenerationRequest r;
    r.prompt = {1, 2, 3, 4, 5, 6};
    ASSERT_TRUE(e->Submit(r).ok());
    std::vector<engine::GenerationEvent> events;
    ASSERT_TRUE(e->Step(&events).ok());
    ASSERT_EQ(events.size(), 1u) << tensor;
    EXPECT_EQ(events[0].finish, engine::FinishReason::kError) << tensor;
    EXPECT_EQ(events[0].error.code(), StatusCode::kDataLoss) << tensor;
    EXPECT_NE(events[0].error.message().find("non-finite"), std::string::npos) << events[0].error.ToString();
  }
}

}  // namespace
}  // namespace frugal

namespace frugal {
namespace {

// Finished events of the generations an engine runs to their end, by id; and the seconds the
// Step calls took.
std::map<int64_t, engine::GenerationEvent> RunToEnd(engine::Engine& e, double* step_seconds) {
  std::map<int64_t, engine::GenerationEvent> done;
  std::vector<engine::GenerationEvent> events;
  *step_seconds = 0;
  while (!e.idle()) {
    events.clear();
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(e.Step(&events).ok());
    *step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& ev : events) {
      if (ev.finish != engine::FinishReason::kNone) done[ev.id] = ev;
    }
  }
  return done;
}

// The ledger's counters for a schedule worked out by hand: A (20 prompt tokens, 5 to generate)
// and B (12, 3) prefill together in step 1 (32 tokens), decode together in steps 2-3 (B ends
// with its third token), A decodes alone in steps 4-5.
TEST(EngineWorkTest, CountersOfAScheduleWorkedOutByHand) {
  auto m = Generate({.preset = "tiny"}, "work");
  ThreadPool pool(2);
  auto e = std::move(engine::Engine::Create(*m, nullptr, {.context = 64, .block_tokens = 8, .step_tokens = 64, .exact = true}, pool)).value();
  const engine::ModelCosts& c = e->costs();
  const double kv = c.kv_bytes_per_token, w = c.weight_bytes_per_step, emb = c.embedding_row_bytes;
  EXPECT_DOUBLE_EQ(kv, static_cast<double>(kv::ShapeFor(m->config, model::KvDtype::kF16, 8).bytes_per_token()));
  // A full multi-head cache: layers × heads × (nope + rope + v) values × 2 bytes.
  const model::ModelConfig& mc = m->config;
  ASSERT_GT(mc.n_moe_layers(), 0);
  EXPECT_DOUBLE_EQ(c.mha_bytes_per_token,
                   2.0 * mc.n_layers * mc.mla.n_heads * (mc.mla.qk_nope_head_dim + mc.mla.qk_rope_head_dim + mc.mla.v_head_dim));
  EXPECT_DOUBLE_EQ(c.expert_resident_bytes, c.expert_all_bytes);  // no store: all in the mapping
  Rng rng(5);
  const auto request = [&](int prompt, int max_tokens) {
    engine::GenerationRequest r;
    r.prompt = RandomIds(rng, prompt, mc.vocab_size);
    r.max_tokens = max_tokens;
    r.sampling.temperature = 0;
    return r;
  };
  const int64_t a = e->Submit(request(20, 5)).value(), b = e->Submit(request(12, 3)).value();
  double seconds = 0;
  auto done = RunToEnd(*e, &seconds);
  ASSERT_EQ(done.size(), 2u);
  const engine::GenerationWork& wa = done[a].work;
  const engine::GenerationWork& wb = done[b].work;
  // Attention reads each chunk's prefix and itself: A 20 + 21 + 22 + 23 + 24, B 12 + 13 + 14.
  EXPECT_DOUBLE_EQ(wa.kv_bytes_read, 110 * kv);
  EXPECT_DOUBLE_EQ(wb.kv_bytes_read, 39 * kv);
  // The most each held: A 24 tokens (its fifth token is never fed), B 14.
  EXPECT_DOUBLE_EQ(wa.kv_peak_bytes, 24 * kv);
  EXPECT_DOUBLE_EQ(wb.kv_peak_bytes, 14 * kv);
  // Weights once a step, split by tokens: A 20/32 + 1/2 + 1/2 + 1 + 1, B 12/32 + 1/2 + 1/2;
  // plus an embedding row per token fed (A 24, B 14).
  EXPECT_NEAR(wa.weight_bytes_read, (20.0 / 32 + 3) * w + 24 * emb, 1e-6 * w);
  EXPECT_NEAR(wb.weight_bytes_read, (12.0 / 32 + 1) * w + 14 * emb, 1e-6 * w);
  // Compute time: the shares add up to no more than the steps took; B's decode ended at step 3.
  EXPECT_GT(wa.prefill_s, 0);
  EXPECT_GT(wb.decode_s, 0);
  EXPECT_LE(wa.prefill_s + wa.decode_s + wb.prefill_s + wb.decode_s, seconds);
  EXPECT_GT(wa.decode_s, wb.decode_s);
  EXPECT_EQ(wa.recomputed_tokens, 0);
  // KV held × time: between the least and the most A held, over the time its steps took.
  EXPECT_GE(wa.kv_byte_seconds, 20 * kv * (wa.prefill_s + wa.decode_s));
  EXPECT_LE(wa.kv_byte_seconds, 24 * kv * seconds);
  EXPECT_DOUBLE_EQ(wa.kv_disk_bytes_read, 0);

  // Experts from the mapping: a decode token alone reads top-k experts in every MoE layer; a
  // prefill of 20 tokens between top-k and min(all, 20 · top-k).
  const double per_token = static_cast<double>(mc.n_moe_layers()) * mc.moe.n_experts_used * c.bytes_per_expert;
  const int64_t alone = e->Submit(request(20, 5)).value();
  done = RunToEnd(*e, &seconds);
  const double decode_bytes = 4 * per_token;
  const double prefill_bytes = done[alone].work.expert_bytes_ram - decode_bytes;
  EXPECT_GE(prefill_bytes, per_token - 1);
  EXPECT_LE(prefill_bytes, mc.n_moe_layers() * std::min(mc.moe.n_experts, 20 * mc.moe.n_experts_used) * c.bytes_per_expert + 1);
  EXPECT_DOUBLE_EQ(done[alone].work.expert_bytes_disk, 0);

  // A cancelled generation reports what it used so far; an unknown id nothing.
  const int64_t cancelled = e->Submit(request(30, 9)).value();
  std::vector<engine::GenerationEvent> events;
  ASSERT_TRUE(e->Step(&events).ok());
  const std::optional<engine::GenerationEvent> last = e->Cancel(cancelled);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->finish, engine::FinishReason::kCancelled);
  EXPECT_EQ(last->usage.prompt_tokens, 30);
  EXPECT_DOUBLE_EQ(last->work.kv_bytes_read, 30 * kv);
  EXPECT_GT(last->work.prefill_s, 0);
  EXPECT_FALSE(e->Cancel(cancelled).has_value());
  EXPECT_TRUE(e->idle());
}

}  // namespace
}  // namespace frugal
