#include <cstdio>

#include "app/commands.h"
#include "app/inspect_report.h"
#include "util/log.h"

namespace frugal::app {

Command AddInspectCommand(CLI::App& app) {
  struct Flags {
    std::string model;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("inspect", "architecture, hyperparameters and memory footprint of a model");
  cmd->add_option("model", f->model, "GGUF file")->required();
  cmd->add_flag("--json", f->json, "machine-readable output on stdout");
  return {cmd, [f]() -> int {
    auto file = io::OpenGguf(f->model);
    if (!file.ok()) {
      LogError("{}", file.status().ToString());
      return 1;
    }
    const StatusOr<model::ModelConfig> config = model::LoadModelConfig(*file);
    const nlohmann::json report = BuildInspectReport(*file, config);
    const std::string out = f->json ? report.dump(2) + "\n" : RenderInspectText(report);
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (!config.ok()) {
      LogError("{}", config.status().ToString());
      return 1;
    }
    return 0;
  }};
}

}  // namespace frugal::app
