#pragma once
// The store's schema (documented column by column in docs/store.md).
#include <string_view>

namespace sc::store {
std::string_view schema_sql();
// The indexes of the messages table (part of schema_sql), for rebuilding after a bulk load.
std::string_view message_indexes_sql();
}
