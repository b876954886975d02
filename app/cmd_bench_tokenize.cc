// `frugal bench tokenize`: single-thread encode throughput (MB/s of UTF-8 input), median and
// spread over runs, per file — the same measure as tests/data/tokenizer/bench_js.mjs.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "app/bench_common.h"
#include "app/commands.h"
#include "io/file.h"
#include "tokenizer/tokenizer.h"
#include "util/log.h"

namespace frugal::app {
namespace {

struct Flags {
  std::string model;
  std::vector<std::string> files;
  int repetitions = 5;
};

Status Run(const Flags& f) {
  FRUGAL_ASSIGN_OR_RETURN(io::GgufFile file, io::OpenGguf(f.model));
  FRUGAL_ASSIGN_OR_RETURN(auto tok, tokenizer::Tokenizer::FromGguf(file));
  std::printf("| file | bytes | tokens | MB/s (median) | min..max | tokens/s |\n|---|---|---|---|---|---|\n");
  for (const std::string& path : f.files) {
    FRUGAL_ASSIGN_OR_RETURN(std::vector<std::byte> bytes, io::ReadWholeFile(path));
    const std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    size_t n_tokens = tok->Encode(text, {.add_bos = false}).size();  // warm-up
    std::vector<double> seconds;
    for (int r = 0; r < f.repetitions; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      n_tokens = tok->Encode(text, {.add_bos = false}).size();
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const Spread s = SpreadOf(seconds);
    const double mb = static_cast<double>(text.size()) / 1e6;
    std::printf("| %s | %zu | %zu | %.2f | %.2f..%.2f | %.0f |\n", path.c_str(), text.size(), n_tokens, mb / s.median,
                mb / s.max, mb / s.min, static_cast<double>(n_tokens) / s.median);
  }
  return OkStatus();
}

}  // namespace

void AddBenchTokenize(CLI::App& bench, std::vector<Command>* commands) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = bench.add_subcommand("tokenize", "tokenizer throughput (single thread)");
  cmd->add_option("-m,--model", f->model, "GGUF file with the tokenizer")->required();
  cmd->add_option("-f,--file", f->files, "text files")->required();
  cmd->add_option("-r,--repetitions", f->repetitions, "runs per file")->capture_default_str();
  commands->push_back({cmd, [f]() -> int {
    return ExitStatus(Run(*f));
  }});
}

}  // namespace frugal::app
