#include "util/log.h"

#include <cstdio>
#include <string>

namespace frugal {

void LogMessage(LogLevel level, std::string_view message) {
  const char* prefix = level == LogLevel::kInfo ? "" : level == LogLevel::kWarning ? "warning: " : "error: ";
  std::string line = std::string(prefix) + std::string(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace frugal
