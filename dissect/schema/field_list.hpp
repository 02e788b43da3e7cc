#pragma once
// The description as a flat list of dotted field paths, for `spice-capture fields`,
// the docs and the schema lock test (tests/unit/schema_lock_test.cpp).
#include <string>
#include <vector>

#include "dissect/schema/registry.hpp"

namespace sc::schema {

struct FieldEntry {
  std::string path;       // "main.init.session_id"
  std::string kind;       // "u32", "bytes", "text", "struct", "list", "pointer", "message"
  std::string values;     // enum/flags type name, if any
  std::string direction;  // of the message the field belongs to: "c2s", "s2c" or "both"
  uint16_t type = 0;      // message type number (0 for link steps); with "both", the c2s one
  int s2c_type = -1;      // messages defined in both directions: the s2c number (may differ)
  std::string marks;      // "secret(CLASSES)" (redaction blanks it), "volatile" (differs between runs), or both
};

// Every message and every field that carries a value or groups others, in
// description order; internal nodes (anonymous switches, array elements,
// pointer targets) are left out. Paths shared by both directions appear once.
std::vector<FieldEntry> list_fields(const Registry& reg);

// One line of `spice-capture fields` and of the lock file:
// "main.init.session_id<TAB>u32<TAB>s2c<TAB>volatile". Message lines end in their
// type number, or in each direction's number where they differ: "main.agent_data<TAB>
// message<TAB>c2s 107, s2c 109".
std::string field_line(const FieldEntry& f);

}  // namespace sc::schema
