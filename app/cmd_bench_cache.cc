// `frugal bench cache`: time to first token of an 8,192-token prompt, cold and when its first
// 7,680 tokens were computed before (a prefix-cache hit), with the hit and miss counts. With
// --cache-dir, also from the disk tier after a restart: another process (this executable, run
// again) computes the earlier request and exits, writing its blocks; the page cache is dropped
// (as root), then the files this process has mapped (its model, executable and libraries) are
// read back in — a restarted server has loaded its model and code; the entries stay on disk —
// and a new engine opens the directory and the prompt's time to first token is measured.
// In the same run, the disk's raw sequential read speed is measured for comparison with the
// tier's read throughput: one stream of 4 MiB direct-I/O requests (dd's figure; also with 4
// streams) over a file written right after the entries and dropped from the page cache with them.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/bench_common.h"
#include "app/cache_flags.h"
#include "app/commands.h"
#include "app/ledger_flags.h"
#include "engine/engine.h"
#include "kv/disk_entry.h"
#include "kv/sequence_cache.h"
#include "model/loaded_model.h"
#include "util/log.h"
#include "util/rng.h"

extern char** environ;

namespace frugal::app {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct CacheFlags {
  std::string model, kv_type = "f16";
  int threads = DefaultThreadCount(), prompt = 8192, seen = 7680, repetitions = 1;
  bool json = false, exact = false;
  std::string cache_dir;
  std::string drop_caches = "auto";
  // Internal: "writer" runs only the earlier request of repetition `rep` into cache_dir and exits.
  std::string role;
  int rep = 0;
  LedgerFlags ledger;
};

// Time from submitting `prompt` to its first token, and its usage; the generation goes to the
// ledger when there is one.
StatusOr<std::pair<double, engine::Usage>> TimeToFirstToken(engine::Engine& e, const std::vector<int32_t>& prompt,
                                                            const LedgerSetup* ledger = nullptr) {
  engine::GenerationRequest r;
  r.prompt = prompt;
  r.max_tokens = 1;
  r.sampling.temperature = 0;
  const auto t0 = Clock::now();
  FRUGAL_ASSIGN_OR_RETURN(int64_t id, e.Submit(r));
  std::vector<engine::GenerationEvent> events;
  while (!e.idle()) {
    events.clear();
    FRUGAL_RETURN_IF_ERROR(e.Step(&events));
    for (const auto& ev : events) {
      if (ev.id != id || ev.finish == engine::FinishReason::kNone) continue;
      if (ledger != nullptr) ledger->Record(ev, "", e.costs());
      if (ev.finish == engine::FinishReason::kError) return ev.error;
      return std::pair{Since(t0), ev.usage};
    }
  }
  return InvalidArgument("no first token");
}

// The prompt of repetition `rep`, and an earlier request sharing its first `seen` tokens.
struct Prompts {
  std::vector<int32_t> prompt, earlier;
};
Prompts PromptsFor(const CacheFlags& f, int vocab, int rep) {
  Rng rng(7 + static_cast<uint64_t>(rep));
  Prompts p;
  p.prompt = RandomIds(rng, f.prompt, vocab);
  p.earlier.assign(p.prompt.begin(), p.prompt.begin() + f.seen);
  const auto tail = RandomIds(rng, f.prompt - f.seen, vocab);
  p.earlier.insert(p.earlier.end(), tail.begin(), tail.end());
  return p;
}

engine::EngineOptions OptionsFor(const CacheFlags& f, const model::ModelConfig& config, model::KvDtype kv_type) {
  const kv::BlockShape shape = kv::ShapeFor(config, kv_type);
  // Room for two full sequences: the earlier request's and this one's (V4: with the snapshots
  // of their state they leave).
  const uint64_t budget =
      2 * (static_cast<uint64_t>(f.prompt / shape.block_tokens + 2) + 2 * kv::SnapshotBlocks(shape)) * shape.block_bytes();
  return {.context = f.prompt + 1, .kv_budget = budget, .kv_dtype = kv_type, .exact = f.exact};
}

// Drops the page cache (root only): reads that follow come from the disk.
bool DropPageCache(const std::string& mode) {
  if (mode == "off") return false;
  sync();
  std::ofstream f("/proc/sys/vm/drop_caches");
  f << "1" << std::flush;
  const bool ok = f.good();
  if (!ok && mode == "on") LogWarning("cannot drop the page cache (needs root): the disk-hit run may read cached pages");
  return ok;
}

constexpr size_t kRawChunk = size_t{4} << 20;

// Reads every file this process maps (model, executable, libraries; once each) into the page
// cache after it was dropped. Without it, the disk hit's time would include re-reading the
// code and the model's mapped rows (the embedding table) by page faults — hundreds of random
// reads that a restarted server, which has just loaded them, does not make.
void ReadMappedFilesBack() {
  std::ifstream maps("/proc/self/maps");
  std::vector<std::string> paths;
  for (std::string line; std::getline(maps, line);) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
  }
  std::vector<char> buf(kRawChunk);
  for (const std::string& path : paths) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // gone or not readable: its pages fault in as they would have
    while (read(fd, buf.data(), buf.size()) > 0) {
    }
    close(fd);
  }
}

