// `frugal tokenize`: ids of a text (space-separated), or --json with each token's text.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "io/file.h"
#include "tokenizer/tokenizer.h"
#include "util/log.h"

namespace frugal::app {

Command AddTokenizeCommand(CLI::App& app) {
  struct Flags {
    std::string model, prompt, file;
    bool no_bos = false, no_special = false, json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("tokenize", "token ids of a text");
  cmd->add_option("-m,--model", f->model, "GGUF file")->required();
  auto* p = cmd->add_option("-p,--prompt", f->prompt, "text");
  auto* file = cmd->add_option("-f,--file", f->file, "read the text from a file");
  p->excludes(file);
  cmd->add_flag("--no-bos", f->no_bos, "do not add BOS");
  cmd->add_flag("--no-special", f->no_special, "leave special-token text as text");
  cmd->add_flag("--json", f->json, "JSON with each token's text");
  return {cmd, [f]() -> int {
    auto gguf = io::OpenGguf(f->model);
    if (!gguf.ok()) {
      LogError("{}", gguf.status().ToString());
      return 1;
    }
    auto tok = tokenizer::Tokenizer::FromGguf(*gguf);
    if (!tok.ok()) {
      LogError("{}", tok.status().ToString());
      return 1;
    }
    std::string text = f->prompt;
    if (!f->file.empty()) {
      auto bytes = io::ReadWholeFile(f->file);
      if (!bytes.ok()) {
        LogError("{}", bytes.status().ToString());
        return 1;
      }
      text.assign(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    }
    const auto ids = (*tok)->Encode(text, {.add_bos = !f->no_bos, .parse_special = !f->no_special});
    std::string out;
    if (f->json) {
      nlohmann::json j = nlohmann::json::array();
      for (int32_t id : ids) j.push_back({{"id", id}, {"piece", (*tok)->TokenBytes(id)}});
      out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
      for (int32_t id : ids) out += (out.empty() ? "" : " ") + std::to_string(id);
      out += "\n";
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }};
}

}  // namespace frugal::app
