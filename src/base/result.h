// Result<T>: a value or an Error, for failures caused by the environment or by untrusted input.
// Programming errors are asserts, not Results.
//
//   Result<int> parse(std::string_view s);
//   auto r = parse("42");
//   if (!r) log(r.error().message);
//   else use(*r);
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace stacksync {

struct Error {
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  explicit operator bool() const { return std::holds_alternative<T>(state_); }
  bool ok() const { return static_cast<bool>(*this); }

  T& operator*() {
    assert(ok());
    return std::get<T>(state_);
  }
  const T& operator*() const {
    assert(ok());
    return std::get<T>(state_);
  }
  T* operator->() { return &**this; }
  const T* operator->() const { return &**this; }

  const Error& error() const {
    assert(!ok());
    return std::get<Error>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}

  explicit operator bool() const { return !failed_; }
  bool ok() const { return !failed_; }
  const Error& error() const {
    assert(failed_);
    return error_;
  }

 private:
  Error error_;
  bool failed_ = false;
};

// "open /x: Permission denied" — the syscall's failure, named with what it acted on.
Error errno_error(std::string_view what, int err);

}  // namespace stacksync
