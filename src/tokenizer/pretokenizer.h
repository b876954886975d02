// Pre-tokenizers of the DeepSeek tokenizers, reproducing Hugging Face tokenizers' semantics:
// a Sequence of Split(regex, behavior = Isolated) — each regex splits every piece produced by
// the previous one into its matches and the text between them — with Unicode property classes
// and look-ahead, via PCRE2 (UTF + UCP, JIT). Thread-safe after creation: the compiled
// patterns are shared, match data is per call.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace frugal::tokenizer {

enum class PreTokenizerKind { kDeepSeekLlm, kDeepSeekV3, kDeepSeekCoder };

// Maps `tokenizer.ggml.pre` ("deepseek-llm", "deepseek-v3", "deepseek-coder") to a kind.
StatusOr<PreTokenizerKind> PreTokenizerFromName(const std::string& name);

class PreTokenizer {
 public:
  static StatusOr<std::unique_ptr<PreTokenizer>> Create(PreTokenizerKind kind);
  ~PreTokenizer();

  // Splits valid UTF-8 text into pieces (views into `text`), in order, covering all of it.
  void Split(std::string_view text, std::vector<std::string_view>* pieces) const;

 private:
  struct Regex;
  PreTokenizer() = default;
  std::vector<std::unique_ptr<Regex>> regexes_;  // in order of application
};

}  // namespace frugal::tokenizer
