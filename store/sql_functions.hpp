#pragma once
// SQL functions that decode stored messages on demand, with the decoder import uses.
// They make every decoded field reachable from plain SQL (docs/store.md):
//
//   spice_json(id)          the message's fields as JSON (what json_extract reads)
//   spice_field(id, path)   one field by dotted name ('main.init.session_id', or
//                           relative to the message: 'session_id'): integers as
//                           integers, text as text, bytes as a blob, arrays as their
//                           length; NULL when the message has no such field
//   spice_raw(id)           the message's bytes as they were on the wire (header included)
//   spice_text(id)          a one-line summary of the leaf fields
//
// `id` is message_rows.id (messages.id). The CLI registers them on every connection;
// the sqlite3 shell gets them with `.load build/lib/spicecap` (the loadable extension).
#include <sqlite3.h>

namespace sc::store {

// Returns an SQLite result code. The functions keep a few prepared statements; they
// are finalized as the connection closes (through a SQLITE_TRACE_CLOSE hook, so
// the connection must not install a trace callback of its own).
int register_sql_functions(sqlite3* db);

}  // namespace sc::store
