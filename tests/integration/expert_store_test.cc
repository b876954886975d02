// The expert store under the forward pass: routed experts taken from a small RAM tier (most of
// them read from the file with direct I/O, in waves when a step needs more than fit) give the
// logits of the all-resident model bit for bit, with and without prefetch, on the exact and
// fast paths; a failed read fails that step with an error naming the expert and the file and
// the store then serves the next one; the engine turns it into an error for the generations of
// that step only; the store's hits equal a replay of its own routing trace.
#include <unistd.h>

#include <cstdio>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "experts/expert_store.h"
#include "experts/model_experts.h"
#include "experts/routing_trace.h"
#include "experts/trace_replay.h"
#include "kv/sequence_cache.h"
#include "model/loaded_model.h"
#include "model/transformer.h"
#include "tools/model_generator.h"
#include "util/rng.h"

namespace frugal {
namespace {

struct ModelFile {
  std::string path;
  std::unique_ptr<model::LoadedModel> model;
  ~ModelFile() { std::remove(path.c_str()); }
};

std::unique_ptr<ModelFile> MakeModel(const tools::GeneratorOptions& o, const std::string& tag) {
  auto f = std::make_unique<ModelFile>();
  f->path = ::testing::TempDir() + "/frugal_experts_" + std::to_string(::getpid()) + "_" + tag;
  ThreadPool pool(2);
  EXPECT_TRUE(tools::GenerateModel(o, f->path, pool).ok());
  auto m = model::LoadModel(f->path, {.routed_experts_resident = false});  // the store reads them
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  f->model = std::move(m).value();
  return f;
}

std::unique_ptr<experts::ExpertStore> NewStore(const ModelFile& f, int slots, io::FaultOptions faults = {}) {
  auto layout = experts::ExpertLayoutOf(f.model->file, f.model->config);
  EXPECT_TRUE(layout.ok());
  auto file = io::OpenDirectFile(f.path);
  EXPECT_TRUE(file.ok());
  experts::ExpertStoreOptions o;
  o.budget_bytes = static_cast<uint64_t>(slots) * layout->MaxExpertBytes();
  o.io_threads = 3;
  auto store = experts::ExpertStore::Create(*layout, io::NewFaultInjectingFile(std::move(*file), faults), o);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(store).value();
}

// Three sequences in steps: prefill chunks (every expert of a layer needed: waves) next to
// decode tokens. Returns every position's logits, per sequence, concatenated; or the first error.
StatusOr<std::vector<std::vector<float>>> RunSteps(const model::LoadedModel& m, const model::Transformer& tf, bool exact) {
  Rng rng(11);
  const int v = m.config.vocab_size;
  std::vector<std::vector<int32_t>> ids(3);
  for (auto& s : ids) {
    for (int i = 0; i < 24; ++i) s.push_back(static_cast<int32_t>(rng.Next() % static_cast<uint64_t>(v)));
  }
  const std::vector<std::vector<int>> chunks = {{20, 1, 1, 1, 1}, {1, 1, 1, 1, 16, 1, 1, 1, 1}, {3, 1, 1, 1, 1, 17}};
  std::vector<std::unique_ptr<kv::SequenceCache>> caches;
  for (size_t k = 0; k < 3; ++k) caches.push_back(std::move(kv::SequenceCache::Create(m.config, 24, model::KvDtype::kF16, 8)).value());
  std::vector<std::vector<float>> out(3);
  std::vector<size_t> next(3, 0), pos(3, 0);
  ThreadPool pool(2);
  std::vector<float> logits;
  for (;;) {
    std::vector<model::SequenceChunk> step;
    std::vector<size_t> ks;
    for (size_t k = 0; k < 3; ++k) {
      if (next[k] >= chunks[k].size()) continue;
      const auto len = static_cast<size_t>(chunks[k][next[k]]);
      step.push_back({std::span(ids[k]).subspan(pos[k], len), static_cast<int>(pos[k]), caches[k]->View(), model::LogitsWanted::kAll});
      ks.push_back(k);
    }
    if (step.empty()) break;
    FRUGAL_RETURN_IF_ERROR(tf.Forward(step, {.exact = exact}, pool, &logits));
    size_t row = 0;
    for (size_t i = 0; i < ks.size(); ++i) {
      const size_t k = ks[i], len = step[i].tokens.size();
      out[k].insert(out[k].end(), logits.begin() + static_cast<long>(row * v), logits.begin() + static_cast<long>((row + len) * v));
      row += len;
      pos[k] += len;
      ++next[k];
    }
  }
  return out;
}

class StoreEqualsResident : public ::testing::TestWithParam<bool> {};  // param: exact path

TEST_P(StoreEqualsResident, BitForBitWithAndWithoutPrefetch) {
  const bool exact = GetParam();
  auto f = MakeModel({.preset = "tiny", .dtype = exact ? std::nullopt : std::optional(GgmlType::kQ8_0), .skew = true}, exact ? "x" : "q");
  const model::LoadedModel& m = *f->model;
  const model::Transformer resident(m.config, m.weights);
  auto want = RunSteps(m, resident, exact);
  ASSERT_TRUE(want.ok());
  for (bool prefetch : {false, true}) {
    auto store = NewStore(*f, 4);  // 4 of 16 experts; a prefill chunk needs all 8 of a layer: two waves
    store->set_prefetch(prefetch);
    const model::Transformer tf(m.config, m.weights, {.store = store.get()});
    auto got = RunSteps(m, tf, exact);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (size_t k = 0; k < 3; ++k) EXPECT_EQ((*got)[k], (*want)[k]) << "sequence " << k << " prefetch " << prefetch;
    const experts::ExpertStoreStats st = store->Stats();
    EXPECT_GT(st.expert_bytes_read, 0u);
    EXPECT_LT(st.Hits(), st.Accesses());  // experts were evicted and read again
    EXPECT_EQ(st.failed_reads, 0u);
    if (prefetch) {
      EXPECT_GT(st.predicted, 0u);
      EXPECT_GT(st.PrefetchAccuracy(), 0.2);  // the next layer's router on this layer's input is a real predictor
    } else {
      EXPECT_EQ(st.prefetch_reads, 0u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, StoreEqualsResident, ::testing::Values(true, false));

TEST(ExpertStoreForward, AFailedReadFailsTheStepNamingTheExpertThenTheStoreServesAgain) {
  auto f = MakeModel({.preset = "tiny", .skew = true}, "fault");
  const model::LoadedModel& m = *f->model;
  const model::Transformer resident(m.config, m.weights);
  auto want = RunSteps(m, resident, true);
  ASSERT_TRUE(want.ok());
  auto store = NewStore(*f, 4, {.fail_reads_after = 5, .fail_reads_count = 3});
  store->set_prefetch(false);
  const model::Transformer tf(m.config, m.weights, {.store = store.get()});
  auto failed = RunSteps(m, tf, true);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kIoError);
  EXPECT_NE(failed.status().message().find("expert (layer "), std::string::npos) << failed.status().ToString();
  EXPECT_NE(failed.status().message().find(f->path), std::string::npos) << failed.status().ToString();
  auto again = RunSteps(m, tf, true);  // fresh caches; the faults are over
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ((*again)[k], (*want)[k]) << "sequence " << k;
  EXPECT_GE(store->Stats().failed_reads, 1u);
}

TEST(ExpertStoreForward, TheEngineFailsThatGenerationAndServesTheNext) {
  auto f = MakeModel({.preset = "tiny", .skew = true}, "engine");
  model::LoadedModel& m = *f->model;
  ThreadPool pool(2);
  auto run = [&](std::vector<int32_t> prompt) -> std::pair<engine::FinishReason, std::vector<int32_t>> {
    auto e = engine::Engine::Create(m, nullptr, {.context = 64}, pool);
    EXPECT_TRUE(e.ok());
    engine::GenerationRequest r;
    r.prompt = std::move(prompt);
    r.max_tokens = 8;
    r.sampling.temperature = 0;
    EXPECT_TRUE((*e)->Submit(std::move(r)).ok());
    std::vector<int32_t> tokens;
    std::vector<engine::GenerationEvent> events;
    while (!(*e)->idle()) {
      events.clear();
      EXPECT_TRUE((*e)->Step(&events).ok());
      for (const auto& ev : events) {
        if (ev.token >= 0) tokens.push_back(ev.token);
        if (ev.finish != engine::FinishReason::kNone) return {ev.finish, tokens};
      }
    }
    return {engine::FinishReason::kNone, tokens};
  };
  const std::vector<int32_t> prompt = {5, 9, 13, 2, 7, 11, 3};
  const auto want = run(prompt);
  ASSERT_EQ(want.first, engine::FinishReason::kLength);
  auto store = NewStore(*f, 4, {.fail_reads_after = 0, .fail_reads_count = 4});
  store->set_prefetch(false);
  m.expert_store = std::move(store);
  EXPECT_EQ(run(prompt).first, engine::FinishReason::kError);
  const auto after = run(prompt);
  EXPECT_EQ(after.first, engine::FinishReason::kLength);
  EXPECT_EQ(after.second, want.second);
  m.expert_store.reset();
}

TEST(ExpertStoreForward, TheStoreWithoutPrefetchHitsWhatAReplayOfItsTracePredicts) {
  auto f = MakeModel({.preset = "tiny", .skew = true}, "replay");
  model::LoadedModel& m = *f->model;
  const std::string trace_path = f->path + ".trace";
  experts::TraceShape shape{m.config.n_layers, m.config.moe.n_experts, m.config.moe.n_experts_used, {}};
  auto layout = experts::ExpertLayoutOf(m.file, m.config);
  for (const auto& le : layout->layers) shape.expert_bytes.push_back(le.n_experts > 0 ? le.ExpertBytes() : 0);
  auto writer = experts::RoutingTraceWriter::Open(trace_path, shape);
  ASSERT_TRUE(writer.ok());
  auto store = NewStore(*f, 5);
  store->set_prefetch(false);
  const model::Transformer tf(m.config, m.weights, {.store = store.get(), .recorder = writer->get()});
  ASSERT_TRUE(RunSteps(m, tf, true).ok());
  ASSERT_TRUE((*writer)->Close().ok());
  auto trace = experts::ReadRoutingTrace(trace_path);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  auto replay = experts::ReplayTrace(*trace, 5, experts::ReplayPolicy::kLru);
  ASSERT_TRUE(replay.ok());
  const auto st = store->Stats();
  EXPECT_EQ(replay->accesses, st.Accesses());
  EXPECT_EQ(replay->hits, st.Hits());
  EXPECT_EQ(replay->bytes_read, st.expert_bytes_read);
  EXPECT_GE(experts::ReplayTrace(*trace, 5, experts::ReplayPolicy::kBelady)->hits, replay->hits);
  std::remove(trace_path.c_str());
}

}  // namespace
}  // namespace frugal
