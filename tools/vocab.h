// Tokenizer vocabularies written into generated models as llama.cpp's `tokenizer.ggml.*` keys:
// a small synthetic byte-level BPE (tests), or the real DeepSeek-V3 tokenizer converted from
// Hugging Face files the way llama.cpp's convert_hf_to_gguf.py does. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/gguf_writer.h"
#include "util/status.h"

namespace frugal::tools {

// llama.cpp's token types.
enum TokenType : int32_t {
  kTokenNormal = 1,
  kTokenUnknown = 2,
  kTokenControl = 3,
  kTokenUserDefined = 4,
  kTokenUnused = 5,
  kTokenByte = 6,
};

struct Vocab {
  std::string model = "gpt2";
  std::string pre;  // pre-tokenizer name, e.g. "deepseek-v3"
  std::vector<std::string> tokens;
  std::vector<int32_t> token_types;
  std::vector<std::string> merges;  // "left right", by rank
  int32_t bos_id = 0;
  int32_t eos_id = 1;
  int32_t pad_id = 1;
  bool add_bos = true;
  bool add_eos = false;
  std::string chat_template;
};

// The DeepSeek-V3 chat template (tokenizer_config.json of deepseek-ai/DeepSeek-V3), used for
// synthetic vocabularies, which carry the same special tokens.
extern const char* const kDeepSeekV3ChatTemplate;

// A small, deterministic byte-level BPE vocabulary: 256 byte tokens, merges built from common
// English words, and the DeepSeek-V3 special tokens (BOS, EOS, User, Assistant, think).
Vocab MakeSyntheticVocab();
// Converts `<dir>/tokenizer.json` and `<dir>/tokenizer_config.json` (Hugging Face format)
// into a Vocab padded to vocab_size with "[PAD<i>]" unused tokens.
StatusOr<Vocab> ImportHfTokenizer(const std::string& dir, int vocab_size, const std::string& pre);
// Writes the tokenizer.ggml.* keys (and tokenizer.chat_template).
void WriteVocab(const Vocab& vocab, io::GgufWriter* writer);

}  // namespace frugal::tools
