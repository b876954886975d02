#include <cstdio>

#include "app/commands.h"
#include "app/inspect_report.h"
#include "kv/block_pool.h"
#include "kv/sequence_cache.h"
#include "util/log.h"

namespace frugal::app {

Command AddInspectCommand(CLI::App& app) {
  struct Flags {
    std::string model, kv_type = "f16";
    int ctx = 4096;
    uint64_t kv_budget = 0;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("inspect", "architecture, hyperparameters and memory footprint of a model");
  cmd->add_option("model", f->model, "GGUF file")->required();
  cmd->add_flag("--json", f->json, "machine-readable output on stdout");
  cmd->add_option("-c,--ctx-size", f->ctx, "context for the KV pool accounting")->capture_default_str();
  cmd->add_option("--kv-budget", f->kv_budget, "KV pool bytes (8G, 512MiB…; default: what -c implies)")->transform(CLI::AsSizeValue(false));
  cmd->add_option("--kv-type", f->kv_type, "latent cache type: f16 | bf16 | f32")->capture_default_str();
  return {cmd, [f]() -> int {
    auto file = io::OpenGguf(f->model);
    if (!file.ok()) {
      LogError("{}", file.status().ToString());
      return 1;
    }
    const StatusOr<model::ModelConfig> config = model::LoadModelConfig(*file);
    nlohmann::json report = BuildInspectReport(*file, config);
    if (config.ok() && !config->is_v4()) {  // the paged latent cache this model would get: exact bytes and bookkeeping
      auto dtype = model::KvDtypeFromName(f->kv_type);
      if (!dtype.ok() || f->ctx < 1) {
        LogError("{}", dtype.ok() ? "-c must be at least 1" : dtype.status().ToString());
        return 1;
      }
      const kv::BlockShape shape = kv::ShapeFor(*config, *dtype);
      const uint64_t blocks_for_ctx = (static_cast<uint64_t>(f->ctx) + shape.block_tokens - 1) / shape.block_tokens;
      const uint64_t budget = f->kv_budget > 0 ? f->kv_budget : blocks_for_ctx * shape.block_bytes();
      auto pool = kv::BlockPool::Create(shape, budget);
      if (!pool.ok()) {
        LogError("{}", pool.status().ToString());
        return 1;
      }
      const kv::PoolStats st = (*pool)->Stats();
      report["kv_pool"] = {{"kv_type", f->kv_type}, {"context", f->ctx}, {"budget_bytes", budget},
                           {"bytes_per_token", shape.bytes_per_token()}, {"layers", shape.n_layers}, {"values_per_token_per_layer", shape.width},
                           {"block_tokens", shape.block_tokens}, {"block_bytes", shape.block_bytes()}, {"blocks", st.blocks},
                           {"storage_bytes", st.storage_bytes}, {"metadata_bytes", st.metadata_bytes},
                           {"overhead_fraction", static_cast<double>(st.metadata_bytes) / static_cast<double>(st.storage_bytes)}};
    }
    const std::string out = f->json ? report.dump(2) + "\n" : RenderInspectText(report);
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (report.contains("sized_only")) return report["sized_only"].contains("error") ? 1 : 0;
    if (!config.ok()) {
      LogError("{}", config.status().ToString());
      return 1;
    }
    return 0;
  }};
}

}  // namespace frugal::app
