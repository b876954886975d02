#include "tokenizer/byte_level.h"

namespace frugal::tokenizer {
namespace {
// Bytes that are printable and not whitespace map to themselves (GPT-2's bytes_to_unicode).
bool MapsToItself(uint8_t b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174; }
}  // namespace

char32_t ByteToCodePoint(uint8_t b) {
  if (MapsToItself(b)) return b;
  // The others get 256, 257, ... in byte order.
  int n = 0;
  for (int x = 0; x < b; ++x) n += MapsToItself(static_cast<uint8_t>(x)) ? 0 : 1;
  return static_cast<char32_t>(256 + n);
}

std::optional<uint8_t> CodePointToByte(char32_t cp) {
  if (cp < 256 && MapsToItself(static_cast<uint8_t>(cp))) return static_cast<uint8_t>(cp);
  if (cp < 256 || cp >= 256 + 68) return std::nullopt;  // 68 bytes are remapped
  int n = static_cast<int>(cp - 256);
  for (int x = 0; x < 256; ++x) {
    if (MapsToItself(static_cast<uint8_t>(x))) continue;
    if (n-- == 0) return static_cast<uint8_t>(x);
  }
  return std::nullopt;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xc0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xe0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    *out += static_cast<char>(0xf0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

std::string BytesToByteLevel(std::string_view bytes) {
  std::string out;
  for (char c : bytes) AppendUtf8(ByteToCodePoint(static_cast<uint8_t>(c)), &out);
  return out;
}

}  // namespace frugal::tokenizer
