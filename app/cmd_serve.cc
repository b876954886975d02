// `frugal serve`: the OpenAI/DeepSeek-compatible server. It listens at once (/health answers 503
// while the model loads), then serves through one batch loop; SIGTERM or SIGINT stop accepting,
// let the requests in flight finish, and exit 0.
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "app/commands.h"
#include "app/cache_flags.h"
#include "app/ledger_flags.h"
#include "app/expert_flags.h"
#include "engine/engine.h"
#include "kv/sequence_cache.h"
#include "model/loaded_model.h"
#include "server/api_service.h"
#include "ledger/ledger_writer.h"
#include "server/batch_loop.h"
#include "server/http_server.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/log.h"

namespace frugal::app {
namespace {

struct Flags {
  std::string model, host = "127.0.0.1", api_key, alias, kv_type = "f16";
  int port = 8080, ctx = 4096, parallel = 8, queue = 64, threads = DefaultThreadCount(), step_tokens = 512;
  int prefill_while_decoding = 0;
  double step_slowdown = 2.0, step_floor_ms = 100;
  uint64_t kv_budget = 0, max_body = 8u << 20;
  bool share_cache = false, exact = false, warmup = true;
  int drain_timeout_s = 300;
  ExpertFlags experts;
  CacheDiskFlags cache;
  LedgerFlags ledger;
};

// Set by the signal callback, waited on by the main thread.
struct StopSignal {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  void Raise() {
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  }
  bool Wait(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, d, [&] { return stop; });
  }
};

Status Serve(const Flags& f) {
  if (f.parallel < 1) return InvalidArgument("--parallel must be at least 1");
  if (f.queue < 0) return InvalidArgument("--queue must not be negative");
  if (f.port < 1 || f.port > 65535) return InvalidArgument("--port must be in 1..65535");
  FRUGAL_ASSIGN_OR_RETURN(model::KvDtype kv, model::KvDtypeFromName(f.kv_type));
  std::signal(SIGPIPE, SIG_IGN);
  // One descriptor per connection: take the hard limit (often 1024 soft, far more hard).
  if (rlimit r{}; getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
  std::string model_id = f.alias;
  if (model_id.empty()) model_id = std::filesystem::path(f.model).stem().string();

  FRUGAL_ASSIGN_OR_RETURN(LedgerSetup ledger_setup, SetUpLedger(f.ledger, "serve", f.model));
  // The ledger's fsync'd appends run on a thread of their own, never on the engine thread.
  std::unique_ptr<ledger::LedgerWriter> ledger_writer;
  if (ledger_setup.log) ledger_writer = std::make_unique<ledger::LedgerWriter>(std::move(ledger_setup.log));
  server::Metrics metrics;
  server::ApiService service({model_id, f.api_key, f.share_cache, ledger_setup.source.prices}, metrics);
  FRUGAL_ASSIGN_OR_RETURN(auto http, server::HttpServer::Create({.host = f.host, .port = static_cast<uint16_t>(f.port),
                                                                 .max_body_bytes = f.max_body},
                                                                [&](server::HttpRequest r, std::shared_ptr<server::Responder> out) {
                                                                  service.Handle(std::move(r), std::move(out));
                                                                }));
  StopSignal stop;
  http->OnSignal([&](int sig) {
    LogInfo("signal {}: draining", sig);
    stop.Raise();
  });
  http->Start();
  LogInfo("listening on http://{}:{} (loading {})", f.host, f.port, f.model);

  FRUGAL_ASSIGN_OR_RETURN(auto m, model::LoadModel(f.model, LoadOptionsFor(f.experts)));
  FRUGAL_ASSIGN_OR_RETURN(ExpertSetup experts, SetUpExperts(m.get(), f.experts));
  FRUGAL_ASSIGN_OR_RETURN(auto tok, tokenizer::Tokenizer::FromGguf(m->file));
  std::string jinja;
  if (m->file.Has("tokenizer.chat_template")) {
    FRUGAL_ASSIGN_OR_RETURN(jinja, m->file.GetString("tokenizer.chat_template"));
  }
  tokenizer::ChatTemplate chat_template;  // DeepSeek-V3's when the file names none
  if (!jinja.empty()) {
    FRUGAL_ASSIGN_OR_RETURN(chat_template, tokenizer::DetectChatTemplate(jinja));
  }
  ThreadPool pool(f.threads);
  engine::EngineOptions o{.context = f.ctx, .kv_budget = f.kv_budget, .kv_dtype = kv, .step_tokens = f.step_tokens,
                          .prefill_tokens_while_decoding = f.prefill_while_decoding, .max_step_slowdown = f.step_slowdown,
                          .paced_step_floor_s = f.step_floor_ms / 1000, .exact = f.exact};
  ApplyCacheDiskFlags(f.cache, &o);
  if (o.kv_budget == 0) {  // every running request can hold a full context
    const kv::BlockShape shape = kv::ShapeFor(m->config, kv, kv::kDefaultBlockTokens);
    o.kv_budget = static_cast<uint64_t>(f.parallel) * ((static_cast<uint64_t>(f.ctx) + shape.block_tokens - 1) / shape.block_tokens) *
                  shape.block_bytes();
  }
  FRUGAL_ASSIGN_OR_RETURN(auto engine, engine::Engine::Create(*m, tok.get(), o, pool));
  // Before /health says ready: the first request does not pay first-touch costs.
  server::BatchLoopOptions loop_options{.parallel = f.parallel, .queue = f.queue, .on_finished = {},
                                        .warmup_tokens = f.warmup ? f.step_tokens : 0};
  loop_options.on_finished = [&metrics, &ledger_writer, &source = ledger_setup.source, costs = engine->costs()](
                                 const server::Job& job, const engine::GenerationEvent& ev) {
    ledger::LedgerRecord record = ledger::LedgerRecordOf(ev, job.billed_tenant, costs, source, ledger::UnixNow());
    metrics.AddLedger(record);
    if (ledger_writer) ledger_writer->Push(std::move(record));
  };
  auto loop = std::make_unique<server::BatchLoop>(*engine, metrics, loop_options);
  if (!loop->warmup_status().ok()) {
    LogWarning("warm-up failed (serving anyway): {}", loop->warmup_status().ToString());
  } else if (f.warmup) {
    LogInfo("warmed up in {:.2f} s", loop->warmup_seconds());
  }
  const kv::PoolStats s = engine->blocks().Stats();
  // Set now, with nothing left to fail before the drain (which stops the server before the model goes).
  metrics.SetExtra([store = experts.store, disk = engine->disk_cache()] {
    return (store != nullptr ? ExpertStatsPrometheus(store->Stats()) : "") + (disk != nullptr ? DiskCachePrometheus(disk->Stats()) : "");
  });
  if (const kv::DiskTier* disk = engine->disk_cache()) {
    const kv::DiskTierStats ds = disk->Stats();
    LogInfo("disk cache: '{}', {} entries ({:.1f} of {:.1f} MiB){}", disk->dir(), ds.entries,
            static_cast<double>(ds.bytes_on_disk) / (1 << 20), static_cast<double>(ds.budget_bytes) / (1 << 20),
            disk->write_through() ? ", write-through" : "");
  }
  if (experts.store) {
    const experts::ExpertStoreStats es = experts.store->Stats();
    LogInfo("experts: {} of {} in RAM ({:.1f} MiB budget, policy {}{}), the rest read from '{}' with {} I/O ({})", es.slots,
            experts.store->layout().TotalExperts(), static_cast<double>(es.budget_bytes) / (1 << 20), experts::PolicyName(es.policy),
            es.pinned_slots > 0 ? fmt::format(", {} pinned", es.pinned_slots) : "", experts.store->file_name(),
            es.direct_io ? "direct" : "buffered", es.io_engine);
  }
  service.SetReady(loop.get(), tok.get(), chat_template, f.ctx,
                   std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  LogInfo("ready: model '{}', context {}, {} running + {} queued requests, KV cache {} blocks of {} tokens ({:.1f} MiB)", model_id,
          f.ctx, f.parallel, f.queue, s.blocks, engine->options().block_tokens, static_cast<double>(s.storage_bytes) / (1 << 20));

  while (!stop.Wait(std::chrono::seconds(1))) {
  }
  service.BeginDrain();
  http->StopAccepting();
  // In-flight requests finish; a client that stopped reading cannot hold the exit forever.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(f.drain_timeout_s);
  while (!(loop->Idle() && http->open_responses() == 0)) {
    if (std::chrono::steady_clock::now() > deadline) {
      LogError("drain: {} responses still open after {} s; closing them", http->open_responses(), f.drain_timeout_s);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  http->Stop();
  loop.reset();
  LogInfo("drained; exiting");
  return experts.Finish();
}

}  // namespace

Command AddServeCommand(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI/DeepSeek-compatible HTTP server with continuous batching");
  cmd->add_option("-m,--model", f->model, "GGUF file")->required();
  cmd->add_option("--host", f->host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", f->port, "port")->capture_default_str();
  cmd->add_option("-c,--ctx-size", f->ctx, "context per request (prompt + generated)")->capture_default_str();
  cmd->add_option("--parallel", f->parallel, "requests in the running batch at most")->capture_default_str();
  cmd->add_option("--queue", f->queue, "requests waiting beyond those at most (more: 429)")->capture_default_str();
  cmd->add_option("--kv-budget", f->kv_budget, "latent cache blocks, bytes or 8G, 512MiB... (default: --parallel full contexts)")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--kv-type", f->kv_type, "latent cache type: f16 | bf16 | f32")->capture_default_str();
  cmd->add_option("--api-key", f->api_key, "require 'Authorization: Bearer KEY' (all endpoints but /health)");
  cmd->add_option("--model-alias", f->alias, "model name clients use (default: the file name)");
  cmd->add_flag("--share-cache", f->share_cache, "share the prefix cache across tenants (users)");
  cmd->add_option("--max-body", f->max_body, "largest request body, bytes or 8M... (more: 413)")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("-t,--threads", f->threads, "compute threads")->capture_default_str();
  cmd->add_option("-b,--step-tokens", f->step_tokens, "tokens per forward step")->capture_default_str();
  cmd->add_option("--prefill-while-decoding", f->prefill_while_decoding,
                  "prompt tokens a step carries at most while other requests decode (0: --step-tokens)")
      ->capture_default_str();
  cmd->add_option("--step-slowdown", f->step_slowdown,
                  "a step that prefills next to decoding requests takes at most about this many times a decode-only "
                  "step (sizes the prefill chunk; 0: off)")
      ->capture_default_str();
  cmd->add_option("--step-floor-ms", f->step_floor_ms,
                  "... or this long, when that is longer (keeps prompts moving next to few streams)")
      ->capture_default_str();
  cmd->add_option("--drain-timeout", f->drain_timeout_s, "seconds SIGTERM waits for requests in flight")->capture_default_str();
  cmd->add_flag("--exact", f->exact, "exact float kernels (no 8-bit activation rounding)");
  cmd->add_flag("!--no-warmup", f->warmup, "skip the warm-up step (a synthetic prompt of --step-tokens) before /health says ready");
  AddExpertFlags(cmd, &f->experts);
  AddCacheDiskFlags(cmd, &f->cache);
  AddLedgerFlags(cmd, &f->ledger);
  return {cmd, [f]() -> int { return ExitStatus(Serve(*f)); }};
}

}  // namespace frugal::app
