// UTF-8 helpers for the tokenizer: validation with U+FFFD replacement, and the length of the
// longest prefix made of complete characters (for streaming). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace frugal::tokenizer {

// Replaces every invalid or truncated sequence with U+FFFD (as llama.cpp does), so the regex
// engine always sees valid UTF-8.
std::string SanitizeUtf8(std::string_view text);
bool IsValidUtf8(std::string_view text);
// Length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence that could
// still be completed by more bytes. Invalid bytes count as complete (they will never become valid).
size_t CompleteUtf8Prefix(std::string_view bytes);

}  // namespace frugal::tokenizer
