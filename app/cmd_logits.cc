// `frugal logits`: raw little-endian f32 logits, one row of vocab values per input position
// (teacher forcing), optionally in chunks, through a chosen attention path; `--gen N` prints N
// greedy ids after the prompt; `--dump-tensors DIR` writes every intermediate as .npy.
// `--batch FILE -o DIR` runs many sequences together (one id list per line): each forward step
// holds the next chunk (≤ --chunk tokens, default 1) of every unfinished sequence, and
// DIR/seq-K.f32 receives sequence K's logits for every position — so batched results can be
// checked against independent runs.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/commands.h"
#include "app/expert_flags.h"
#include "kv/sequence_cache.h"
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
  std::string model, ids, batch, out, attention = "auto", kv_type = "f32", dump;
  int gen = 0, chunk = 0, threads = DefaultThreadCount(), ctx = 0;
  bool exact = false;
  ExpertFlags experts;
};

// One sequence's cache (its blocks, and a DeepSeek-V4 file's tail state).
struct SequenceState {
  std::unique_ptr<kv::SequenceCache> cache;
  model::SequenceChunk Chunk(std::span<const int32_t> tokens, int pos0, model::LogitsWanted wanted) const {
    return {tokens, pos0, cache->View(), wanted, cache->v4_tail()};
  }
};

StatusOr<SequenceState> MakeState(const model::ModelConfig& c, int ctx, model::KvDtype kv_type) {
  SequenceState s;
  FRUGAL_ASSIGN_OR_RETURN(s.cache, kv::SequenceCache::Create(c, ctx, kv_type));
  return s;
}

Status WriteF32(const std::string& path, const std::vector<float>& values) {
  std::FILE* fp = std::fopen(path.c_str(), "wb");
  if (fp == nullptr) return IoError("cannot create '{}'", path);
  const bool ok = std::fwrite(values.data(), sizeof(float), values.size(), fp) == values.size();
  if (std::fclose(fp) != 0 || !ok) return IoError("write to '{}' failed", path);
  return OkStatus();
}

// --batch: the sequences advance together, a chunk of each unfinished one per step.
Status RunBatch(const Flags& f, const model::LoadedModel& m, model::AttentionPath path, model::KvDtype kv_type) {
  std::ifstream in(f.batch);
  if (!in) return IoError("cannot read '{}'", f.batch);
  std::vector<std::vector<int32_t>> seqs;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    FRUGAL_ASSIGN_OR_RETURN(std::vector<int32_t> ids, ParseIds(line));
    seqs.push_back(std::move(ids));
  }
  if (seqs.empty()) return InvalidArgument("--batch: '{}' holds no sequence", f.batch);
  if (f.out.empty()) return InvalidArgument("--batch needs -o DIR");
  std::error_code ec;
  std::filesystem::create_directories(f.out, ec);
  if (ec) return IoError("cannot create '{}': {}", f.out, ec.message());
  std::vector<SequenceState> caches;
  for (const auto& ids : seqs) {
    FRUGAL_ASSIGN_OR_RETURN(SequenceState c, MakeState(m.config, static_cast<int>(ids.size()), kv_type));
    caches.push_back(std::move(c));
  }
  const model::Transformer tf(m);
  ThreadPool pool(f.threads);
  const size_t chunk = static_cast<size_t>(f.chunk > 0 ? f.chunk : 1), v = static_cast<size_t>(m.config.vocab_size);
  std::vector<std::vector<float>> out(seqs.size());
  std::vector<size_t> done(seqs.size(), 0);
  std::vector<float> logits;
  for (;;) {
    std::vector<model::SequenceChunk> step;
    std::vector<size_t> members;
    for (size_t k = 0; k < seqs.size(); ++k) {
      if (done[k] == seqs[k].size()) continue;
      const size_t len = std::min(chunk, seqs[k].size() - done[k]);
      step.push_back(caches[k].Chunk(std::span(seqs[k]).subspan(done[k], len), static_cast<int>(done[k]), model::LogitsWanted::kAll));
      members.push_back(k);
    }
    if (step.empty()) break;
    FRUGAL_RETURN_IF_ERROR(tf.Forward(step, {.attention = path, .exact = f.exact}, pool, &logits));
    size_t row = 0;
    for (size_t i = 0; i < step.size(); ++i) {
      const size_t k = members[i], len = step[i].tokens.size();
      out[k].insert(out[k].end(), logits.begin() + static_cast<long>(row * v), logits.begin() + static_cast<long>((row + len) * v));
      row += len;
      done[k] += len;
    }
  }
  for (size_t k = 0; k < seqs.size(); ++k) FRUGAL_RETURN_IF_ERROR(WriteF32(fmt::format("{}/seq-{}.f32", f.out, k), out[k]));
  return OkStatus();
}

