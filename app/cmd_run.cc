// `frugal run`: generate from a prompt (-p) or chat interactively (--chat), streaming text and
// ending with prompt and generation speed, as llama.cpp's CLI does.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "app/commands.h"
#include "engine/sampler.h"
#include "engine/session.h"
#include "model/loaded_model.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "util/log.h"

namespace frugal::app {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string model, prompt, system, kv_type = "f16";
  bool chat = false, no_display_prompt = false, exact = false;
  int n_predict = 128, ctx = 4096, threads = DefaultThreadCount(), batch = 512;
  engine::SamplingParams sampling;
};

struct Timing {
  int prompt_tokens = 0, generated = 0;
  double prompt_s = 0, gen_s = 0;
};

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Feeds `prompt` (reusing the cached prefix) and streams up to n tokens; stops at EOS or the
// context limit (with a message, never an abort).
Status Generate(engine::Session& session, const tokenizer::Tokenizer& tok, const std::vector<int32_t>& prompt, int n,
                engine::Sampler& sampler, Timing* timing, std::string* reply) {
  const auto t0 = Clock::now();
  FRUGAL_ASSIGN_OR_RETURN(int computed, session.Feed(prompt));
  const auto t1 = Clock::now();
  timing->prompt_tokens += computed;
  timing->prompt_s += Seconds(t0, t1);
  tokenizer::StreamDecoder dec(tok);
  for (int i = 0; i < n; ++i) {
    const int32_t next = sampler.Sample(session.logits(), session.tokens());
    if (next == tok.eos_id()) break;
    const std::string piece = dec.Push(next);
    *reply += piece;
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    ++timing->generated;
    if (static_cast<int>(session.tokens().size()) >= session.context()) {
      std::fprintf(stderr, "\n[context limit of %d tokens reached; raise -c]\n", session.context());
      break;
    }
    FRUGAL_RETURN_IF_ERROR(session.Append(next));
  }
  const std::string rest = dec.Flush();
  *reply += rest;
  std::fwrite(rest.data(), 1, rest.size(), stdout);
  timing->gen_s += Seconds(t1, Clock::now());
  return OkStatus();
}

void PrintTiming(const Timing& t, const engine::Session& s) {
  std::fprintf(stderr, "\nprompt: %d tokens in %.2f s (%.2f tokens/s) | generation: %d tokens in %.2f s (%.2f tokens/s)\n",
               t.prompt_tokens, t.prompt_s, t.prompt_s > 0 ? t.prompt_tokens / t.prompt_s : 0.0, t.generated, t.gen_s,
               t.gen_s > 0 ? t.generated / t.gen_s : 0.0);
  std::fprintf(stderr, "KV cache: %d tokens max, %.2f MiB (latent only)\n", s.context(),
               static_cast<double>(s.cache_bytes()) / (1 << 20));
}

Status Chat(const Flags& f, engine::Session& session, const tokenizer::Tokenizer& tok, const io::GgufFile& file,
            engine::Sampler& sampler) {
  std::string jinja;
  if (file.Has("tokenizer.chat_template")) {
    FRUGAL_ASSIGN_OR_RETURN(jinja, file.GetString("tokenizer.chat_template"));
  }
  FRUGAL_ASSIGN_OR_RETURN(tokenizer::ChatTemplate tmpl, tokenizer::DetectChatTemplate(jinja));
  std::vector<tokenizer::ChatMessage> messages;
  if (!f.system.empty()) messages.push_back({"system", f.system, ""});
  const std::string bos = tok.bos_id() >= 0 ? tok.TokenText(tok.bos_id()) : "";
  const std::string eos = tok.eos_id() >= 0 ? tok.TokenText(tok.eos_id()) : "";
  Timing timing;
  std::string line;
  const bool tty = isatty(fileno(stdin));
  while (true) {
    if (tty) std::fprintf(stderr, "\n> ");
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    messages.push_back({"user", line, ""});
    const std::string text = tokenizer::RenderChat(tmpl, messages, true, bos, eos);
    const auto ids = tok.Encode(text, {.add_bos = false, .parse_special = true});
    std::string reply;
    FRUGAL_RETURN_IF_ERROR(Generate(session, tok, ids, f.n_predict, sampler, &timing, &reply));
    std::printf("\n");
    messages.push_back({"assistant", reply, ""});
  }
  PrintTiming(timing, session);
  return OkStatus();
}

