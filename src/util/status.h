// Status and StatusOr<T>: the return type of every operation that can fail for an expected
// reason (bad file, I/O error, bad request, exhausted budget). Bugs use check.h instead.
// Thread-compatible value types.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace frugal {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller (user, request, flag) gave something unusable
  kNotFound,           // file, key or tensor absent
  kOutOfRange,         // a value beyond a limit (context, budget)
  kDataLoss,           // a file is malformed or corrupt
  kIoError,            // the OS refused a read/write
  kUnimplemented,      // a valid input this build does not handle (yet)
  kResourceExhausted,  // a budget or queue is full
  kFailedPrecondition, // the state does not allow the operation
  kInternal,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "DataLoss: gguf: ..." — for logs and stderr.
  std::string ToString() const;
  // Returns a copy whose message is "context: message".
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }

template <typename... Args>
Status MakeStatus(StatusCode code, fmt::format_string<Args...> f, Args&&... args) {
  return Status(code, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status InvalidArgument(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kInvalidArgument, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status DataLoss(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kDataLoss, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status NotFound(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kNotFound, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status IoError(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kIoError, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status Unimplemented(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kUnimplemented, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status OutOfRange(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kOutOfRange, f, std::forward<Args>(args)...);
}

template <typename... Args>
Status ResourceExhausted(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kResourceExhausted, f, std::forward<Args>(args)...);
}

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : value_(std::move(status)) {}  // NOLINT: implicit by design
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(value_); }
  Status status() const { return ok() ? OkStatus() : std::get<Status>(value_); }
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> value_;
};

}  // namespace frugal

#define FRUGAL_CONCAT_INNER(a, b) a##b
#define FRUGAL_CONCAT(a, b) FRUGAL_CONCAT_INNER(a, b)

#define FRUGAL_RETURN_IF_ERROR(expr)             \
  do {                                           \
    ::frugal::Status frugal_status_ = (expr);    \
    if (!frugal_status_.ok()) return frugal_status_; \
  } while (0)

#define FRUGAL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#define FRUGAL_ASSIGN_OR_RETURN(lhs, expr) \
  FRUGAL_ASSIGN_OR_RETURN_IMPL(FRUGAL_CONCAT(frugal_or_, __LINE__), lhs, expr)
