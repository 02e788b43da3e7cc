#pragma once
// Errors as values at parsing and I/O boundaries: Result<T> holds a T or an Error
// with a located, one-line message. (std::expected needs C++23; this is the part we use.)
#include <string>
#include <utility>
#include <variant>

namespace sc {

struct Error {
  std::string message;
};

// E is the error type: Error by default; a parser with richer errors (a code and an
// offset, as the image decoders report) names its own.
template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit success
  Result(E error) : v_(std::move(error)) {}        // NOLINT: implicit failure

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// Result<void>
template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return error_; }

 private:
  E error_;
  bool ok_ = true;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

}  // namespace sc
