// GPT-2 byte-level mapping: every byte gets a printable code point so BPE vocabularies can be
// stored as text ("Ġ" is the space byte). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace frugal::tokenizer {

// The code point that stands for byte b.
char32_t ByteToCodePoint(uint8_t b);
// The byte a code point stands for, or nullopt if it stands for none.
std::optional<uint8_t> CodePointToByte(char32_t cp);
// Maps raw bytes to their byte-level text (UTF-8).
std::string BytesToByteLevel(std::string_view bytes);
// Appends the UTF-8 encoding of cp.
void AppendUtf8(char32_t cp, std::string* out);

}  // namespace frugal::tokenizer
