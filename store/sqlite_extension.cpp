// The loadable SQLite extension: `.load build/lib/spicecap` in the sqlite3 shell
// gives it the same spice_* functions the CLI has (store/sql_functions.hpp).
// The functions themselves call libsqlite3 directly, so the extension is meant for
// hosts that link the system libsqlite3 (the Debian sqlite3 shell does).
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "store/sql_functions.hpp"

extern "C" int sqlite3_spicecap_init(sqlite3* db, char** /*error*/, const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  return sc::store::register_sql_functions(db);
}
