#include "util/check.h"

#include <cstdio>
#include <cstdlib>

namespace frugal::internal {

void CheckFailed(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: %s failed\n", file, line, what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace frugal::internal
