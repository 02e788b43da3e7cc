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
  uint16_t type = 0;      // message type number (0 for link steps)
};

// Every message and every field that carries a value or groups others, in
// description order; internal nodes (anonymous switches, array elements,
// pointer targets) are left out. Paths shared by both directions appear once.
std::vector<FieldEntry> list_fields(const Registry& reg);

}  // namespace sc::schema