Status Run(const Flags& f) {
  FRUGAL_ASSIGN_OR_RETURN(model::AttentionPath path, ParsePath(f.attention));
  FRUGAL_ASSIGN_OR_RETURN(model::KvDtype kv_type, model::KvDtypeFromName(f.kv_type));
  if (!f.batch.empty()) {
    if (!f.ids.empty() || f.gen > 0 || !f.dump.empty()) return InvalidArgument("--batch takes neither --ids, --gen nor --dump-tensors");
    FRUGAL_ASSIGN_OR_RETURN(auto m, model::LoadModel(f.model, LoadOptionsFor(f.experts)));
    FRUGAL_ASSIGN_OR_RETURN(ExpertSetup experts, SetUpExperts(m.get(), f.experts));
    FRUGAL_RETURN_IF_ERROR(RunBatch(f, *m, path, kv_type));
    return experts.Finish();
  }
  if (f.ids.empty()) return InvalidArgument("give --ids or --batch");
  FRUGAL_ASSIGN_OR_RETURN(std::vector<int32_t> ids, ParseIds(f.ids));
  FRUGAL_ASSIGN_OR_RETURN(auto m, model::LoadModel(f.model, LoadOptionsFor(f.experts)));
  FRUGAL_ASSIGN_OR_RETURN(ExpertSetup experts, SetUpExperts(m.get(), f.experts));
  const int n = static_cast<int>(ids.size());
  const int ctx = f.ctx > 0 ? f.ctx : n + f.gen;
  FRUGAL_ASSIGN_OR_RETURN(SequenceState cache, MakeState(m->config, ctx, kv_type));
  model::Transformer tf(*m);
  ThreadPool pool(f.threads);
  std::unique_ptr<model::NpyDirectorySink> sink;
  if (!f.dump.empty()) sink = std::make_unique<model::NpyDirectorySink>(f.dump);
  const int chunk = f.chunk > 0 && !sink ? f.chunk : n;
  std::vector<float> all, logits;
  for (int pos = 0; pos < n; pos += chunk) {
    const int len = std::min(chunk, n - pos);
    const model::SequenceChunk c =
        cache.Chunk(std::span(ids).subspan(static_cast<size_t>(pos), static_cast<size_t>(len)), pos, model::LogitsWanted::kAll);
    model::ForwardOptions o{.attention = path, .exact = f.exact, .sink = sink.get()};
    FRUGAL_RETURN_IF_ERROR(tf.Forward(std::span(&c, 1), o, pool, &logits));
    all.insert(all.end(), logits.begin(), logits.end());
  }
  if (sink) FRUGAL_RETURN_IF_ERROR(sink->status());
  if (!f.out.empty()) FRUGAL_RETURN_IF_ERROR(WriteF32(f.out, all));
  const int v = m->config.vocab_size;
  std::vector<int32_t> generated;
  int32_t next = static_cast<int32_t>(std::max_element(all.end() - v, all.end()) - (all.end() - v));
  for (int i = 0; i < f.gen; ++i) {
    generated.push_back(next);
    if (i + 1 == f.gen) break;
    model::ForwardOptions o{.attention = path, .exact = f.exact};
    const model::SequenceChunk c = cache.Chunk(std::span(&next, 1), n + i, model::LogitsWanted::kLast);
    FRUGAL_RETURN_IF_ERROR(tf.Forward(std::span(&c, 1), o, pool, &logits));
    next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  if (f.gen > 0) {
    std::string line;
    for (int32_t id : generated) line += (line.empty() ? "" : " ") + std::to_string(id);
    std::printf("%s\n", line.c_str());
  }
  return experts.Finish();
}

}  // namespace

Command AddLogitsCommand(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("logits", "raw f32 logits for every input position (teacher forcing)");
  cmd->add_option("-m,--model", f->model, "GGUF file")->required();
  cmd->add_option("--ids", f->ids, "comma-separated token ids");
  cmd->add_option("--batch", f->batch, "file with one comma-separated id list per line: run them together");
  cmd->add_option("-o,--output", f->out, "output file: n_ids rows of vocab f32 values (--batch: a directory)");
  cmd->add_option("--gen", f->gen, "print N greedy ids after the prompt");
  cmd->add_option("--chunk", f->chunk, "prefill in chunks of N tokens (default: all at once; --batch: 1)");
  cmd->add_option("--attention", f->attention, "auto | naive | absorbed")->capture_default_str();
  cmd->add_option("--kv-type", f->kv_type, "latent cache type: f32 | f16 | bf16")->capture_default_str();
  cmd->add_option("--dump-tensors", f->dump, "write every intermediate tensor as DIR/<name>.npy");
  cmd->add_option("-c,--ctx-size", f->ctx, "context size (default: ids + gen)");
  cmd->add_option("-t,--threads", f->threads, "threads")->capture_default_str();
  cmd->add_flag("--exact", f->exact, "exact float kernels (no 8-bit activation rounding)");
  AddExpertFlags(cmd, &f->experts);
  return {cmd, [f]() -> int {
    return ExitStatus(Run(*f));
  }};
}

}  // namespace frugal::app
