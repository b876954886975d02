#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "io/gguf_file.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace frugal::tokenizer {
namespace {

const std::string kShared = FRUGAL_SHARED_DIR;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SplitOn(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t p; (p = s.find(sep, start)) != std::string::npos; start = p + sep.size()) out.push_back(s.substr(start, p - start));
  out.push_back(s.substr(start));
  return out;
}

class DeepSeekLlmFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = io::OpenGguf(kShared + "/fixtures/ds2-tiny-mixq.gguf");
    if (!f.ok()) GTEST_SKIP() << "../shared/fixtures absent";
    file_ = std::make_unique<io::GgufFile>(std::move(f).value());
    auto t = Tokenizer::FromGguf(*file_);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tok_ = std::move(t).value();
  }
  std::unique_ptr<io::GgufFile> file_;
  std::unique_ptr<Tokenizer> tok_;
};

// llama.cpp's test vectors for the DeepSeek-LLM tokenizer (expected ids from HF tokenizers).
TEST_F(DeepSeekLlmFixture, MatchesEveryTestVector) {
  std::vector<std::string> texts = SplitOn(ReadText(kShared + "/fixtures/tokenizer-deepseek-llm.inp"), "\n__ggml_vocab_test__\n");
  if (!texts.back().empty() && texts.back().back() == '\n') texts.back().pop_back();
  const std::vector<std::string> lines = SplitOn(ReadText(kShared + "/fixtures/tokenizer-deepseek-llm.out"), "\n");
  ASSERT_GE(lines.size(), texts.size());
  ASSERT_GE(texts.size(), 40u);
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<int32_t> expected;
    std::istringstream ss(lines[i]);
    for (int32_t id; ss >> id;) expected.push_back(id);
    const auto ids = tok_->Encode(texts[i], {.add_bos = false});
    EXPECT_EQ(ids, expected) << "text #" << i << ": '" << texts[i] << "'";
    EXPECT_EQ(tok_->Decode(ids), texts[i]) << "round trip #" << i;
  }
}

TEST_F(DeepSeekLlmFixture, BosSpecialTokensAndInvalidUtf8) {
  const auto with_bos = tok_->Encode("Hello world");
  ASSERT_EQ(with_bos.size(), 3u);
  EXPECT_EQ(with_bos[0], 100000);  // tokenizer.ggml.add_bos_token = true
  const std::string bos = tok_->TokenText(100000);
  EXPECT_EQ(tok_->Encode(bos + "Hi", {.add_bos = false})[0], 100000);
  const auto as_text = tok_->Encode(bos, {.add_bos = false, .parse_special = false});
  EXPECT_GT(as_text.size(), 1u);
  EXPECT_EQ(tok_->Decode(as_text), bos);
  const auto bad = tok_->Encode("a\xff\xfe b\xe4", {.add_bos = false});
  EXPECT_EQ(tok_->Decode(bad), "a\xef\xbf\xbd\xef\xbf\xbd b\xef\xbf\xbd");
}

TEST_F(DeepSeekLlmFixture, StreamingNeverSplitsACharacter) {
  const std::string text = "🦙 héllo 中文 ½ 👍🏽 done";
  const auto ids = tok_->Encode(text, {.add_bos = false});
  StreamDecoder dec(*tok_);
  std::string joined;
  for (int32_t id : ids) {
    const std::string piece = dec.Push(id);
    EXPECT_TRUE(IsValidUtf8(piece)) << "piece of token " << id;
    joined += piece;
  }
  joined += dec.Flush();
  EXPECT_EQ(joined, text);
}

TEST(Utf8Test, SanitizeAndCompletePrefix) {
  EXPECT_EQ(SanitizeUtf8("ok\xc3"), "ok\xef\xbf\xbd");
  EXPECT_EQ(SanitizeUtf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  EXPECT_EQ(SanitizeUtf8("é"), "é");
  EXPECT_EQ(CompleteUtf8Prefix("ab\xe4\xb8"), 2u);  // 中 missing its last byte
  EXPECT_EQ(CompleteUtf8Prefix("ab\xe4\xb8\xad"), 5u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xf0\x9f"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xff"), 3u);  // never valid: emit (as U+FFFD)
}

const std::string kBos = "<｜begin▁of▁sentence｜>", kEos = "<｜end▁of▁sentence｜>";