// A file of `bytes` (whole 4 MiB chunks) in `dir`, written and fsynced: the raw read's input,
// written when the tier's entries are, so both are read back in the same state.
StatusOr<uint64_t> WriteRawFile(const std::string& path, uint64_t bytes) {
  bytes = std::max<uint64_t>(bytes / kRawChunk, 4) * kRawChunk;
  std::vector<char> chunk(kRawChunk);
  for (size_t i = 0; i < kRawChunk; ++i) chunk[i] = static_cast<char>(i * 2654435761u >> 13);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create {}: {}", path, std::strerror(errno));
  for (uint64_t done = 0; done < bytes; done += kRawChunk) {
    if (write(fd, chunk.data(), kRawChunk) != static_cast<ssize_t>(kRawChunk)) {
      close(fd);
      unlink(path.c_str());
      return IoError("cannot write {}: {}", path, std::strerror(errno));
    }
  }
  fsync(fd);
  close(fd);
  return bytes;
}

// Sequential direct-I/O reads of the file in 4 MiB requests by `streams` readers, each on its own
// contiguous part (1 stream: what `dd iflag=direct bs=4M` reports), in GB/s.
StatusOr<double> RawReadGbps(const std::string& path, uint64_t bytes, int streams) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0) fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open {}: {}", path, std::strerror(errno));
  const uint64_t part = bytes / kRawChunk / static_cast<uint64_t>(streams) * kRawChunk;
  const auto t0 = Clock::now();
  std::vector<std::thread> readers;
  for (int r = 0; r < streams; ++r) {
    readers.emplace_back([&, r] {
      std::unique_ptr<char, void (*)(void*)> buf(static_cast<char*>(std::aligned_alloc(4096, kRawChunk)), std::free);
      for (uint64_t off = static_cast<uint64_t>(r) * part; off < static_cast<uint64_t>(r + 1) * part; off += kRawChunk) {
        if (pread(fd, buf.get(), kRawChunk, static_cast<off_t>(off)) <= 0) break;
      }
    });
  }
  for (auto& t : readers) t.join();
  const double s = Since(t0);
  close(fd);
  return static_cast<double>(part * static_cast<uint64_t>(streams)) / s / 1e9;
}

// Runs this executable again as the writer of repetition `rep`: a separate process computes
// the earlier request and exits, leaving its blocks in the directory.
Status SpawnWriter(const CacheFlags& f, const std::string& dir, int rep) {
  std::vector<std::string> args = {"frugal", "bench", "cache", "-m", f.model, "--prompt", std::to_string(f.prompt), "--seen",
                                   std::to_string(f.seen), "-t", std::to_string(f.threads), "--kv-type", f.kv_type,
                                   "--cache-dir", dir, "--role", "writer", "--rep", std::to_string(rep)};
  if (f.exact) args.push_back("--exact");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (const int e = posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ); e != 0) {
    return IoError("cannot start the writer process: {}", std::strerror(e));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return IoError("the writer process failed (status {})", status);
  return OkStatus();
}

Status RunWriter(const CacheFlags& f) {
  FRUGAL_ASSIGN_OR_RETURN(model::KvDtype kv_type, model::KvDtypeFromName(f.kv_type));
  FRUGAL_ASSIGN_OR_RETURN(auto m, model::LoadModel(f.model));
  ThreadPool pool(f.threads);
  engine::EngineOptions o = OptionsFor(f, m->config, kv_type);
  o.cache_dir = f.cache_dir;
  FRUGAL_ASSIGN_OR_RETURN(auto e, engine::Engine::Create(*m, nullptr, o, pool));
  if (e->disk_cache() == nullptr) return IoError("the writer could not open the disk cache {}", f.cache_dir);
  FRUGAL_RETURN_IF_ERROR(TimeToFirstToken(*e, PromptsFor(f, m->config.vocab_size, f.rep).earlier).status());
  return OkStatus();  // the engine writes its blocks as it goes away
}

