// `frugal run`: generate from a prompt (-p) or chat interactively (--chat), streaming text and
// ending with prompt and generation speed and the prompt's cache hits and misses. A thin user
// of engine::Engine (one generation at a time).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "app/commands.h"
#include "app/cache_flags.h"
#include "app/expert_flags.h"
#include "app/ledger_flags.h"
#include "engine/engine.h"
#include "model/loaded_model.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/log.h"

namespace frugal::app {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string model, prompt, system, kv_type = "f16";
  bool chat = false, no_display_prompt = false, exact = false, stats = false;
  ExpertFlags experts;
  CacheDiskFlags cache;
  LedgerFlags ledger;
  int n_predict = 128, ctx = 4096, threads = DefaultThreadCount(), batch = 512;
  uint64_t kv_budget = 0;
  std::vector<std::string> stop;
  engine::SamplingParams sampling;
};

struct Totals {
  engine::Usage usage;
  double prompt_s = 0, gen_s = 0;
};

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Runs one generation to its end, streaming its text to stdout.
StatusOr<engine::FinishReason> Generate(engine::Engine& engine, engine::GenerationRequest request, const LedgerSetup& ledger,
                                        Totals* totals, std::string* reply) {
  const auto t0 = Clock::now();
  FRUGAL_ASSIGN_OR_RETURN(int64_t id, engine.Submit(std::move(request)));
  Clock::time_point first_token{};
  std::vector<engine::GenerationEvent> events;
  while (!engine.idle()) {
    events.clear();
    FRUGAL_RETURN_IF_ERROR(engine.Step(&events));
    for (const engine::GenerationEvent& ev : events) {
      if (ev.id != id) continue;
      if (first_token == Clock::time_point{}) first_token = Clock::now();
      *reply += ev.text;
      std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
      std::fflush(stdout);
      if (ev.finish == engine::FinishReason::kNone) continue;
      ledger.Record(ev, "", engine.costs());
      const auto end = Clock::now();
      totals->usage.prompt_tokens += ev.usage.prompt_tokens;
      totals->usage.cache_hit_tokens += ev.usage.cache_hit_tokens;
      totals->usage.cache_hit_disk_tokens += ev.usage.cache_hit_disk_tokens;
      totals->usage.cache_miss_tokens += ev.usage.cache_miss_tokens;
      totals->usage.completion_tokens += ev.usage.completion_tokens;
      totals->prompt_s += Seconds(t0, first_token);
      totals->gen_s += Seconds(first_token, end);
      if (ev.finish == engine::FinishReason::kError) return ev.error;
      return ev.finish;
    }
  }
  return MakeStatus(StatusCode::kInternal, "the generation ended without a final event");
}

void PrintTotals(const Totals& t, const engine::Engine& e) {
  const engine::Usage& u = t.usage;
  std::fprintf(stderr,
               "\nprompt: %d tokens (cache hit %d: %d RAM, %d disk; miss %d) in %.2f s (%.2f miss tokens/s) | generation: %d "
               "tokens in %.2f s (%.2f tokens/s)\n",
               u.prompt_tokens, u.cache_hit_tokens, u.cache_hit_tokens - u.cache_hit_disk_tokens, u.cache_hit_disk_tokens,
               u.cache_miss_tokens, t.prompt_s,
               t.prompt_s > 0 ? u.cache_miss_tokens / t.prompt_s : 0.0, u.completion_tokens, t.gen_s,
               t.gen_s > 0 ? u.completion_tokens / t.gen_s : 0.0);
  const kv::PoolStats s = e.blocks().Stats();
  const kv::BlockShape& shape = e.blocks().shape();
  if (shape.v4) {
    std::fprintf(stderr,
                 "KV cache: %d tokens per sequence, %d blocks of %d tokens, %.2f MiB budget (compressed rows and index keys; "
                 "%zu bytes per token) + %.2f MiB per sequence (window and compressor state, f32)\n",
                 e.options().context, s.blocks, e.options().block_tokens, static_cast<double>(s.storage_bytes) / (1 << 20),
                 shape.bytes_per_token(), static_cast<double>(model::V4Tail(*shape.v4).bytes()) / (1 << 20));
    return;
  }
  std::fprintf(stderr, "KV cache: %d tokens per sequence, %d blocks of %d tokens, %.2f MiB budget (latent only; %zu bytes per token)\n",
               e.options().context, s.blocks, e.options().block_tokens, static_cast<double>(s.storage_bytes) / (1 << 20),
               shape.bytes_per_token());
}

