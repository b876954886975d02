// The prefix cache's disk-tier flags shared by run, serve and bench cache (--cache-dir,
// --cache-disk-budget, --cache-write-through), and the tier's statistics as text, JSON and
// Prometheus metrics.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "kv/disk_tier.h"

namespace frugal::app {

struct CacheDiskFlags {
  std::string dir;
  uint64_t budget = 0;
  bool write_through = false;
};

void AddCacheDiskFlags(CLI::App* cmd, CacheDiskFlags* f);
void ApplyCacheDiskFlags(const CacheDiskFlags& f, engine::EngineOptions* o);

// One line for stderr: entries, bytes, hits, reads, writes, rejects, evictions.
std::string DiskCacheText(const kv::DiskTierStats& s);
nlohmann::json DiskCacheJson(const kv::DiskTierStats& s);
// frugal:kv_disk_* for /metrics.
std::string DiskCachePrometheus(const kv::DiskTierStats& s);

}  // namespace frugal::app
