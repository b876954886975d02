#include <unistd.h>

#include <cstdio>

#include "app/commands.h"
#include "tools/model_generator.h"
#include "util/log.h"

namespace frugal::app {

Command AddMakeModelCommand(CLI::App& app) {
  struct Flags {
    tools::GeneratorOptions options;
    std::string dtype, expert_dtype, kv_b, out, gating;
    bool no_bias = false;
    int q_lora = -1;
    double yarn = -1;
    int threads = DefaultThreadCount();
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("make-model", "generate a deterministic random-weight deepseek2/deepseek32/deepseek4 GGUF");
  cmd->add_option("--preset", f->options.preset, "tiny | tiny-v3tok | mini | v3-shaped | v32-tiny | v4-tiny | v4-flash-shaped")
      ->capture_default_str();
  cmd->add_option("--dtype", f->dtype, "weight type: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_K q5_K q6_K mxfp4");
  cmd->add_option("--expert-dtype", f->expert_dtype, "routed experts' type (default: --dtype), e.g. mxfp4 as DeepSeek-V4's");
  cmd->add_flag("--skew", f->options.skew, "trained-like expert popularity (a content-dependent minority)");
  cmd->add_option("--seed", f->options.seed, "random seed")->capture_default_str();
  cmd->add_option("--q-lora", f->q_lora, "query compression rank (0: none)");
  cmd->add_option("--kv-b", f->kv_b, "key/value up-projection layout: split | legacy");
  cmd->add_option("--yarn-factor", f->yarn, "YaRN factor (<= 1: off)");
  cmd->add_option("--gating", f->gating, "router scores: softmax (V2) | sigmoid (V3)");
  cmd->add_flag("--no-bias", f->no_bias, "no selection bias (exp_probs_b)");
  cmd->add_option("--tokenizer-dir", f->options.tokenizer_dir, "directory with the DeepSeek-V3 tokenizer.json");
  cmd->add_option("--gguf-version", f->options.gguf_version, "2 or 3")->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "threads")->capture_default_str();
  cmd->add_option("-o,--output", f->out, "output file")->required();
  return {cmd, [f]() -> int {
    tools::GeneratorOptions& o = f->options;
    if (!f->dtype.empty()) {
      o.dtype = TypeFromName(f->dtype);
      if (!o.dtype) {
        LogError("unknown --dtype '{}'", f->dtype);
        return 2;
      }
    }
    if (!f->expert_dtype.empty()) {
      o.expert_dtype = TypeFromName(f->expert_dtype);
      if (!o.expert_dtype) {
        LogError("unknown --expert-dtype '{}'", f->expert_dtype);
        return 2;
      }
    }
    if (f->q_lora >= 0) o.q_lora_rank = f->q_lora;
    if (f->yarn >= 0) o.yarn_factor = f->yarn;
    if (!f->kv_b.empty()) {
      if (f->kv_b != "split" && f->kv_b != "legacy") {
        LogError("--kv-b must be split or legacy, not '{}'", f->kv_b);
        return 2;
      }
      o.kv_b_layout = f->kv_b == "split" ? model::KvBLayout::kSplit : model::KvBLayout::kLegacy;
    }
    if (!f->gating.empty()) {
      if (f->gating != "softmax" && f->gating != "sigmoid") {
        LogError("--gating must be softmax or sigmoid, not '{}'", f->gating);
        return 2;
      }
      o.gating = f->gating == "softmax" ? model::GatingFunction::kSoftmax : model::GatingFunction::kSigmoid;
    }
    if (f->no_bias) o.selection_bias = false;
    if (o.gguf_version != 2 && o.gguf_version != 3) {
      LogError("--gguf-version must be 2 or 3");
      return 2;
    }
    if (o.tokenizer_dir.empty()) o.tokenizer_dir = DefaultTokenizerDir();
    ThreadPool pool(f->threads);
    const bool tty = isatty(fileno(stderr));
    Status s = tools::GenerateModel(o, f->out, pool, [tty](size_t done, size_t total, const std::string& name) {
      if (tty) std::fprintf(stderr, "\r[%zu/%zu] %-40s", done + 1, total, name.c_str());
    });
    if (tty) std::fprintf(stderr, "\n");
    if (!s.ok()) {
      LogError("{}", s.ToString());
      return 1;
    }
    LogInfo("wrote {}", f->out);
    return 0;
  }};
}

}  // namespace frugal::app
