// Minimal logging to stderr. Messages are for people; machine-readable output goes to stdout
// through the command that produces it. Thread-safe (one fwrite per message).
#pragma once

#include <string_view>

#include <fmt/format.h>

namespace frugal {

enum class LogLevel { kInfo, kWarning, kError };

void LogMessage(LogLevel level, std::string_view message);

template <typename... Args>
void LogInfo(fmt::format_string<Args...> f, Args&&... args) {
  LogMessage(LogLevel::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogWarning(fmt::format_string<Args...> f, Args&&... args) {
  LogMessage(LogLevel::kWarning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogError(fmt::format_string<Args...> f, Args&&... args) {
  LogMessage(LogLevel::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace frugal
