#include "app/cache_flags.h"

#include <fmt/format.h>

namespace frugal::app {

void AddCacheDiskFlags(CLI::App* cmd, CacheDiskFlags* f) {
  cmd->add_option("--cache-dir", f->dir,
                  "keep computed prefix blocks on disk here: written when RAM evicts them (and at exit), read back on a "
                  "RAM miss, shared by processes and restarts");
  cmd->add_option("--cache-disk-budget", f->budget, "bytes the disk cache may use, 100G, 512MiB… (default: half the free space)")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_flag("--cache-write-through", f->write_through, "write every prefix block to disk when it is completed");
}

void ApplyCacheDiskFlags(const CacheDiskFlags& f, engine::EngineOptions* o) {
  o->cache_dir = f.dir;
  o->cache_disk_budget = f.budget;
  o->cache_write_through = f.write_through;
}

std::string DiskCacheText(const kv::DiskTierStats& s) {
  std::string out = fmt::format(
      "disk cache: {} entries, {:.1f} of {:.1f} MiB; {} blocks hit ({:.1f} MiB read at {:.2f} GB/s); {} written, {} dropped, "
      "{} write errors, {} rejected, {} evicted\n",
      s.entries, static_cast<double>(s.bytes_on_disk) / (1 << 20), static_cast<double>(s.budget_bytes) / (1 << 20), s.hits,
      static_cast<double>(s.read_bytes) / (1 << 20), s.read_seconds > 0 ? static_cast<double>(s.read_bytes) / s.read_seconds / 1e9 : 0.0,
      s.written, s.writes_dropped, s.write_errors, s.rejected, s.evicted);
  if (!s.first_error.empty()) out += "disk cache: first error: " + s.first_error + "\n";
  return out;
}

nlohmann::json DiskCacheJson(const kv::DiskTierStats& s) {
  return {{"entries", s.entries},         {"bytes_on_disk", s.bytes_on_disk},   {"budget_bytes", s.budget_bytes},
          {"hit_blocks", s.hits},         {"read_bytes", s.read_bytes},         {"read_s", s.read_seconds}, {"fill_s", s.fill_seconds},
          {"written", s.written},         {"written_bytes", s.written_bytes},   {"writes_dropped", s.writes_dropped},
          {"write_errors", s.write_errors}, {"rejected", s.rejected},           {"evicted", s.evicted},
          {"first_error", s.first_error}};
}

std::string DiskCachePrometheus(const kv::DiskTierStats& s) {
  std::string out;
  const auto metric = [&](const char* name, const char* type, const char* help, double value) {
    out += fmt::format("# HELP frugal:{} {}\n# TYPE frugal:{} {}\nfrugal:{} {}\n", name, help, name, type, name, value);
  };
  metric("kv_disk_entries", "gauge", "Prefix-cache entries on disk (as this process knows).", static_cast<double>(s.entries));
  metric("kv_disk_bytes", "gauge", "Bytes of prefix-cache entries on disk.", static_cast<double>(s.bytes_on_disk));
  metric("kv_disk_budget_bytes", "gauge", "The disk cache's byte budget.", static_cast<double>(s.budget_bytes));
  metric("kv_disk_hit_blocks_total", "counter", "Blocks read back from disk and used.", static_cast<double>(s.hits));
  metric("kv_disk_read_bytes_total", "counter", "Bytes read from the disk cache.", static_cast<double>(s.read_bytes));
  metric("kv_disk_read_seconds_total", "counter", "Time spent reading the disk cache.", s.read_seconds);
  metric("kv_disk_written_total", "counter", "Entries written to the disk cache.", static_cast<double>(s.written));
  metric("kv_disk_writes_dropped_total", "counter", "Writes dropped: the queue was full.", static_cast<double>(s.writes_dropped));
  metric("kv_disk_write_errors_total", "counter", "Writes that failed (disk full, read-only).", static_cast<double>(s.write_errors));
  metric("kv_disk_rejected_total", "counter", "Entries found bad (corrupt, truncated, mismatched): deleted.",
         static_cast<double>(s.rejected));
  metric("kv_disk_evicted_total", "counter", "Entries deleted for the budget.", static_cast<double>(s.evicted));
  return out;
}

}  // namespace frugal::app
