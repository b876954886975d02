// `frugal bench batched`: many sequences decoding together, with llama-batched-bench's
// definitions and columns (PP, TG, B, N_KV, T_PP, S_PP, T_TG, S_TG, T, S; -pps: one prompt
// computed once and shared by all sequences), so the numbers compare side by side.
#include <chrono>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/bench_common.h"
#include "app/commands.h"
#include "app/expert_flags.h"
#include "engine/engine.h"
#include "kv/sequence_cache.h"
#include "model/loaded_model.h"
#include "model/transformer.h"
#include "util/rng.h"

namespace frugal::app {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

StatusOr<std::vector<int>> ParseList(const std::string& text, const char* flag) {
  std::vector<int> v;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      const int x = std::stoi(item, &used);
      if (used != item.size() || x < 1 || x > 4096) throw std::invalid_argument(item);
      v.push_back(x);
    } catch (const std::exception&) {
      return InvalidArgument("{}: '{}' is not a count in 1..4096", flag, item);
    }
  }
  if (v.empty()) return InvalidArgument("{} is empty", flag);
  return v;
}

struct BatchedFlags {
  std::string model, npp = "128", ntg = "128", npl = "1,2,4,8,16", kv_type = "f16";
  int threads = DefaultThreadCount(), batch = 2048, ubatch = 512, block = kv::kDefaultBlockTokens;
  bool pps = false, json = false, exact = false;
  ExpertFlags experts;
};

struct BatchedResult {
  int pp, tg, pl, n_kv;
  double t_pp, t_tg;
};

// One configuration: B sequences each with a PP-token prompt (or one shared prompt with -pps),
// then TG decode steps of one token per sequence.
StatusOr<BatchedResult> RunBatched(const model::LoadedModel& m, const BatchedFlags& f, model::KvDtype kv_type, int pp, int tg,
                                   int pl, ThreadPool& pool, uint64_t seed) {
  const model::Transformer tf(m);
  const kv::BlockShape shape = kv::ShapeFor(m.config, kv_type, f.block);
  const uint64_t blocks_per_seq = static_cast<uint64_t>((pp + tg + f.block - 1) / f.block + 1);
  FRUGAL_ASSIGN_OR_RETURN(auto blocks, kv::BlockPool::Create(shape, blocks_per_seq * static_cast<uint64_t>(pl) * shape.block_bytes()));
  std::vector<std::unique_ptr<kv::SequenceKv>> seqs;
  for (int i = 0; i < pl; ++i) seqs.push_back(std::make_unique<kv::SequenceKv>(*blocks, 1));
  Rng rng(seed);
  const int vocab = m.config.vocab_size;
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < (f.pps ? 1 : pl); ++i) prompts.push_back(RandomIds(rng, pp, vocab));
  const model::ForwardOptions o{.exact = f.exact};
  std::vector<float> logits;
  // Prefill: steps of up to -b tokens, at most -ub of them from one sequence.
  const auto t0 = Clock::now();
  const int prefilled = f.pps ? 1 : pl;
  for (int done = 0; done < prefilled;) {
    std::vector<model::SequenceChunk> step;
    std::vector<int> members;
    int budget = f.batch;
    for (int i = done; i < prefilled && budget > 0; ++i) {
      kv::SequenceKv& s = *seqs[static_cast<size_t>(i)];
      const int n = std::min({f.ubatch, budget, pp - s.length()});
      if (n <= 0) continue;
      FRUGAL_RETURN_IF_ERROR(s.Reserve(n));
      step.push_back({std::span(prompts[static_cast<size_t>(i)]).subspan(static_cast<size_t>(s.length()), static_cast<size_t>(n)),
                      s.length(), s.View(), model::LogitsWanted::kLast, s.v4_tail()});
      members.push_back(i);
      budget -= n;
    }
    FRUGAL_RETURN_IF_ERROR(tf.Forward(step, o, pool, &logits));
    for (size_t k = 0; k < step.size(); ++k) seqs[static_cast<size_t>(members[k])]->Commit(step[k].tokens);
    while (done < prefilled && seqs[static_cast<size_t>(done)]->length() == pp) ++done;
  }
  if (f.pps) {
    for (int i = 1; i < pl; ++i) FRUGAL_RETURN_IF_ERROR(seqs[static_cast<size_t>(i)]->CopyFrom(*seqs[0]));
  }
  const double t_pp = Since(t0);
  // Decode: TG steps, one token of every sequence each.
  const auto t1 = Clock::now();
  std::vector<int32_t> next = RandomIds(rng, pl, vocab);
  for (int t = 0; t < tg; ++t) {
    std::vector<model::SequenceChunk> step;
    for (int i = 0; i < pl; ++i) {
      kv::SequenceKv& s = *seqs[static_cast<size_t>(i)];
      FRUGAL_RETURN_IF_ERROR(s.Reserve(1));
      step.push_back({std::span(&next[static_cast<size_t>(i)], 1), s.length(), s.View(), model::LogitsWanted::kLast, s.v4_tail()});
    }
    FRUGAL_RETURN_IF_ERROR(tf.Forward(step, o, pool, &logits));
    for (int i = 0; i < pl; ++i) {
      seqs[static_cast<size_t>(i)]->Commit(std::span(&next[static_cast<size_t>(i)], 1));
      next[static_cast<size_t>(i)] = static_cast<int32_t>(rng.Next() % static_cast<uint64_t>(vocab));
    }
  }
  const double t_tg = Since(t1);
  const int n_kv = f.pps ? pp + pl * tg : pl * (pp + tg);
  return BatchedResult{pp, tg, pl, n_kv, t_pp, t_tg};
}

