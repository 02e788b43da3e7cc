#pragma once
// A small success-or-error value for the server layer (GCC 12 in C++20 mode has
// no std::expected). Errors are sentences meant for the user, e.g.
// "cannot read /x/server-key.pem: No such file or directory".
#include <optional>
#include <string>
#include <utility>

namespace sc::server {

struct Error {
  std::string message;
};

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Error error) : error_(std::move(error.message)) {}

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const std::string& error() const { return error_; }

 private:
  std::optional<T> value_;
  std::string error_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace sc::server
