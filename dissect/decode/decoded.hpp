#pragma once
// What decoding one message produces: a flat, pre-order list of field values
// (cheap to build, no per-field allocation) plus located diagnostics.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dissect/schema/registry.hpp"

namespace sc::decode {

struct FieldValue {
  uint32_t node;    // LayoutNode id: path, name, type
  uint32_t parent;  // index of the enclosing value, or kNoValue
  uint32_t end;     // one past the last descendant's index (pre-order subtree)
  uint32_t offset;  // byte offset in the message body
  uint32_t size;    // bytes the field occupies (for pointers: the 4-byte offset itself)
  uint64_t number;  // integers (signed ones sign-extended); arrays: element count; pointers: offset
};
inline constexpr uint32_t kNoValue = 0xffffffffu;

enum class Severity : uint8_t { Info, Warning, Error };
std::string_view severity_name(Severity s);

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string code;      // stable identifier: "truncated", "bad_count", "bad_pointer", ...
  uint32_t offset = 0;   // byte offset in the message body
  std::string path;      // dotted field path, or "" for the whole message
  std::string text;      // one-line human explanation
};

struct DecodedMessage {
  const schema::MessageDef* def = nullptr;
  std::vector<FieldValue> values;
  std::vector<Diagnostic> diagnostics;
  bool complete = false;  // every field decoded and the body fully accounted for

  void clear() {
    def = nullptr;
    values.clear();
    diagnostics.clear();
    complete = false;
  }
  // The first value at `path` (e.g. "main.init.session_id"), or null.
  const FieldValue* find(std::string_view path) const;
};

// Capabilities both peers advertised; data layouts may depend on them.
struct CapSet {
  std::vector<uint32_t> words;
  bool has(uint32_t bit) const {
    return bit / 32 < words.size() && (words[bit / 32] >> (bit % 32)) & 1u;
  }
  static CapSet intersect(const CapSet& a, const CapSet& b);
};
struct NegotiatedCaps {
  CapSet common;
  CapSet channel;
};

}  // namespace sc::decode
