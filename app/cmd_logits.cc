// `frugal logits`: raw little-endian f32 logits, one row of vocab values per input position
// (teacher forcing), optionally in chunks, through a chosen attention path; `--gen N` prints N
// greedy ids after the prompt; `--dump-tensors DIR` writes every intermediate as .npy.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "app/commands.h"
#include "model/loaded_model.h"
#include "model/transformer.h"
#include "util/log.h"

namespace frugal::app {
namespace {

StatusOr<std::vector<int32_t>> ParseIds(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      const long long v = std::stoll(item, &used);
      if (used != item.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(item);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      return InvalidArgument("--ids: '{}' is not a token id", item);
    }
  }
  if (ids.empty()) return InvalidArgument("--ids is empty");
  return ids;
}

StatusOr<model::AttentionPath> ParsePath(const std::string& s) {
  if (s == "auto") return model::AttentionPath::kAuto;
  if (s == "naive") return model::AttentionPath::kNaive;
  if (s == "absorbed") return model::AttentionPath::kAbsorbed;
  return InvalidArgument("--attention must be auto, naive or absorbed, not '{}'", s);
}

struct Flags {
  std::string model, ids, out, attention = "auto", kv_type = "f32", dump;
  int gen = 0, chunk = 0, threads = DefaultThreadCount(), ctx = 0;
  bool exact = false;
};

Status Run(const Flags& f) {
  FRUGAL_ASSIGN_OR_RETURN(std::vector<int32_t> ids, ParseIds(f.ids));
  FRUGAL_ASSIGN_OR_RETURN(model::AttentionPath path, ParsePath(f.attention));
  FRUGAL_ASSIGN_OR_RETURN(model::KvDtype kv_type, model::KvDtypeFromName(f.kv_type));
  FRUGAL_ASSIGN_OR_RETURN(auto m, model::LoadModel(f.model));
  const int n = static_cast<int>(ids.size());
  const int ctx = f.ctx > 0 ? f.ctx : n + f.gen;
  model::LatentCache cache(m->config.n_layers, ctx, m->config.mla.latent_width(), kv_type);
  model::Transformer tf(m->config, m->weights);
  ThreadPool pool(f.threads);
  std::unique_ptr<model::NpyDirectorySink> sink;
  if (!f.dump.empty()) sink = std::make_unique<model::NpyDirectorySink>(f.dump);
  const int chunk = f.chunk > 0 && !sink ? f.chunk : n;
  std::vector<float> all, logits;
  for (int pos = 0; pos < n; pos += chunk) {
    const int len = std::min(chunk, n - pos);
    model::ForwardOptions o{.attention = path, .all_logits = true, .exact = f.exact, .sink = sink.get()};
    FRUGAL_RETURN_IF_ERROR(tf.Forward(std::span(ids).subspan(pos, len), pos, cache, o, pool, &logits));
    all.insert(all.end(), logits.begin(), logits.end());
  }
  if (sink) FRUGAL_RETURN_IF_ERROR(sink->status());
  if (!f.out.empty()) {
    std::FILE* fp = std::fopen(f.out.c_str(), "wb");
    if (fp == nullptr) return IoError("cannot create '{}'", f.out);
    const bool ok = std::fwrite(all.data(), sizeof(float), all.size(), fp) == all.size();
    if (std::fclose(fp) != 0 || !ok) return IoError("write to '{}' failed", f.out);
  }
  const int v = m->config.vocab_size;
  std::vector<int32_t> generated;
  int32_t next = static_cast<int32_t>(std::max_element(all.end() - v, all.end()) - (all.end() - v));
  for (int i = 0; i < f.gen; ++i) {
    generated.push_back(next);
    if (i + 1 == f.gen) break;
    model::ForwardOptions o{.attention = path, .exact = f.exact};
    FRUGAL_RETURN_IF_ERROR(tf.Forward(std::span(&next, 1), n + i, cache, o, pool, &logits));
    next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  if (f.gen > 0) {
    std::string line;
    for (int32_t id : generated) line += (line.empty() ? "" : " ") + std::to_string(id);
    std::printf("%s\n", line.c_str());
  }
  return OkStatus();
}

}  // namespace

Command AddLogitsCommand(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("logits", "raw f32 logits for every input position (teacher forcing)");
  cmd->add_option("-m,--model", f->model, "GGUF file")->required();
  cmd->add_option("--ids", f->ids, "comma-separated token ids")->required();
  cmd->add_option("-o,--output", f->out, "output file: n_ids rows of vocab f32 values");
  cmd->add_option("--gen", f->gen, "print N greedy ids after the prompt");
  cmd->add_option("--chunk", f->chunk, "prefill in chunks of N tokens (default: all at once)");
  cmd->add_option("--attention", f->attention, "auto | naive | absorbed")->capture_default_str();
  cmd->add_option("--kv-type", f->kv_type, "latent cache type: f32 | f16 | bf16")->capture_default_str();
  cmd->add_option("--dump-tensors", f->dump, "write every intermediate tensor as DIR/<name>.npy");
  cmd->add_option("-c,--ctx-size", f->ctx, "context size (default: ids + gen)");
  cmd->add_option("-t,--threads", f->threads, "threads")->capture_default_str();
  cmd->add_flag("--exact", f->exact, "exact float kernels (no 8-bit activation rounding)");
  return {cmd, [f]() -> int {
    return ExitStatus(Run(*f));
  }};
}

}  // namespace frugal::app
