// Byte-level BPE tokenizer built from a GGUF's `tokenizer.ggml.*` keys (model "gpt2"),
// reproducing Hugging Face tokenizers for the DeepSeek families: added/special tokens matched
// in the text first (leftmost, longest), then the pre-tokenizer's pieces, byte-level mapping and
// merges by rank. Immutable after loading; thread-safe.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/gguf_file.h"
#include "tokenizer/pretokenizer.h"

namespace frugal::tokenizer {

struct EncodeOptions {
  bool add_bos = true;        // prepend BOS when the model asks for it (tokenizer.ggml.add_bos_token)
  bool parse_special = true;  // match added/special tokens in the text (HF's default)
};

enum class TokenKind { kNormal, kControl, kUserDefined, kUnused, kByte, kUnknown };

class Tokenizer {
 public:
  static StatusOr<std::unique_ptr<Tokenizer>> FromGguf(const io::GgufFile& file);
  ~Tokenizer();

  std::vector<int32_t> Encode(std::string_view text, const EncodeOptions& options = {}) const;
  // The text of the tokens: byte-level tokens decoded to bytes, special tokens as written.
  // Invalid UTF-8 (from a partial sequence) is replaced with U+FFFD.
  std::string Decode(const std::vector<int32_t>& ids) const;
  // Raw bytes of one token (may be a partial UTF-8 sequence).
  std::string TokenBytes(int32_t id) const;
  const std::string& TokenText(int32_t id) const { return tokens_[static_cast<size_t>(id)]; }
  TokenKind Kind(int32_t id) const { return kinds_[static_cast<size_t>(id)]; }
  int32_t vocab_size() const { return static_cast<int32_t>(tokens_.size()); }
  int32_t bos_id() const { return bos_; }
  int32_t eos_id() const { return eos_; }
  bool add_bos() const { return add_bos_; }
  // Id of an exact token text, or -1.
  int32_t Find(std::string_view text) const;

 private:
  Tokenizer() = default;
  Status BuildMerges(const std::vector<std::string>& merges);
  // BPE over one pre-tokenized piece (raw bytes).
  void EncodePiece(std::string_view piece, std::vector<int32_t>* out) const;
  // Pre-tokenizer + BPE over text that holds no special token.
  void EncodeText(std::string_view text, std::vector<int32_t>* out) const;
  // The special token starting at text[pos] (longest), or -1.
  int32_t SpecialAt(std::string_view text, size_t pos, bool parse_control) const;

  std::vector<std::string> tokens_;
  std::vector<TokenKind> kinds_;
  std::unordered_map<std::string, int32_t> token_ids_;
  std::array<int32_t, 256> byte_token_{};  // token of each single byte
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (left, right) -> (rank, merged id)
  // CONTROL and USER_DEFINED tokens by their first byte, longest text first.
  std::array<std::vector<int32_t>, 256> specials_by_byte_;
  bool has_specials_ = false;
  std::unique_ptr<PreTokenizer> pre_;
  int32_t bos_ = -1, eos_ = -1;
  bool add_bos_ = false;
};

}  // namespace frugal::tokenizer
