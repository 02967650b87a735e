// Status and Result<T>: operating errors (I/O, malformed input, overload).
//
// Business outcomes (declines, insufficient funds) are NOT errors: they are
// values of a module's result-code enum. Programmer errors are assertions.
// A Status carries a code that tells the caller whether to retry, and a
// message for humans; the message is only allocated on the error path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/assert.h"

namespace tangelo::base {

// Codes map to retry semantics: kUnavailable and kResourceExhausted = retry
// the call later; kAborted = retry the transaction; the rest = do not retry.
enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument = 1,     // Malformed or out-of-range input.
  kNotFound = 2,            // The named object does not exist (or is not yours).
  kAlreadyExists = 3,
  kFailedPrecondition = 4,  // The system is not in a state that allows this.
  kResourceExhausted = 5,   // A limit was hit (queue full, rate limit): back off.
  kUnavailable = 6,         // Transient: retry later.
  kAborted = 7,
  kDeadlineExceeded = 8,
  kDataLoss = 9,            // Corruption detected: a checksum did not match.
  kIoError = 10,
  kInternal = 11,
  kOutOfRange = 12,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {
    TG_ASSERT(code != StatusCode::kOk);
  }
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "CODE_NAME: message", for logs and errors.
  std::string ToString() const;
  // Marks a deliberately ignored status.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}
inline Status NotFound(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message));
}
inline Status DataLoss(std::string message) {
  return Status(StatusCode::kDataLoss, std::move(message));
}
inline Status IoError(std::string message) {
  return Status(StatusCode::kIoError, std::move(message));
}
inline Status ResourceExhausted(std::string message) {
  return Status(StatusCode::kResourceExhausted, std::move(message));
}
inline Status FailedPrecondition(std::string message) {
  return Status(StatusCode::kFailedPrecondition, std::move(message));
}
inline Status Internal(std::string message) {
  return Status(StatusCode::kInternal, std::move(message));
}
inline Status Unavailable(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message));
}

// Result<T> holds either a value or a non-ok Status (the absl::StatusOr
// shape, so a later move to std::expected is mechanical).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design.
  Result(Status status) : state_(std::move(status)) {  // NOLINT
    TG_ASSERT_MSG(!std::get<Status>(state_).ok(), "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(state_);
  }
  T& value() & {
    TG_ASSERT_MSG(ok(), status().message().c_str());
    return std::get<T>(state_);
  }
  const T& value() const& {
    TG_ASSERT_MSG(ok(), status().message().c_str());
    return std::get<T>(state_);
  }
  T&& value() && {
    TG_ASSERT_MSG(ok(), status().message().c_str());
    return std::get<T>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> state_;
};

}  // namespace tangelo::base

// Returns early from the enclosing function when `expr` is not ok.
#define TG_RETURN_IF_ERROR(expr)                         \
  do {                                                   \
    ::tangelo::base::Status tg_status_ = (expr);         \
    if (!tg_status_.ok()) return tg_status_;             \
  } while (0)