Status Run(const Flags& f) {
  FRUGAL_RETURN_IF_ERROR(engine::ValidateSamplingParams(f.sampling));
  FRUGAL_ASSIGN_OR_RETURN(model::KvDtype kv, model::KvDtypeFromName(f.kv_type));
  FRUGAL_ASSIGN_OR_RETURN(auto m, model::LoadModel(f.model));
  FRUGAL_ASSIGN_OR_RETURN(auto tok, tokenizer::Tokenizer::FromGguf(m->file));
  if (f.ctx < 1) return InvalidArgument("-c must be positive");
  ThreadPool pool(f.threads);
  engine::Session session(*m, {.context = f.ctx, .kv_dtype = kv, .prefill_chunk = f.batch, .exact = f.exact}, pool);
  engine::Sampler sampler(f.sampling);
  if (f.chat) return Chat(f, session, *tok, m->file, sampler);
  const auto ids = tok->Encode(f.prompt);
  if (!f.no_display_prompt) std::printf("%s", f.prompt.c_str());
  Timing timing;
  std::string reply;
  FRUGAL_RETURN_IF_ERROR(Generate(session, *tok, ids, f.n_predict, sampler, &timing, &reply));
  std::printf("\n");
  PrintTiming(timing, session);
  return OkStatus();
}

}  // namespace

Command AddRunCommand(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("run", "generate text from a prompt, or chat");
  cmd->add_option("-m,--model", f->model, "GGUF file")->required();
  auto* p = cmd->add_option("-p,--prompt", f->prompt, "prompt text");
  auto* chat = cmd->add_flag("--chat", f->chat, "interactive chat with the model's template (stdin)");
  p->excludes(chat);
  cmd->add_option("--system", f->system, "system prompt (chat)");
  cmd->add_option("-n,--n-predict", f->n_predict, "tokens to generate")->capture_default_str();
  cmd->add_option("-c,--ctx-size", f->ctx, "context size")->capture_default_str();
  cmd->add_option("-b,--batch-size", f->batch, "prefill chunk")->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "threads")->capture_default_str();
  cmd->add_option("--kv-type", f->kv_type, "latent cache type: f16 | bf16 | f32")->capture_default_str();
  cmd->add_option("--temp", f->sampling.temperature, "temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", f->sampling.top_k, "top-k (0: off)")->capture_default_str();
  cmd->add_option("--top-p", f->sampling.top_p, "top-p (1: off)")->capture_default_str();
  cmd->add_option("--min-p", f->sampling.min_p, "min-p (0: off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", f->sampling.repeat_penalty, "repetition penalty (1: off)")->capture_default_str();
  cmd->add_option("--repeat-last-n", f->sampling.repeat_last_n, "penalty window")->capture_default_str();
  cmd->add_option("--presence-penalty", f->sampling.presence_penalty, "presence penalty")->capture_default_str();
  cmd->add_option("--frequency-penalty", f->sampling.frequency_penalty, "frequency penalty")->capture_default_str();
  cmd->add_option("-s,--seed", f->sampling.seed, "random seed")->capture_default_str();
  cmd->add_flag("--no-display-prompt", f->no_display_prompt, "do not echo the prompt");
  cmd->add_flag("--exact", f->exact, "exact float kernels (no 8-bit activation rounding)");
  return {cmd, [f]() -> int {
    if (!f->chat && f->prompt.empty()) {
      LogError("give a prompt (-p TEXT) or --chat");
      return 2;
    }
    return ExitStatus(Run(*f));
  }};
}

}  // namespace frugal::app
