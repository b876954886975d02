// Unicode character classes used by the pre-tokenizer regexes, from a recent Unicode version
// (generated: tools/unicode/gen_unicode_classes.mjs). Pure data; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace frugal::tokenizer {

struct CodePointRange {
  uint32_t first, last;
};

enum class UnicodeClass { kLetter, kMark, kNumber, kPunctuation, kSymbol, kWhitespace };

std::span<const CodePointRange> RangesOf(UnicodeClass c);
// The ranges in PCRE2 character-class syntax ("\x{41}-\x{5a}..."), without brackets.
std::string ClassContents(UnicodeClass c);

}  // namespace frugal::tokenizer
