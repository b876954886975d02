#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "app/commands.h"
#include "util/log.h"

namespace frugal::app {

Status WriteTextFile(const std::string& path, const std::string& text) {
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) return IoError("cannot write {}: {}", path, std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), out) == text.size();
  if (std::fclose(out) != 0 || !written) return IoError("cannot write {}: {}", path, std::strerror(errno));
  return OkStatus();
}

int ExitStatus(const Status& status) {
  if (status.ok()) return 0;
  LogError("{}", status.ToString());
  return 1;
}

std::string DefaultTokenizerDir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("FRUGAL_TOKENIZER_DIR"); env != nullptr && *env) return env;
  const fs::path rel = fs::path("deps") / "tokenizer-deepseek_v3" / "models";
  std::error_code ec;
  if (fs::exists(rel / "tokenizer.json", ec)) return rel.string();
  // The executable lives in <repo>/build*/app/frugal; look two levels up.
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
      if (fs::exists(dir / rel / "tokenizer.json", ec)) return (dir / rel).string();
    }
  }
  return rel.string();
}

}  // namespace frugal::app
