// libFuzzer target: arbitrary bytes as text for the byte-level BPE tokenizer with each DeepSeek
// pre-tokenizer. Invariants: no crash; decode(encode(x)) == x after invalid UTF-8 is replaced
// with U+FFFD; the streaming decoder emits only valid UTF-8 and the same text.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "io/gguf_file.h"
#include "io/gguf_writer.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "tools/vocab.h"
#include "util/check.h"

namespace {

std::unique_ptr<frugal::tokenizer::Tokenizer> Make(const char* pre) {
  frugal::tools::Vocab v = frugal::tools::MakeSyntheticVocab();
  v.pre = pre;
  frugal::io::GgufWriter w;
  frugal::tools::WriteVocab(v, &w);
  std::vector<std::byte> bytes;
  auto out = frugal::io::NewMemoryWritableFile(&bytes);
  FRUGAL_CHECK(w.WriteHeader(*out).ok());
  auto file = frugal::io::ReadGguf(frugal::io::NewMemoryFile("vocab", std::move(bytes)));
  FRUGAL_CHECK(file.ok());
  auto tok = frugal::tokenizer::Tokenizer::FromGguf(*file);
  FRUGAL_CHECK(tok.ok());
  return std::move(tok).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Built once for the whole run (the fuzzer's process-wide state).
  static const auto* tokenizers = new std::unique_ptr<frugal::tokenizer::Tokenizer>[3]{
      Make("deepseek-v3"), Make("deepseek-llm"), Make("deepseek-coder")};
  if (size == 0) return 0;
  const auto& tok = tokenizers[data[0] % 3];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto ids = tok->Encode(text, {.add_bos = (data[0] & 4) != 0, .parse_special = (data[0] & 8) != 0});
  const std::string clean = frugal::tokenizer::SanitizeUtf8(text);
  std::string decoded;
  frugal::tokenizer::StreamDecoder stream(*tok);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i == 0 && (data[0] & 4) && ids[0] == tok->bos_id()) continue;
    const std::string piece = stream.Push(ids[i]);
    FRUGAL_CHECK(frugal::tokenizer::IsValidUtf8(piece));
    decoded += piece;
  }
  decoded += stream.Flush();
  FRUGAL_CHECK(decoded == clean);
  return 0;
}
