// The schema lock: every dotted name, kind and message number the description
// produces is checked in (dissect/proto/fields.lock). Stored databases, scripts and
// Wireshark filters depend on these names, so a rename or renumbering must be a
// deliberate change of the lock file, never an accident.
#include <gtest/gtest.h>

#include <fstream>

#include "dissect/schema/field_list.hpp"

TEST(SchemaLock, FieldNamesMatchTheLockFile) {
  std::ifstream in(std::string(SC_SOURCE_ROOT) + "/dissect/proto/fields.lock");
  ASSERT_TRUE(in) << "dissect/proto/fields.lock is missing";
  std::vector<std::string> locked;
  for (std::string line; std::getline(in, line);) locked.push_back(line);
  std::vector<std::string> now;
  for (const auto& f : sc::schema::list_fields(sc::schema::Registry::spice())) now.push_back(sc::schema::field_line(f));
  const size_t n = std::max(locked.size(), now.size());
  for (size_t i = 0; i < n; ++i) {
    const std::string a = i < locked.size() ? locked[i] : "<none>";
    const std::string b = i < now.size() ? now[i] : "<none>";
    ASSERT_EQ(a, b) << "line " << i + 1
                    << ": the protocol description changed its names. If intended, regenerate with\n"
                       "  build/bin/spice-capture fields > dissect/proto/fields.lock";
  }
}