TEST(ChatTemplateTest, DetectsTheFamilies) {
  EXPECT_EQ(DetectChatTemplate("{{'<｜User｜>' + c}}{{'<｜Assistant｜>'}}")->kind, ChatTemplateKind::kDeepSeekV3);
  auto r1 = DetectChatTemplate("{{'<｜User｜>'}}{% if '</think>' in content %}{{'<｜Assistant｜><think>\\n'}}");
  EXPECT_EQ(r1->kind, ChatTemplateKind::kDeepSeekR1);
  EXPECT_TRUE(r1->think_prefix);
  EXPECT_EQ(DetectChatTemplate("{{ 'Assistant: ' + message['content'] + eos_token }}")->kind, ChatTemplateKind::kDeepSeekV2);
  auto unknown = DetectChatTemplate("<|im_start|>user");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("DeepSeek V2, V3 and R1"), std::string::npos);
}

TEST(ChatTemplateTest, RendersLikeTheOfficialTemplates) {
  const std::vector<ChatMessage> conv = {{"system", "Be brief.", ""},
                                         {"user", "Hi", ""},
                                         {"assistant", "<think>greet</think>Hello!", ""},
                                         {"user", "2+2?", ""}};
  EXPECT_EQ(RenderChat({ChatTemplateKind::kDeepSeekV3, false}, conv, true, kBos, kEos),
            kBos + "Be brief.<｜User｜>Hi<｜Assistant｜><think>greet</think>Hello!" + kEos + "<｜User｜>2+2?<｜Assistant｜>");
  EXPECT_EQ(RenderChat({ChatTemplateKind::kDeepSeekR1, true}, conv, true, kBos, kEos),
            kBos + "Be brief.<｜User｜>Hi<｜Assistant｜>Hello!" + kEos + "<｜User｜>2+2?<｜Assistant｜><think>\n");
  EXPECT_EQ(RenderChat({ChatTemplateKind::kDeepSeekV2, false}, conv, true, kBos, kEos),
            kBos + "Be brief.\n\nUser: Hi\n\nAssistant: <think>greet</think>Hello!" + kEos + "User: 2+2?\n\nAssistant:");
  // Several system messages are joined by a blank line and come first (V3).
  EXPECT_EQ(RenderChat({}, {{"user", "x", ""}, {"system", "a", ""}, {"system", "b", ""}}, false, kBos, kEos),
            kBos + "a\n\nb<｜User｜>x");
  // Tool outputs (V3).
  EXPECT_EQ(RenderChat({}, {{"user", "q", ""}, {"tool", "42", ""}, {"tool", "43", ""}}, true, "", kEos),
            "<｜User｜>q<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>42<｜tool▁output▁end｜>\n<｜tool▁output▁begin｜>43"
            "<｜tool▁output▁end｜><｜tool▁outputs▁end｜>");
}

// A conversation's next prompt starts with the previous prompt (+ the reply): what the prefix
// cache and a kept conversation reuse. R1 is the exception the official template makes: the
// generation prompt's "<think>\n" is not in the next prompt (earlier reasoning is dropped), so
// the shared part ends just before it.
TEST(ChatTemplateTest, EachTurnExtendsThePreviousPrompt) {
  std::vector<ChatMessage> conv = {{"system", "Be brief.", ""}, {"user", "Hi", ""}};
  const std::vector<std::string> replies = {"Hello!", "Four.", "Yes, twice."};
  for (const ChatTemplate t : {ChatTemplate{ChatTemplateKind::kDeepSeekV3, false}, ChatTemplate{ChatTemplateKind::kDeepSeekV2, false},
                               ChatTemplate{ChatTemplateKind::kDeepSeekR1, true}}) {
    std::vector<ChatMessage> c = conv;
    for (const std::string& reply : replies) {
      std::string before = RenderChat(t, c, true, kBos, kEos);
      c.push_back({"assistant", reply, ""});
      c.push_back({"user", "and then?", ""});
      const std::string after = RenderChat(t, c, true, kBos, kEos);
      if (t.think_prefix) {
        ASSERT_TRUE(before.ends_with("<think>\n"));
        before.resize(before.size() - std::string("<think>\n").size());
      }
      EXPECT_TRUE(after.starts_with(before)) << static_cast<int>(t.kind) << ": " << before << " | " << after;
      EXPECT_TRUE(after.substr(before.size()).starts_with(t.kind == ChatTemplateKind::kDeepSeekV2 ? " " + reply : reply))
          << static_cast<int>(t.kind);
    }
  }
}

}  // namespace
}  // namespace frugal::tokenizer