engine::GenerationRequest RequestFor(const Flags& f, std::vector<int32_t> ids) {
  engine::GenerationRequest r;
  r.prompt = std::move(ids);
  r.max_tokens = f.n_predict;
  r.stop = f.stop;
  r.sampling = f.sampling;
  return r;
}

Status Chat(const Flags& f, engine::Engine& engine, const tokenizer::Tokenizer& tok, const io::GgufFile& file,
            const LedgerSetup& ledger) {
  std::string jinja;
  if (file.Has("tokenizer.chat_template")) {
    FRUGAL_ASSIGN_OR_RETURN(jinja, file.GetString("tokenizer.chat_template"));
  }
  FRUGAL_ASSIGN_OR_RETURN(tokenizer::ChatTemplate tmpl, tokenizer::DetectChatTemplate(jinja));
  std::vector<tokenizer::ChatMessage> messages;
  if (!f.system.empty()) messages.push_back({"system", f.system, ""});
  const size_t first_turn = messages.size();
  const std::string bos = tok.bos_id() >= 0 ? tok.TokenText(tok.bos_id()) : "";
  const std::string eos = tok.eos_id() >= 0 ? tok.TokenText(tok.eos_id()) : "";
  // The conversation keeps its sequence, so each turn computes only what is new.
  const std::shared_ptr<kv::SequenceKv> sequence = engine.NewSequence("");
  // Room a turn needs beyond its prompt: a quarter of the context at most.
  const int room = std::max(1, std::min(f.n_predict, f.ctx / 4));
  Totals totals;
  std::string line;
  const bool tty = isatty(fileno(stdin));
  while (true) {
    if (tty) std::fprintf(stderr, "\n> ");
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    messages.push_back({"user", line, ""});
    std::vector<int32_t> ids;
    for (;;) {
      ids = tok.Encode(tokenizer::RenderChat(tmpl, messages, true, bos, eos), {.add_bos = false, .parse_special = true});
      if (static_cast<int>(ids.size()) + room <= f.ctx || messages.size() - first_turn <= 1) break;
      // The oldest turn goes (the system prompt stays); the next prompt is recomputed from there.
      const size_t drop = messages.size() - first_turn >= 2 && messages[first_turn + 1].role == "assistant" ? 2 : 1;
      messages.erase(messages.begin() + static_cast<long>(first_turn), messages.begin() + static_cast<long>(first_turn + drop));
      std::fprintf(stderr, "[context of %d tokens full: dropped the oldest turn]\n", f.ctx);
    }
    engine::GenerationRequest r = RequestFor(f, std::move(ids));
    r.sequence = sequence;
    std::string reply;
    StatusOr<engine::FinishReason> finish = Generate(engine, std::move(r), ledger, &totals, &reply);
    if (!finish.ok()) {
      LogError("{}", finish.status().ToString());
      messages.pop_back();
      continue;
    }
    std::printf("\n");
    if (*finish == engine::FinishReason::kLength) std::fprintf(stderr, "[finish: length]\n");
    messages.push_back({"assistant", reply, ""});
  }
  PrintTotals(totals, engine);
  return OkStatus();
}

