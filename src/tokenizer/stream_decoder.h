// Streaming detokenizer: turns generated token ids into text pieces that only ever contain whole
// UTF-8 characters, holding back the bytes of a character split across tokens.
// Thread-compatible (one per sequence).
#pragma once

#include <string>

#include "tokenizer/tokenizer.h"

namespace frugal::tokenizer {

class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}

  // Adds a token; returns the text completed by it (possibly empty).
  std::string Push(int32_t id);
  // Ends the stream: returns what is held back, invalid bytes as U+FFFD.
  std::string Flush();

 private:
  const Tokenizer& tokenizer_;
  std::string pending_;  // bytes of an incomplete character
};

}  // namespace frugal::tokenizer
