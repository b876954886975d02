#include <set>

#include "tokenizer/byte_level.h"
#include "tools/vocab.h"

namespace frugal::tools {
namespace {

// Words whose BPE merges make up the synthetic vocabulary (with and without a leading space).
constexpr const char* kWords[] = {
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by",
    "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an",
    "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "model", "token", "expert",
    "memory", "cache", "hello", "world", "Hello", "The", "data", "time", "first", "new", "some",
    "what", "about", "into", "than", "them", "only", "other", "also", "its", "two", "may", "these",
    "int", "return", "void", "def", "class", "import", "self", "const", "std", "include",
};

constexpr const char* kSpecials[] = {
    "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>", "<｜User｜>",
    "<｜Assistant｜>", "<think>", "</think>",
};

// Adds the merges that build `word` left to right ("a b" → "ab", "ab c" → "abc", ...).
void AddWordMerges(const std::string& word, std::set<std::string>* known, Vocab* v) {
  std::vector<std::string> pieces;
  for (size_t i = 0; i < word.size();) {
    // Split the byte-level text into code points (UTF-8 sequences).
    size_t len = 1;
    const unsigned char c = static_cast<unsigned char>(word[i]);
    if (c >= 0xf0) len = 4; else if (c >= 0xe0) len = 3; else if (c >= 0xc0) len = 2;
    pieces.push_back(word.substr(i, len));
    i += len;
  }
  std::string acc = pieces[0];
  for (size_t i = 1; i < pieces.size(); ++i) {
    const std::string merged = acc + pieces[i];
    if (known->insert(merged).second) {
      v->merges.push_back(acc + " " + pieces[i]);
      v->tokens.push_back(merged);
      v->token_types.push_back(kTokenNormal);
    }
    acc = merged;
  }
}

}  // namespace

Vocab MakeSyntheticVocab() {
  Vocab v;
  v.pre = "deepseek-v3";
  v.chat_template = kDeepSeekV3ChatTemplate;
  std::set<std::string> known;
  // Specials first, so BOS = 0 and EOS = 1 as in DeepSeek-V3.
  for (const char* s : kSpecials) {
    v.tokens.push_back(s);
    v.token_types.push_back(kTokenControl);
    known.insert(s);
  }
  for (int b = 0; b < 256; ++b) {
    std::string t;
    tokenizer::AppendUtf8(tokenizer::ByteToCodePoint(static_cast<uint8_t>(b)), &t);
    v.tokens.push_back(t);
    v.token_types.push_back(kTokenNormal);
    known.insert(t);
  }
  for (const char* w : kWords) {
    AddWordMerges(tokenizer::BytesToByteLevel(w), &known, &v);
    AddWordMerges(tokenizer::BytesToByteLevel(std::string(" ") + w), &known, &v);
  }
  v.bos_id = 0;
  v.eos_id = 1;
  v.pad_id = 2;
  return v;
}

}  // namespace frugal::tools
