// Always-on invariant checks for bugs (never for bad input: use Status for that).
// On failure they print the condition, the operand values and the location, then abort.
// Thread-safe.
#pragma once

#include <fmt/format.h>

namespace frugal::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const std::string& what);
}  // namespace frugal::internal

#define FRUGAL_CHECK(cond)                                                        \
  do {                                                                            \
    if (!(cond)) ::frugal::internal::CheckFailed(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define FRUGAL_CHECK_OP(a, op, b)                                                     \
  do {                                                                                \
    const auto& frugal_a_ = (a);                                                      \
    const auto& frugal_b_ = (b);                                                      \
    if (!(frugal_a_ op frugal_b_))                                                    \
      ::frugal::internal::CheckFailed(                                                \
          __FILE__, __LINE__,                                                         \
          fmt::format("CHECK({} " #op " {}) with {} = {}, {} = {}", #a, #b, #a, frugal_a_, \
                      #b, frugal_b_));                                                \
  } while (0)

#define FRUGAL_CHECK_EQ(a, b) FRUGAL_CHECK_OP(a, ==, b)
#define FRUGAL_CHECK_NE(a, b) FRUGAL_CHECK_OP(a, !=, b)
#define FRUGAL_CHECK_LT(a, b) FRUGAL_CHECK_OP(a, <, b)
#define FRUGAL_CHECK_LE(a, b) FRUGAL_CHECK_OP(a, <=, b)
#define FRUGAL_CHECK_GT(a, b) FRUGAL_CHECK_OP(a, >, b)
#define FRUGAL_CHECK_GE(a, b) FRUGAL_CHECK_OP(a, >=, b)