Status RunCacheBench(const CacheFlags& f) {
  if (f.prompt < 2 || f.seen < 1 || f.seen >= f.prompt || f.prompt > (1 << 20)) return InvalidArgument("need 1 <= --seen < --prompt <= 2^20");
  if (f.drop_caches != "auto" && f.drop_caches != "on" && f.drop_caches != "off") {
    return InvalidArgument("--drop-caches is auto, on or off, not '{}'", f.drop_caches);
  }
  if (f.role == "writer") return RunWriter(f);
  if (!f.role.empty()) return InvalidArgument("unknown --role '{}'", f.role);
  FRUGAL_ASSIGN_OR_RETURN(model::KvDtype kv_type, model::KvDtypeFromName(f.kv_type));
  FRUGAL_ASSIGN_OR_RETURN(auto m, model::LoadModel(f.model));
  FRUGAL_ASSIGN_OR_RETURN(const LedgerSetup ledger, SetUpLedger(f.ledger, "bench", f.model));
  ThreadPool pool(f.threads);
  const kv::BlockShape shape = kv::ShapeFor(m->config, kv_type);
  const engine::EngineOptions o = OptionsFor(f, m->config, kv_type);
  // The bench's own subdirectory: the user's entries are neither used nor touched.
  const std::string dir = f.cache_dir.empty() ? "" : f.cache_dir + "/bench-cache-" + std::to_string(getpid());
  std::vector<double> cold, hit, disk_hit, disk_gbps, raw_gbps, raw4_gbps, fill_s;
  engine::Usage usage, disk_usage;
  bool dropped = false;
  for (int rep = 0; rep < f.repetitions; ++rep) {
    const Prompts p = PromptsFor(f, m->config.vocab_size, rep);
    {  // cold: a fresh engine
      FRUGAL_ASSIGN_OR_RETURN(auto e, engine::Engine::Create(*m, nullptr, o, pool));
      FRUGAL_ASSIGN_OR_RETURN(auto r, TimeToFirstToken(*e, p.prompt, &ledger));
      cold.push_back(r.first);
    }
    {  // RAM hit: an earlier request in the same engine shared the first `seen` tokens
      FRUGAL_ASSIGN_OR_RETURN(auto e, engine::Engine::Create(*m, nullptr, o, pool));
      FRUGAL_RETURN_IF_ERROR(TimeToFirstToken(*e, p.earlier, &ledger).status());
      FRUGAL_ASSIGN_OR_RETURN(auto r, TimeToFirstToken(*e, p.prompt, &ledger));
      hit.push_back(r.first);
      usage = r.second;
    }
    if (dir.empty()) continue;
    // Disk hit after a restart: another process computed the earlier request and exited.
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    FRUGAL_RETURN_IF_ERROR(SpawnWriter(f, dir, rep));
    // The raw read's file, written now: the same age as the entries, dropped with them.
    const std::string raw_path = dir + "/raw-read.bin";
    const uint64_t entry_bytes = static_cast<uint64_t>(f.seen / shape.block_tokens + 1) * kv::EntryFileBytes(shape);
    FRUGAL_ASSIGN_OR_RETURN(const uint64_t raw_bytes, WriteRawFile(raw_path, std::max<uint64_t>(entry_bytes, uint64_t{256} << 20)));
    dropped = DropPageCache(f.drop_caches);
    if (dropped) ReadMappedFilesBack();
    engine::EngineOptions od = o;
    od.cache_dir = dir;
    FRUGAL_ASSIGN_OR_RETURN(auto e, engine::Engine::Create(*m, nullptr, od, pool));
    if (e->disk_cache() == nullptr) return IoError("cannot open the disk cache in {}", dir);
    FRUGAL_ASSIGN_OR_RETURN(auto r, TimeToFirstToken(*e, p.prompt, &ledger));
    disk_hit.push_back(r.first);
    disk_usage = r.second;
    const kv::DiskTierStats ds = e->disk_cache()->Stats();
    disk_gbps.push_back(ds.read_seconds > 0 ? static_cast<double>(ds.read_bytes) / ds.read_seconds / 1e9 : 0);
    fill_s.push_back(ds.fill_seconds);
    FRUGAL_ASSIGN_OR_RETURN(const double raw, RawReadGbps(raw_path, raw_bytes, 1));
    raw_gbps.push_back(raw);
    DropPageCache(f.drop_caches);
    FRUGAL_ASSIGN_OR_RETURN(const double raw4, RawReadGbps(raw_path, raw_bytes, 4));
    raw4_gbps.push_back(raw4);
    e.reset();
    std::filesystem::remove_all(dir, ec);
  }
  const Spread c = SpreadOf(cold), h = SpreadOf(hit);
  nlohmann::json j = {{"prompt_tokens", f.prompt}, {"seen_tokens", f.seen}, {"cold_ttft_s", c.median},
                      {"ram_hit_ttft_s", h.median}, {"speedup", c.median / h.median},
                      {"hit_tokens", usage.cache_hit_tokens}, {"miss_tokens", usage.cache_miss_tokens},
                      {"block_tokens", shape.block_tokens}, {"threads", f.threads}};
  std::string disk_line;
  if (!dir.empty()) {
    const Spread d = SpreadOf(disk_hit), g = SpreadOf(disk_gbps), raw = SpreadOf(raw_gbps);
    j["disk_hit_ttft_s"] = d.median;
    j["disk_speedup"] = c.median / d.median;
    j["disk_hit_tokens"] = disk_usage.cache_hit_disk_tokens;
    j["disk_miss_tokens"] = disk_usage.cache_miss_tokens;
    j["disk_read_gbps"] = g.median;
    j["ram_fill_s"] = SpreadOf(fill_s).median;
    j["raw_read_gbps"] = raw.median;
    j["raw_read_4streams_gbps"] = SpreadOf(raw4_gbps).median;
    j["disk_read_fraction"] = raw.median > 0 ? g.median / raw.median : 0;
    j["page_cache_dropped"] = dropped;
    disk_line = fmt::format(
        "\nafter a restart, from disk{}: TTFT {:.3f} s ({:.1f}x cold); {} tokens read back, {} computed; tier read {:.2f} GB/s, "
        "raw sequential read {:.2f} GB/s ({:.0f}%); copying into fresh RAM blocks {:.3f} s",
        dropped ? " (page cache dropped)" : " (page cache NOT dropped)", d.median, c.median / d.median,
        disk_usage.cache_hit_disk_tokens, disk_usage.cache_miss_tokens, g.median, raw.median,
        raw.median > 0 ? 100 * g.median / raw.median : 0.0, SpreadOf(fill_s).median);
  }
  if (f.json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("prompt %d tokens, first %d seen before (blocks of %d): cold TTFT %.3f s, RAM prefix hit TTFT %.3f s (%.1fx); "
                "hit %d, miss %d tokens%s\n",
                f.prompt, f.seen, shape.block_tokens, c.median, h.median, c.median / h.median, usage.cache_hit_tokens,
                usage.cache_miss_tokens, disk_line.c_str());
  }
  return OkStatus();
}

}  // namespace

