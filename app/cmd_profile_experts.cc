// `frugal profile-experts -m MODEL -f PROMPTS -o PROFILE`: runs each prompt (one per line of
// PROMPTS) and a short greedy continuation, all together through the engine, and writes how
// often each expert (layer, id) was routed to — the hot set the `pinned` expert policy keeps.
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "app/commands.h"
#include "engine/engine.h"
#include "experts/expert_profile.h"
#include "model/loaded_model.h"
#include "tokenizer/tokenizer.h"

namespace frugal::app {
namespace {

struct Flags {
  std::string model, prompts, out;
  int n_predict = 32, threads = DefaultThreadCount(), ctx = 4096;
};

Status Run(const Flags& f) {
  std::ifstream in(f.prompts);
  if (!in) return IoError("cannot open prompts file '{}'", f.prompts);
  std::vector<std::string> prompts;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) prompts.push_back(line);
  }
  if (prompts.empty()) return InvalidArgument("'{}' holds no prompts (one per line)", f.prompts);
  if (f.n_predict < 0 || f.ctx < 2) return InvalidArgument("-n must be ≥ 0 and -c ≥ 2");
  FRUGAL_ASSIGN_OR_RETURN(auto m, model::LoadModel(f.model));
  if (m->config.moe.n_experts == 0) return InvalidArgument("'{}' has no routed experts", f.model);
  FRUGAL_ASSIGN_OR_RETURN(auto tok, tokenizer::Tokenizer::FromGguf(m->file));
  experts::ExpertProfile profile(m->config.n_layers, m->config.moe.n_experts);
  m->routing = &profile;
  ThreadPool pool(f.threads);
  const engine::EngineOptions o{.context = f.ctx, .kv_budget = 0};
  FRUGAL_ASSIGN_OR_RETURN(auto engine, engine::Engine::Create(*m, tok.get(), o, pool));
  int64_t tokens = 0;
  size_t next = 0;
  std::vector<engine::GenerationEvent> events;
  // At most 8 prompts at a time: steps of many sequences, memory of few.
  while (next < prompts.size() || !engine->idle()) {
    while (next < prompts.size() && engine->active() < 8) {
      engine::GenerationRequest r;
      r.prompt = tok->Encode(prompts[next]);
      if (static_cast<int>(r.prompt.size()) >= f.ctx) r.prompt.resize(static_cast<size_t>(f.ctx - 1));
      r.max_tokens = std::max(1, std::min(f.n_predict, f.ctx - static_cast<int>(r.prompt.size())));
      r.sampling.temperature = 0;
      tokens += static_cast<int64_t>(r.prompt.size());
      FRUGAL_RETURN_IF_ERROR(engine->Submit(std::move(r)).status());
      ++next;
    }
    events.clear();
    FRUGAL_RETURN_IF_ERROR(engine->Step(&events));
    for (const auto& ev : events) {
      if (ev.token >= 0) ++tokens;
      if (ev.finish == engine::FinishReason::kError) return ev.error;
    }
  }
  FRUGAL_RETURN_IF_ERROR(profile.Write(f.out));
  // How concentrated routing is: the share of routings the hottest quarter of experts took.
  const auto hot = profile.Hottest();
  uint64_t total = 0, top = 0;
  for (const auto& k : hot) total += profile.count(k.layer, k.id);
  const size_t quarter = static_cast<size_t>(m->config.n_moe_layers()) * static_cast<size_t>(m->config.moe.n_experts) / 4;
  for (size_t i = 0; i < hot.size() && i < quarter; ++i) top += profile.count(hot[i].layer, hot[i].id);
  std::fprintf(stderr, "%zu prompts, %lld tokens: %llu routings; the hottest 25%% of experts took %.1f%% of them -> %s\n",
               prompts.size(), static_cast<long long>(tokens), static_cast<unsigned long long>(total),
               total ? 100.0 * static_cast<double>(top) / static_cast<double>(total) : 0.0, f.out.c_str());
  return OkStatus();
}

}  // namespace

Command AddProfileExpertsCommand(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("profile-experts", "count how often each routed expert is used over a set of prompts");
  cmd->add_option("-m,--model", f->model, "GGUF file")->required();
  cmd->add_option("-f,--file", f->prompts, "prompts, one per line")->required();
  cmd->add_option("-o,--output", f->out, "routing profile to write")->required();
  cmd->add_option("-n,--n-predict", f->n_predict, "greedy tokens generated after each prompt")->capture_default_str();
  cmd->add_option("-c,--ctx-size", f->ctx, "context per prompt")->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "threads")->capture_default_str();
  return {cmd, [f]() -> int { return ExitStatus(Run(*f)); }};
}

}  // namespace frugal::app
