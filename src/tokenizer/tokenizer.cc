#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <queue>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace frugal::tokenizer {
namespace {

constexpr size_t kMaxVocab = 1 << 24;

uint64_t PairKey(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

TokenKind KindOf(int64_t type) {
  switch (type) {
    case 2: return TokenKind::kUnknown;
    case 3: return TokenKind::kControl;
    case 4: return TokenKind::kUserDefined;
    case 5: return TokenKind::kUnused;
    case 6: return TokenKind::kByte;
    default: return TokenKind::kNormal;
  }
}

StatusOr<int32_t> OptionalId(const io::GgufFile& f, const std::string& key, int32_t n) {
  if (!f.Has(key)) return -1;
  FRUGAL_ASSIGN_OR_RETURN(int64_t id, f.GetInt(key));
  if (id < 0 || id >= n) return DataLoss("{} = {} is outside the vocabulary of {} tokens", key, id, n);
  return static_cast<int32_t>(id);
}

}  // namespace

Tokenizer::~Tokenizer() = default;

Status Tokenizer::BuildMerges(const std::vector<std::string>& merges) {
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    const size_t sp = m.find(' ', 1);  // the left part is never empty; it may itself be " "-free
    if (sp == std::string::npos) return DataLoss("tokenizer.ggml.merges[{}] = '{}' has no space", rank, m);
    const auto left = token_ids_.find(m.substr(0, sp));
    const auto right = token_ids_.find(m.substr(sp + 1));
    const auto merged = token_ids_.find(m.substr(0, sp) + m.substr(sp + 1));
    // Merges whose parts or result are not tokens can never apply; skip them.
    if (left == token_ids_.end() || right == token_ids_.end() || merged == token_ids_.end()) continue;
    merges_.emplace(PairKey(left->second, right->second), std::make_pair(static_cast<int32_t>(rank), merged->second));
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromGguf(const io::GgufFile& f) {
  FRUGAL_ASSIGN_OR_RETURN(std::string model, f.GetString("tokenizer.ggml.model"));
  if (model != "gpt2") return Unimplemented("tokenizer model '{}' is not supported (frugal reads byte-level BPE, 'gpt2')", model);
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  FRUGAL_ASSIGN_OR_RETURN(t->tokens_, f.GetStringArray("tokenizer.ggml.tokens"));
  const size_t n = t->tokens_.size();
  if (n == 0 || n > kMaxVocab) return DataLoss("tokenizer.ggml.tokens has {} entries", n);
  std::vector<int64_t> types(n, 1);
  if (f.Has("tokenizer.ggml.token_type")) {
    FRUGAL_ASSIGN_OR_RETURN(types, f.GetIntArray("tokenizer.ggml.token_type"));
    if (types.size() != n) return DataLoss("tokenizer.ggml.token_type has {} entries for {} tokens", types.size(), n);
  }
  for (size_t i = 0; i < n; ++i) {
    t->kinds_.push_back(KindOf(types[i]));
    t->token_ids_.emplace(t->tokens_[i], static_cast<int32_t>(i));  // first id wins on duplicates
    if ((t->kinds_[i] == TokenKind::kControl || t->kinds_[i] == TokenKind::kUserDefined) && !t->tokens_[i].empty()) {
      t->specials_by_byte_[static_cast<uint8_t>(t->tokens_[i][0])].push_back(static_cast<int32_t>(i));
      t->has_specials_ = true;
    }
  }
  for (auto& list : t->specials_by_byte_) {
    std::stable_sort(list.begin(), list.end(), [&](int32_t a, int32_t b) { return t->tokens_[a].size() > t->tokens_[b].size(); });
  }
  for (int b = 0; b < 256; ++b) {
    std::string s;
    AppendUtf8(ByteToCodePoint(static_cast<uint8_t>(b)), &s);
    const auto it = t->token_ids_.find(s);
    if (it == t->token_ids_.end()) return DataLoss("the vocabulary lacks the byte-level token for byte 0x{:02x}", b);
    t->byte_token_[b] = it->second;
  }
  FRUGAL_ASSIGN_OR_RETURN(std::vector<std::string> merges, f.GetStringArray("tokenizer.ggml.merges"));
  FRUGAL_RETURN_IF_ERROR(t->BuildMerges(merges));
  std::string pre = "deepseek-v3";
  if (f.Has("tokenizer.ggml.pre")) {
    FRUGAL_ASSIGN_OR_RETURN(pre, f.GetString("tokenizer.ggml.pre"));
  }
  FRUGAL_ASSIGN_OR_RETURN(PreTokenizerKind kind, PreTokenizerFromName(pre));
  FRUGAL_ASSIGN_OR_RETURN(t->pre_, PreTokenizer::Create(kind));
  const int32_t vocab = static_cast<int32_t>(n);
  FRUGAL_ASSIGN_OR_RETURN(t->bos_, OptionalId(f, "tokenizer.ggml.bos_token_id", vocab));
  FRUGAL_ASSIGN_OR_RETURN(t->eos_, OptionalId(f, "tokenizer.ggml.eos_token_id", vocab));
  if (f.Has("tokenizer.ggml.add_bos_token")) {
    FRUGAL_ASSIGN_OR_RETURN(t->add_bos_, f.GetBool("tokenizer.ggml.add_bos_token"));
  }
  return t;
}

int32_t Tokenizer::Find(std::string_view text) const {
  const auto it = token_ids_.find(std::string(text));
  return it == token_ids_.end() ? -1 : it->second;
}

void Tokenizer::EncodePiece(std::string_view piece, std::vector<int32_t>* out) const {
  struct Symbol {
    int32_t id;
    int prev, next;
  };
  std::vector<Symbol> syms(piece.size());
  for (size_t i = 0; i < piece.size(); ++i) {
    syms[i] = {byte_token_[static_cast<uint8_t>(piece[i])], static_cast<int>(i) - 1,
               i + 1 < piece.size() ? static_cast<int>(i) + 1 : -1};
  }
  struct Candidate {
    int32_t rank;
    int left;
    int32_t left_id, right_id;  // to detect stale entries
    bool operator<(const Candidate& o) const { return rank > o.rank || (rank == o.rank && left > o.left); }
  };
  std::priority_queue<Candidate> queue;  // lowest rank first, then leftmost (HF's order)
  auto consider = [&](int left) {
    if (left < 0 || syms[left].next < 0) return;
    const int right = syms[left].next;
    const auto it = merges_.find(PairKey(syms[left].id, syms[right].id));
    if (it != merges_.end()) queue.push({it->second.first, left, syms[left].id, syms[right].id});
  };
  for (size_t i = 0; i + 1 < piece.size(); ++i) consider(static_cast<int>(i));
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = syms[c.left];
    if (l.id != c.left_id || l.next < 0 || syms[l.next].id != c.right_id) continue;  // stale
    const int right = l.next;
    l.id = merges_.at(PairKey(c.left_id, c.right_id)).second;
    l.next = syms[right].next;
    if (l.next >= 0) syms[l.next].prev = c.left;
    syms[right].id = -1;
    consider(l.prev);
    consider(c.left);
  }
  for (int i = piece.empty() ? -1 : 0; i >= 0; i = syms[i].next) out->push_back(syms[i].id);
}

void Tokenizer::EncodeText(std::string_view text, std::vector<int32_t>* out) const {
  std::vector<std::string_view> pieces;
  pre_->Split(text, &pieces);
  for (std::string_view p : pieces) EncodePiece(p, out);
}

int32_t Tokenizer::SpecialAt(std::string_view text, size_t pos, bool parse_control) const {
  for (int32_t id : specials_by_byte_[static_cast<uint8_t>(text[pos])]) {  // longest first
    if (!parse_control && kinds_[id] == TokenKind::kControl) continue;
    const std::string& s = tokens_[id];
    if (text.compare(pos, s.size(), s) == 0) return id;
  }
  return -1;
}

std::vector<int32_t> Tokenizer::Encode(std::string_view raw, const EncodeOptions& o) const {
  std::vector<int32_t> out;
  if (o.add_bos && add_bos_ && bos_ >= 0) out.push_back(bos_);
  const std::string text = IsValidUtf8(raw) ? std::string(raw) : SanitizeUtf8(raw);
  size_t start = 0;  // beginning of the text not yet encoded
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!has_specials_) break;
    const int32_t id = SpecialAt(text, pos, o.parse_special);
    if (id < 0) continue;
    EncodeText(std::string_view(text).substr(start, pos - start), &out);
    out.push_back(id);
    pos += tokens_[id].size() - 1;
    start = pos + 1;
  }
  if (start < text.size()) EncodeText(std::string_view(text).substr(start), &out);
  return out;
}

std::string Tokenizer::TokenBytes(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return {};
  const std::string& t = tokens_[id];
  switch (kinds_[id]) {
    case TokenKind::kControl:
    case TokenKind::kUserDefined:
      return t;
    case TokenKind::kUnused:
      return {};
    default:
      break;
  }
  std::string out;
  for (size_t i = 0; i < t.size();) {  // byte-level text: each code point stands for a byte
    const auto c = static_cast<unsigned char>(t[i]);
    const size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    char32_t cp = len == 1 ? c : c & (0xff >> (len + 1));
    for (size_t k = 1; k < len && i + k < t.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(t[i + k]) & 0x3f);
    const auto b = CodePointToByte(cp);
    if (b) {
      out += static_cast<char>(*b);
    } else {
      out.append(t, i, len);  // not a byte-level character: keep the text
    }
    i += len;
  }
  return out;
}

std::string Tokenizer::Decode(const std::vector<int32_t>& ids) const {
  std::string bytes;
  for (int32_t id : ids) bytes += TokenBytes(id);
  return SanitizeUtf8(bytes);
}

}  // namespace frugal::tokenizer
