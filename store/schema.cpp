#include "store/schema.hpp"

namespace sc::store {

// Version 1. Any change here bumps kSchemaVersion (database.hpp) and docs/store.md.
std::string_view schema_sql() {
  return R"sql(
BEGIN;
CREATE TABLE captures (
  id           INTEGER PRIMARY KEY,
  path         TEXT NOT NULL,
  linktype     INTEGER,
  file_bytes   INTEGER,
  packets      INTEGER,
  first_ts_ns  INTEGER,
  last_ts_ns   INTEGER,
  imported_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  truncated    INTEGER NOT NULL DEFAULT 0,
  options      TEXT
);
CREATE TABLE sessions (
  id           INTEGER PRIMARY KEY,
  capture_id   INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  session_id   INTEGER NOT NULL,          -- main.init.session_id, the link connection_id of the other channels
  server       TEXT,
  first_ts_ns  INTEGER,
  last_ts_ns   INTEGER,
  UNIQUE (capture_id, session_id)
);
CREATE TABLE channels (
  id                  INTEGER PRIMARY KEY,
  capture_id          INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  session             INTEGER REFERENCES sessions(id),
  connection_id       INTEGER,
  type                INTEGER,
  type_name           TEXT,
  channel_id          INTEGER,
  client              TEXT NOT NULL,
  server              TEXT NOT NULL,
  tls                 INTEGER NOT NULL DEFAULT 0,
  midstream           INTEGER NOT NULL DEFAULT 0,
  header              TEXT,
  auth                TEXT,
  link_error          TEXT,
  client_common_caps  TEXT,
  client_channel_caps TEXT,
  server_common_caps  TEXT,
  server_channel_caps TEXT,
  c2s_bytes           INTEGER NOT NULL DEFAULT 0,
  s2c_bytes           INTEGER NOT NULL DEFAULT 0,
  c2s_messages        INTEGER NOT NULL DEFAULT 0,
  s2c_messages        INTEGER NOT NULL DEFAULT 0,
  first_ts_ns         INTEGER,
  last_ts_ns          INTEGER
);
CREATE TABLE messages (
  id            INTEGER PRIMARY KEY,
  channel       INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  ts_ns         INTEGER NOT NULL,
  direction     TEXT NOT NULL CHECK (direction IN ('c2s','s2c')),
  stream_offset INTEGER NOT NULL,
  serial        INTEGER,
  type          INTEGER,
  name          TEXT NOT NULL,
  size          INTEGER NOT NULL,
  wire_size     INTEGER NOT NULL,
  raw           BLOB,
  fields        TEXT
);
CREATE TABLE problems (
  id            INTEGER PRIMARY KEY,
  capture_id    INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  channel       INTEGER REFERENCES channels(id) ON DELETE CASCADE,
  message       INTEGER REFERENCES messages(id) ON DELETE CASCADE,
  direction     TEXT,
  stream_offset INTEGER,
  offset        INTEGER,
  severity      TEXT NOT NULL,
  code          TEXT NOT NULL,
  path          TEXT,
  text          TEXT NOT NULL
);
CREATE INDEX channels_by_session ON channels(session);
CREATE INDEX problems_by_channel ON problems(channel);
PRAGMA user_version = 1;
COMMIT;
)sql";
}

std::string_view message_indexes_sql() {
  return "CREATE INDEX IF NOT EXISTS messages_by_channel ON messages(channel, id);"
         "CREATE INDEX IF NOT EXISTS messages_by_name ON messages(name);";
}

}  // namespace sc::store
