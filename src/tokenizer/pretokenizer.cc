#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include <cstring>

#include "tokenizer/unicode_classes.h"

namespace frugal::tokenizer {
namespace {

// The Split regexes, in order (tokenizer.json of each model; identical to llama.cpp's
// LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_LLM / DEEPSEEK3_LLM / DEEPSEEK_CODER), written so that every
// \p{..} and \s stands inside a character class ("[\s]+(?![^\s])" is "\s+(?!\S)"): Expand()
// replaces them with the generated Unicode 17 ranges (unicode_classes.h).
const std::vector<std::string>& PatternsOf(PreTokenizerKind kind) {
  static const std::vector<std::string> kLlm = {
      "[\r\n]",
      "[\\s]?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ"
      "-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1f7dᾀ-ᾴᾶ-ᾼ\u1fbeῂ-ῄῆ-ῌ"
      "ῐ-\u1fd3ῖ-\u1fdbῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212a-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎ"
      "ↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ\U00010400-\U0001044f"
      "\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2"
      "\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943"
      "]+",
      "[\\s]?[!-/:-~！-／：-～‘-‟　-。]+",
      "[\\s]+$",
      "[一-龥ࠀ-一가-퟿]+",
      "[\\p{N}]+",
  };
  static const std::vector<std::string> kV3 = {
      "[\\p{N}]{1,3}",
      "[一-龥぀-ゟ゠-ヿ]+",
      "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
      "?[\\p{P}\\p{S}]+[\r\n]*|[\\s]*[\r\n]+|[\\s]+(?![^\\s])|[\\s]+",
  };
  static const std::vector<std::string> kCoder = {
      "[\r\n]", "[\\s]?[\\p{L}]+", "[\\s]?[\\p{P}]+", "[一-龥ࠀ-一가-퟿]+", "[\\p{N}]",
  };
  switch (kind) {
    case PreTokenizerKind::kDeepSeekLlm: return kLlm;
    case PreTokenizerKind::kDeepSeekV3: return kV3;
    case PreTokenizerKind::kDeepSeekCoder: return kCoder;
  }
  return kV3;
}

// Substitutes the class tokens with explicit code-point ranges.
std::string Expand(const std::string& pattern) {
  static const std::pair<const char*, UnicodeClass> kTokens[] = {
      {"\\p{L}", UnicodeClass::kLetter},      {"\\p{M}", UnicodeClass::kMark},
      {"\\p{N}", UnicodeClass::kNumber},      {"\\p{P}", UnicodeClass::kPunctuation},
      {"\\p{S}", UnicodeClass::kSymbol},      {"\\s", UnicodeClass::kWhitespace},
  };
  std::string out = pattern;
  for (const auto& [token, cls] : kTokens) {
    const std::string contents = ClassContents(cls);
    for (size_t p = out.find(token); p != std::string::npos; p = out.find(token, p + contents.size())) {
      out.replace(p, std::strlen(token), contents);
    }
  }
  return out;
}

}  // namespace

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() {
    if (code) pcre2_code_free(code);
  }
};

namespace {
struct MatchData {
  explicit MatchData(const pcre2_code* code) : data(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(data); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
  pcre2_match_data* data;
};
}  // namespace

StatusOr<PreTokenizerKind> PreTokenizerFromName(const std::string& name) {
  if (name == "deepseek-llm") return PreTokenizerKind::kDeepSeekLlm;
  if (name == "deepseek-v3") return PreTokenizerKind::kDeepSeekV3;
  if (name == "deepseek-coder") return PreTokenizerKind::kDeepSeekCoder;
  return Unimplemented("pre-tokenizer '{}' is not supported (frugal knows deepseek-llm, deepseek-v3, "
                       "deepseek-coder)", name);
}

PreTokenizer::~PreTokenizer() = default;

StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizer::Create(PreTokenizerKind kind) {
  std::unique_ptr<PreTokenizer> p(new PreTokenizer());
  for (const std::string& source : PatternsOf(kind)) {
    const std::string pattern = Expand(source);
    auto r = std::make_unique<Regex>();
    int err = 0;
    PCRE2_SIZE offset = 0;
    // UTF: code points, not bytes; UCP: \s, \d and classes follow Unicode properties.
    r->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                            PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &offset, nullptr);
    if (r->code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      return MakeStatus(StatusCode::kInternal, "pre-tokenizer regex failed to compile at {}: {}", offset,
                        reinterpret_cast<const char*>(msg));
    }
    pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is unavailable
    p->regexes_.push_back(std::move(r));
  }
  return p;
}

void PreTokenizer::Split(std::string_view text, std::vector<std::string_view>* pieces) const {
  pieces->clear();
  if (text.empty()) return;
  pieces->push_back(text);
  std::vector<std::string_view> next;
  for (const auto& r : regexes_) {
    next.clear();
    MatchData md(r->code);
    for (std::string_view piece : *pieces) {
      size_t pos = 0, last = 0;
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      while (pos <= piece.size()) {
        const int rc = pcre2_match(r->code, subject, piece.size(), pos, PCRE2_NO_UTF_CHECK, md.data, nullptr);
        if (rc < 0) break;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.data);
        const size_t start = ov[0], end = ov[1];
        if (end == start) {  // empty match: none of these patterns should produce one; skip a char
          pos = start + 1;
          while (pos < piece.size() && (static_cast<unsigned char>(piece[pos]) & 0xc0) == 0x80) ++pos;
          continue;
        }
        if (start > last) next.push_back(piece.substr(last, start - last));  // text between matches
        next.push_back(piece.substr(start, end - start));                  // the match (isolated)
        last = pos = end;
      }
      if (last < piece.size()) next.push_back(piece.substr(last));
    }
    pieces->swap(next);
  }
}

}  // namespace frugal::tokenizer
