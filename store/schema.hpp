#pragma once
// The store's schema (documented column by column in docs/store.md).
#include <cstdint>
#include <string>
#include <string_view>

namespace sc::store {
// The tables of a new store, without the transaction or version around them.
std::string_view schema_sql();
// The agent tables (version 3), also added to a version 2 store opened for writing.
std::string_view agent_tables_sql();
// The images table (version 5).
std::string_view image_table_sql();
// What brings a store of version `from` (2 or later) to the current version, user_version
// included, without the transaction around it; empty when there is no way from there.
std::string upgrade_sql(int64_t from);
// The indexes of message_rows and images. Import into an empty store drops them and builds them
// once at the end (half the cost of keeping them up to date row by row); opening a
// store for writing builds any that a killed import left missing.
std::string_view message_indexes_sql();
std::string_view drop_message_indexes_sql();
}
