#pragma once
// Reading a decoded message by field name: a value and its subtree, with lookups
// by paths relative to it ("descriptor.type", "clip.rects"). Consumers that act on
// message contents (display state, image extraction) use this rather than
// walking the flat pre-order value list themselves.
//
// Names are the description's: anonymous switches, array elements and pointer
// targets add no segment, so `view.get("src_bitmap").get("descriptor.width")`
// reaches through the pointer. A missing field is an empty view; number() of an
// empty view is the fallback, bytes() is empty.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dissect/decode/decoded.hpp"

namespace sc::decode {

class FieldView {
 public:
  FieldView() = default;
  FieldView(const DecodedMessage& m, std::span<const uint8_t> body, uint32_t index)
      : m_(&m), body_(body), index_(index) {}
  // The message body's root value.
  static FieldView root(const DecodedMessage& m, std::span<const uint8_t> body) {
    return m.values.empty() ? FieldView{} : FieldView{m, body, 0};
  }

  explicit operator bool() const { return m_ != nullptr; }
  FieldView get(std::string_view relative) const;
  bool has(std::string_view relative) const { return static_cast<bool>(get(relative)); }
  uint64_t number() const { return m_ ? value().number : 0; }
  uint64_t number(std::string_view relative, uint64_t fallback = 0) const {
    const FieldView v = get(relative);
    return v ? v.number() : fallback;
  }
  int64_t signed_number(std::string_view relative) const { return static_cast<int64_t>(number(relative)); }
  // A bytes field's bytes (empty for other kinds and empty views).
  std::span<const uint8_t> bytes() const;
  // An array's elements, in order.
  std::vector<FieldView> elements() const;
  // A pointer that points somewhere (offset != 0) and whose target was decoded.
  bool has_target() const;

  // Where the field starts in the body (0 for an empty view).
  uint32_t offset() const { return m_ ? value().offset : 0; }
  // The decoded value itself: only on a non-empty view.
  const FieldValue& value() const { return m_->values[index_]; }
  uint32_t index() const { return index_; }
  std::string_view path() const;
  const DecodedMessage& message() const { return *m_; }
  std::span<const uint8_t> body() const { return body_; }

 private:
  const DecodedMessage* m_ = nullptr;
  std::span<const uint8_t> body_;
  uint32_t index_ = 0;
};

}  // namespace sc::decode
