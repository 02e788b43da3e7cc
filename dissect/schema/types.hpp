#pragma once
// The vocabulary of the protocol description: wire types, fields, counts, switches.
//
// A description is data: types are built once (see schema/builder.hpp), never
// mutated afterwards, and interpreted by one decoder (decode/decoder.hpp) and one
// encoder (decode/encoder.hpp). Nothing here knows SPICE message contents; those
// live in dissect/proto/.
//
// Wire facts only: integers are little-endian unless marked big-endian (the LZ
// and GLZ image headers inside image payloads); a Pointer is a u32 offset that is
// 0 for "absent"; an Array's length comes from a Count.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sc::schema {

enum class IntRep : uint8_t { U8, U16, U32, U64, I8, I16, I32, I64 };

constexpr unsigned int_width(IntRep r) {
  switch (r) {
    case IntRep::U8: case IntRep::I8: return 1;
    case IntRep::U16: case IntRep::I16: return 2;
    case IntRep::U32: case IntRep::I32: return 4;
    case IntRep::U64: case IntRep::I64: return 8;
  }
  return 0;
}
constexpr bool int_signed(IntRep r) {
  return r == IntRep::I8 || r == IntRep::I16 || r == IntRep::I32 || r == IntRep::I64;
}

// Names for the values of an integer: either an enumeration (value == name) or a
// set of flags (each entry is one bit mask).
struct NamedValue {
  uint64_t value;
  std::string name;
};
struct ValueNames {
  std::string type_name;  // e.g. "link_err", "mouse_button_mask"
  bool is_flags = false;
  std::vector<NamedValue> values;

  // Enum: the name of v, or "" when unknown.
  std::string_view name_of(uint64_t v) const;
  // "name" for enums, "A|B|0x40" for flags (unknown bits in hex).
  std::string describe(uint64_t v) const;
};

struct Type;

// How many elements (Array) or bytes (Bytes) a field holds.
struct Count {
  enum class Kind : uint8_t {
    Fixed,      // a constant
    Field,      // the value of an earlier field, looked up by name in the enclosing structs
    Rest,       // everything up to the end of the enclosing extent (message body)
    ImageBits,  // ((bits * field_a + 7) / 8) * field_b: pixel rows of a raster
  };
  Kind kind = Kind::Rest;
  uint32_t fixed = 0;
  std::string field;    // Field, ImageBits (row width)
  std::string field_b;  // ImageBits (row count)
  uint32_t bits = 8;    // ImageBits
};

// A condition on the surrounding data that decides whether a switch case applies.
struct CaseMatch {
  enum class Kind : uint8_t { Equal, AnyBit, NoBit };
  Kind kind = Kind::Equal;
  uint64_t value = 0;
  bool matches(uint64_t v) const {
    switch (kind) {
      case Kind::Equal: return v == value;
      case Kind::AnyBit: return (v & value) != 0;
      case Kind::NoBit: return (v & value) == 0;
    }
    return false;
  }
};

// A capability the negotiation must have agreed on for a field to be on the wire.
struct CapCondition {
  bool common = true;    // common capability, or the channel's own
  uint32_t index = 0;    // bit index, from spice/protocol.h
};

// What kind of secret a field holds; `import --redact CLASSES` blanks the chosen
// ones. A mask, so a field that carries several kinds (the agent byte stream
// carries clipboard and files) is blanked when any of them is chosen.
enum SecretClass : uint8_t {
  kSecretNone = 0,
  kSecretKeys = 1 << 0,         // keystrokes
  kSecretClipboard = 1 << 1,    // clipboard contents
  kSecretFiles = 1 << 2,        // transferred file contents
  kSecretCredentials = 1 << 3,  // tickets, SASL exchanges
  kSecretDevices = 1 << 4,      // USB, smartcard, port and webdav device streams
  kSecretAudio = 1 << 5,        // microphone samples
  kSecretAll = 0x3f,
};
using SecretMask = uint8_t;

struct Field {
  std::string name;   // "" only for anonymous switches, whose cases' fields join the parent
  const Type* type = nullptr;
  bool is_volatile = false;               // changes between runs (ids, times): replay ignores it
  SecretMask secret = kSecretNone;        // keystrokes, clipboard, files, passwords: redaction blanks it
  const CapCondition* only_with = nullptr;  // present only when this capability is negotiated
  // Present only when the body has bytes left here: fields senders may leave off
  // (the agent's detailed file-transfer errors, which spice-gtk never sends).
  bool trailing = false;
  bool optional() const { return only_with != nullptr || trailing; }
};

struct SwitchCase {
  std::vector<CaseMatch> matches;  // any of them; empty = default case
  std::vector<Field> fields;
};

enum class Kind : uint8_t { Int, Struct, Array, Bytes, Pointer, Switch };

struct Type {
  Kind kind = Kind::Struct;
  std::string name;  // struct and enum names, for docs and errors

  // Int
  IntRep rep = IntRep::U32;
  const ValueNames* names = nullptr;
  bool big_endian = false;

  // Struct: its fields. Bytes: the header of the codec or layer the bytes carry
  // (a payload hook), decoded over the bytes as their children; the bytes stay
  // one value of their own, whole, and the header only describes how they start.
  std::vector<Field> fields;
  bool pointer_base = false;  // pointers inside are relative to this struct's start, not the message's

  // Array (element type) / Bytes
  const Type* element = nullptr;
  Count count;
  bool text = false;  // Bytes that hold text (names, strings): shown as a string

  // Pointer: a u32 offset to an instance of target, 0 = absent
  const Type* target = nullptr;

  // Switch: chooses fields by the value of an earlier field
  std::string selector;  // dotted name, looked up like Count::field
  std::vector<SwitchCase> cases;
};

}  // namespace sc::schema
