#pragma once
// The store's schema (documented column by column in docs/store.md).
#include <string_view>

namespace sc::store {
std::string_view schema_sql();
}