Status RunBatchedBench(const BatchedFlags& f) {
  FRUGAL_ASSIGN_OR_RETURN(std::vector<int> npp, ParseList(f.npp, "-npp"));
  FRUGAL_ASSIGN_OR_RETURN(std::vector<int> ntg, ParseList(f.ntg, "-ntg"));
  FRUGAL_ASSIGN_OR_RETURN(std::vector<int> npl, ParseList(f.npl, "-npl"));
  FRUGAL_ASSIGN_OR_RETURN(model::KvDtype kv_type, model::KvDtypeFromName(f.kv_type));
  if (f.threads < 1 || f.batch < 1 || f.ubatch < 1 || f.block < 1) return InvalidArgument("-t, -b, -ub and --kv-block must be positive");
  FRUGAL_ASSIGN_OR_RETURN(auto m, model::LoadModel(f.model, LoadOptionsFor(f.experts)));
  FRUGAL_ASSIGN_OR_RETURN(ExpertSetup experts, SetUpExperts(m.get(), f.experts));
  ThreadPool pool(f.threads);
  // Warm-up, as llama-batched-bench does (page faults, caches).
  FRUGAL_RETURN_IF_ERROR(RunBatched(*m, f, kv_type, 16, 4, 1, pool, 1).status());
  if (!f.json) {
    const kv::BlockShape shape = kv::ShapeFor(m->config, kv_type, f.block);
    std::printf("frugal bench batched: model %s, %d threads, kv %s: %zu bytes per token (layers x (kv_lora + rope) x %zu), "
                "blocks of %d tokens (%zu bytes)%s\n\n",
                f.model.c_str(), f.threads, f.kv_type.c_str(), shape.bytes_per_token(), model::KvValueBytes(kv_type), f.block,
                shape.block_bytes(), f.pps ? ", prompt shared (-pps)" : "");
    std::printf("|    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s |    S t/s |\n");
    std::printf("|-------|--------|------|--------|----------|----------|----------|----------|----------|----------|\n");
  }
  uint64_t seed = 100;
  for (int pp : npp) {
    for (int tg : ntg) {
      for (int pl : npl) {
        FRUGAL_ASSIGN_OR_RETURN(BatchedResult r, RunBatched(*m, f, kv_type, pp, tg, pl, pool, seed++));
        const double s_pp = (f.pps ? r.pp : r.pl * r.pp) / r.t_pp, s_tg = r.pl * r.tg / r.t_tg;
        const double t = r.t_pp + r.t_tg, s = r.n_kv / t;
        if (f.json) {
          const nlohmann::json j = {{"n_kv_max", r.n_kv}, {"n_batch", f.batch}, {"n_ubatch", f.ubatch}, {"is_pp_shared", f.pps ? 1 : 0},
                                    {"n_threads", f.threads}, {"n_threads_batch", f.threads}, {"pp", r.pp}, {"tg", r.tg},
                                    {"pl", r.pl}, {"n_kv", r.n_kv}, {"t_pp", r.t_pp}, {"speed_pp", s_pp}, {"t_tg", r.t_tg},
                                    {"speed_tg", s_tg}, {"t", t}, {"speed", s}};
          std::printf("%s\n", j.dump().c_str());
        } else {
          std::printf("| %5d | %6d | %4d | %6d | %8.3f | %8.2f | %8.3f | %8.2f | %8.3f | %8.2f |\n", r.pp, r.tg, r.pl, r.n_kv,
                      r.t_pp, s_pp, r.t_tg, s_tg, t, s);
        }
        std::fflush(stdout);
      }
    }
  }
  if (experts.store) {  // over the warm-up and every configuration
    if (f.json) {
      std::printf("%s\n", nlohmann::json{{"experts", ExpertStatsJson(experts.store->Stats())}}.dump().c_str());
    } else {
      std::printf("\n%s", ExpertStatsText(experts.store->Stats()).c_str());
    }
  }
  return experts.Finish();
}

}  // namespace

void AddBenchBatched(CLI::App& bench, std::vector<Command>* commands) {
  auto f = std::make_shared<BatchedFlags>();
  CLI::App* cmd = bench.add_subcommand("batched", "many sequences at once, as llama-batched-bench");
  cmd->add_option("-m,--model", f->model, "GGUF file")->required();
  cmd->add_option("--npp", f->npp, "prompt lengths (comma-separated)")->capture_default_str();
  cmd->add_option("--ntg", f->ntg, "generated tokens per sequence (comma-separated)")->capture_default_str();
  cmd->add_option("--npl", f->npl, "numbers of parallel sequences (comma-separated)")->capture_default_str();
  cmd->add_flag("--pps", f->pps, "the prompt is shared by all sequences (computed once)");
  cmd->add_option("-b,--batch-size", f->batch, "prefill tokens per step")->capture_default_str();
  cmd->add_option("--ub,--ubatch-size", f->ubatch, "prefill tokens per sequence per step")->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "threads")->capture_default_str();
  cmd->add_option("--kv-type", f->kv_type, "latent cache type")->capture_default_str();
  cmd->add_option("--kv-block", f->block, "positions per cache block")->capture_default_str();
  cmd->add_flag("--json", f->json, "one JSON object per line (llama-batched-bench's keys)");
  cmd->add_flag("--exact", f->exact, "exact float kernels");
  AddExpertFlags(cmd, &f->experts);
  commands->push_back({cmd, [f]() -> int { return ExitStatus(RunBatchedBench(*f)); }});

}

}  // namespace frugal::app