void AddBenchCache(CLI::App& bench, std::vector<Command>* commands) {
  auto c = std::make_shared<CacheFlags>();
  CLI::App* cache = bench.add_subcommand("cache", "time to first token: cold vs a prefix-cache hit (RAM; disk after a restart)");
  cache->add_option("-m,--model", c->model, "GGUF file")->required();
  cache->add_option("--prompt", c->prompt, "prompt tokens")->capture_default_str();
  cache->add_option("--seen", c->seen, "leading tokens computed by an earlier request")->capture_default_str();
  cache->add_option("-r,--repetitions", c->repetitions, "runs (medians)")->capture_default_str();
  cache->add_option("-t,--threads", c->threads, "threads")->capture_default_str();
  cache->add_option("--kv-type", c->kv_type, "latent cache type")->capture_default_str();
  cache->add_option("--cache-dir", c->cache_dir,
                    "also measure a disk hit after a restart, in a subdirectory of this one (removed afterwards)");
  cache->add_option("--drop-caches", c->drop_caches, "drop the page cache before the disk reads: auto (if root) | on | off")
      ->capture_default_str();
  cache->add_option("--role", c->role)->group("");  // internal: the writer process
  cache->add_option("--rep", c->rep)->group("");
  cache->add_flag("--json", c->json, "one JSON object");
  cache->add_flag("--exact", c->exact, "exact float kernels");
  AddLedgerFlags(cache, &c->ledger);
  commands->push_back({cache, [c]() -> int { return ExitStatus(RunCacheBench(*c)); }});
}

}  // namespace frugal::app