Status Run(const Flags& f) {
  FRUGAL_RETURN_IF_ERROR(engine::ValidateSamplingParams(f.sampling));
  FRUGAL_ASSIGN_OR_RETURN(model::KvDtype kv, model::KvDtypeFromName(f.kv_type));
  FRUGAL_ASSIGN_OR_RETURN(auto m, model::LoadModel(f.model, LoadOptionsFor(f.experts)));
  FRUGAL_ASSIGN_OR_RETURN(ExpertSetup experts, SetUpExperts(m.get(), f.experts));
  FRUGAL_ASSIGN_OR_RETURN(auto tok, tokenizer::Tokenizer::FromGguf(m->file));
  FRUGAL_ASSIGN_OR_RETURN(LedgerSetup ledger, SetUpLedger(f.ledger, "run", f.model));
  ThreadPool pool(f.threads);
  engine::EngineOptions o{.context = f.ctx, .kv_budget = f.kv_budget, .kv_dtype = kv, .step_tokens = f.batch, .exact = f.exact};
  ApplyCacheDiskFlags(f.cache, &o);
  FRUGAL_ASSIGN_OR_RETURN(auto engine, engine::Engine::Create(*m, tok.get(), o, pool));
  auto finish_experts = [&](Status s) {
    if (f.stats && experts.store) std::fprintf(stderr, "%s", ExpertStatsText(experts.store->Stats()).c_str());
    if (f.stats && !experts.store) std::fprintf(stderr, "experts: all in RAM (no --expert-budget)\n");
    if (f.stats && engine->disk_cache()) std::fprintf(stderr, "%s", DiskCacheText(engine->disk_cache()->Stats()).c_str());
    const Status closed = experts.Finish();
    return s.ok() ? closed : s;
  };
  if (f.chat) return finish_experts(Chat(f, *engine, *tok, m->file, ledger));
  if (!f.no_display_prompt) std::printf("%s", f.prompt.c_str());
  Totals totals;
  std::string reply;
  StatusOr<engine::FinishReason> finish = Generate(*engine, RequestFor(f, tok->Encode(f.prompt)), ledger, &totals, &reply);
  if (!finish.ok()) return finish_experts(finish.status());
  std::printf("\n");
  std::fprintf(stderr, "finish: %s\n", engine::FinishReasonName(*finish));
  PrintTotals(totals, *engine);
  return finish_experts(OkStatus());
}

}  // namespace

Command AddRunCommand(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("run", "generate text from a prompt, or chat");
  cmd->add_option("-m,--model", f->model, "GGUF file")->required();
  auto* p = cmd->add_option("-p,--prompt", f->prompt, "prompt text");
  auto* chat = cmd->add_flag("--chat", f->chat, "interactive chat with the model's template (stdin)");
  p->excludes(chat);
  cmd->add_option("--system", f->system, "system prompt (chat)");
  cmd->add_option("-n,--n-predict", f->n_predict, "tokens to generate at most")->capture_default_str();
  cmd->add_option("--stop", f->stop, "stop string (repeatable)");
  cmd->add_option("-c,--ctx-size", f->ctx, "context size (positions per sequence)")->capture_default_str();
  cmd->add_option("--kv-budget", f->kv_budget, "latent cache blocks, bytes or 8G, 512MiB... (default: what -c implies)")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("-b,--batch-size", f->batch, "tokens per forward step (prefill chunk)")->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "threads")->capture_default_str();
  cmd->add_option("--kv-type", f->kv_type, "latent cache type: f16 | bf16 | f32")->capture_default_str();
  cmd->add_option("--temp", f->sampling.temperature, "temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", f->sampling.top_k, "top-k (0: off)")->capture_default_str();
  cmd->add_option("--top-p", f->sampling.top_p, "top-p (1: off)")->capture_default_str();
  cmd->add_option("--min-p", f->sampling.min_p, "min-p (0: off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", f->sampling.repeat_penalty, "repetition penalty (1: off)")->capture_default_str();
  cmd->add_option("--repeat-last-n", f->sampling.repeat_last_n, "penalty window")->capture_default_str();
  cmd->add_option("--presence-penalty", f->sampling.presence_penalty, "presence penalty")->capture_default_str();
  cmd->add_option("--frequency-penalty", f->sampling.frequency_penalty, "frequency penalty")->capture_default_str();
  cmd->add_option("-s,--seed", f->sampling.seed, "random seed")->capture_default_str();
  cmd->add_flag("--no-display-prompt", f->no_display_prompt, "do not echo the prompt");
  cmd->add_flag("--exact", f->exact, "exact float kernels (no 8-bit activation rounding)");
  cmd->add_flag("--stats", f->stats, "print the expert store's and the disk cache's statistics at the end");
  AddExpertFlags(cmd, &f->experts);
  AddCacheDiskFlags(cmd, &f->cache);
  AddLedgerFlags(cmd, &f->ledger);
  return {cmd, [f]() -> int {
    if (!f->chat && f->prompt.empty()) {
      LogError("give a prompt (-p TEXT) or --chat");
      return 2;
    }
    return ExitStatus(Run(*f));
  }};
}

}  // namespace frugal::app
