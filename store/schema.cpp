#include "store/schema.hpp"

#include <string>

#include "store/database.hpp"
#include "dissect/display/image_source.hpp"

namespace sc::store {

// Version 5. Any change here bumps kSchemaVersion (database.hpp), gets a step in
// upgrade_sql() and a line in docs/store.md. Comments after a column hold no comma:
// SQLite's ALTER TABLE DROP COLUMN edits this text and takes one for a separator.
//
// Why it looks like this: a capture is mostly message bytes, so they are kept once,
// as each channel direction's byte stream cut into LZ4-compressed chunks, and a
// message row is a handful of small integers that point into its stream. Decoded
// fields are not stored: the spice_* SQL functions (store/sql_functions.hpp, also
// a loadable extension for the sqlite3 shell) decode a message on demand with the
// same decoder import uses.
std::string_view schema_sql() {
  return R"sql(
CREATE TABLE captures (
  id           INTEGER PRIMARY KEY,
  source       TEXT NOT NULL DEFAULT 'file' CHECK (source IN ('file','proxy','live')),
  path         TEXT NOT NULL,                       -- the file, the proxy's listen address, the interface
  status       TEXT NOT NULL DEFAULT 'importing'
               CHECK (status IN ('importing','complete','interrupted')),
  linktype     INTEGER,
  file_bytes   INTEGER,
  packets      INTEGER,
  first_ts_ns  INTEGER,
  last_ts_ns   INTEGER,
  imported_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
  truncated    INTEGER NOT NULL DEFAULT 0,
  options      TEXT,
  skipped_tcp  INTEGER NOT NULL DEFAULT 0,          -- TCP connections with payload that were not SPICE
  received        INTEGER,   -- live capture (version 4; NULL for files): packets that passed the filter
  kernel_drops    INTEGER,   -- live capture: dropped for want of buffer space
  interface_drops INTEGER    -- live capture: dropped by the interface or its driver
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
  tls_version         TEXT,
  tls_sni             TEXT,
  midstream           INTEGER NOT NULL DEFAULT 0,
  header              TEXT,
  auth                TEXT,
  link_error          TEXT,
  client_common_caps  TEXT,
  client_channel_caps TEXT,
  server_common_caps  TEXT,
  server_channel_caps TEXT,
  negotiated_common   BLOB,                 -- capability words both sides have (u32 little-endian each)
  negotiated_channel  BLOB,
  c2s_bytes           INTEGER NOT NULL DEFAULT 0,
  s2c_bytes           INTEGER NOT NULL DEFAULT 0,
  c2s_messages        INTEGER NOT NULL DEFAULT 0,
  s2c_messages        INTEGER NOT NULL DEFAULT 0,
  first_ts_ns         INTEGER,
  last_ts_ns          INTEGER
);
CREATE TABLE names (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE       -- main.init, display.draw_copy, link.mess, main.unknown, ...
);
CREATE TABLE message_rows (
  id            INTEGER PRIMARY KEY,
  channel       INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  ts_ns         INTEGER NOT NULL,
  dir           INTEGER NOT NULL CHECK (dir IN (0, 1)),   -- 0 client to server, 1 server to client
  stream_offset INTEGER NOT NULL,
  serial        INTEGER,
  type          INTEGER,
  name_id       INTEGER NOT NULL REFERENCES names(id),
  size          INTEGER NOT NULL,
  wire_size     INTEGER NOT NULL
);
CREATE TABLE chunks (
  id            INTEGER PRIMARY KEY,
  channel       INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  dir           INTEGER NOT NULL CHECK (dir IN (0, 1)),
  start         INTEGER NOT NULL,          -- stream offset of the chunk's first byte
  size          INTEGER NOT NULL,          -- bytes once decompressed
  codec         TEXT NOT NULL CHECK (codec IN ('none','lz4')),
  data          BLOB NOT NULL
);
CREATE TABLE problems (
  id            INTEGER PRIMARY KEY,
  capture_id    INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
  channel       INTEGER REFERENCES channels(id) ON DELETE CASCADE,
  message       INTEGER REFERENCES message_rows(id) ON DELETE CASCADE,
  direction     TEXT,
  stream_offset INTEGER,
  offset        INTEGER,
  severity      TEXT NOT NULL,
  code          TEXT NOT NULL,
  path          TEXT,
  text          TEXT NOT NULL,
  ts_ns         INTEGER                    -- when it was seen (version 3; NULL before)
);
CREATE VIEW messages AS
  SELECT m.id, m.channel, m.ts_ns, CASE m.dir WHEN 0 THEN 'c2s' ELSE 's2c' END AS direction,
         m.stream_offset, m.serial, m.type, n.name, m.size, m.wire_size
  FROM message_rows m JOIN names n ON n.id = m.name_id;
CREATE INDEX channels_by_session ON channels(session);
CREATE INDEX problems_by_channel ON problems(channel);
CREATE INDEX problems_by_message ON problems(message);
CREATE INDEX chunks_by_stream ON chunks(channel, dir, start);
)sql";
}

// Version 3 added these; a version 2 store gets them (empty) when opened for writing.
//
// The agent's messages are few and small next to the display's, and what users ask
// of them (who copied what, which file failed) needs their decoded fields under the
// agent capabilities in force at the time, so they are decoded once at import and
// kept decoded. File contents are not copied: they are in the main channel's
// stream chunks already, and `files extract` reassembles them from there.
std::string_view agent_tables_sql() {
  return R"sql(
CREATE INDEX problems_by_code ON problems(code);
CREATE TABLE agent_messages (
  id            INTEGER PRIMARY KEY,
  channel       INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,  -- the main channel
  ts_ns         INTEGER NOT NULL,          -- when its last byte arrived
  dir           INTEGER NOT NULL CHECK (dir IN (0, 1)),   -- 0 client to guest, 1 guest to client
  first_offset  INTEGER NOT NULL,          -- stream_offset of the main.agent_data message its header is in
  header_at     INTEGER NOT NULL,          -- where in that message's body the header starts
  last_offset   INTEGER NOT NULL,          -- stream_offset of the main.agent_data message with its last byte
  type          INTEGER NOT NULL,
  name_id       INTEGER NOT NULL REFERENCES names(id),   -- agent.clipboard_grab, agent.unknown, ...
  opaque        INTEGER NOT NULL,
  size          INTEGER NOT NULL,          -- body bytes its header declares
  fields        TEXT,                      -- decoded, as JSON; secret fields null when redacted; NULL if not kept
  summary       TEXT                       -- the same, one line
);
CREATE TABLE clipboard (
  id            INTEGER PRIMARY KEY,
  channel       INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  agent_message INTEGER REFERENCES agent_messages(id) ON DELETE CASCADE,
  ts_ns         INTEGER NOT NULL,
  dir           INTEGER NOT NULL CHECK (dir IN (0, 1)),   -- 0 client's clipboard to the guest, 1 guest's to the client
  selection     TEXT,                      -- clipboard, primary, secondary; NULL without the selection capability
  type          TEXT NOT NULL,             -- utf8_text, image_png, image_bmp, ..., none
  size          INTEGER NOT NULL,
  sha256        TEXT NOT NULL,
  serial        INTEGER,                   -- serial of the grab that offered it
  redacted      INTEGER NOT NULL DEFAULT 0,
  content       ANY                        -- TEXT for valid UTF-8 text, else BLOB; NULL when redacted
);
CREATE TABLE file_transfers (
  id            INTEGER PRIMARY KEY,
  channel       INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  transfer_id   INTEGER NOT NULL,          -- the agents' id for it
  dir           INTEGER NOT NULL CHECK (dir IN (0, 1)),   -- the direction its bytes travel
  name          TEXT,                      -- as the sender wrote it (never trusted as a path)
  declared_size INTEGER,
  bytes_seen    INTEGER NOT NULL,
  sha256        TEXT,                      -- of the bytes seen
  status        TEXT NOT NULL,             -- success, cancelled, error, not_enough_space, session_locked,
                                           -- agent_not_connected, disabled, incomplete
  status_from   INTEGER,                   -- dir of the final status
  error         TEXT,
  start_ts_ns   INTEGER NOT NULL,
  end_ts_ns     INTEGER,
  rate_bps      REAL,                      -- bytes_seen per second from start to the last data
  first_offset  INTEGER NOT NULL,          -- main.agent_data stream_offset where its start message begins
  last_offset   INTEGER NOT NULL,          -- ... and where its last data ends
  content       TEXT NOT NULL CHECK (content IN ('stored','redacted','partial')),
  extracted_to  TEXT                       -- where `files extract` last wrote it
);
CREATE INDEX agent_messages_by_channel ON agent_messages(channel);
CREATE INDEX clipboard_by_channel ON clipboard(channel);
CREATE INDEX file_transfers_by_channel ON file_transfers(channel);
)sql";
}

// Version 5: the display channels' images, one row per Image a display message
// carries, found at import by decoding every image with the client's caches and
// GLZ dictionary (store/image_rows.hpp). A text console sends an image per glyph,
// so a row is small integers (names, codes) and the `images` view spells them
// out. A database upgraded from an earlier version has no rows: its captures were
// imported before the table existed.
std::string_view image_table_sql() {
  static const std::string sql = [] {
    auto cases = [](std::string_view column, auto name_of, int count) {
      std::string out = "CASE " + std::string(column);
      for (int v = 0; v < count; ++v) {
        const std::string n(name_of(v));
        if (!n.empty() && !n.starts_with("type_")) out += " WHEN " + std::to_string(v) + " THEN '" + n + "'";
      }
      return out;
    };
    return std::string(R"sql(
CREATE TABLE image_rows (
  id            INTEGER PRIMARY KEY,
  message       INTEGER NOT NULL REFERENCES message_rows(id) ON DELETE CASCADE,
  field_id      INTEGER NOT NULL REFERENCES names(id),   -- the image pointer's dotted path
  offset        INTEGER NOT NULL,          -- where the Image starts in the message body
  image_id      INTEGER NOT NULL,          -- descriptor.id: the pixmap cache's key
  type          INTEGER NOT NULL,          -- SPICE_IMAGE_TYPE_*
  flags         INTEGER NOT NULL,          -- descriptor.flags (SPICE_IMAGE_FLAGS_*)
  width         INTEGER NOT NULL,
  height        INTEGER NOT NULL,
  compressed_size INTEGER NOT NULL,        -- payload bytes on the wire (0 for cache hits and surfaces)
  decoded_size  INTEGER NOT NULL,          -- bytes once decoded (4 per pixel); 0 when not decoded
  cache         INTEGER NOT NULL,          -- 0 none, 1 store, 2 replace, 3 hit, 4 miss, 5 dropped
  lossy         INTEGER NOT NULL,          -- JPEG paths (and cache hits of lossy images)
  glz_references INTEGER NOT NULL,         -- GLZ: copies taken from earlier images (0: self-contained)
  status        INTEGER NOT NULL,          -- 0 decoded, 1 failed, 2 not_decoded
  fault_code    TEXT,                      -- why it failed: missing_reference, truncated, ...
  fault_offset  INTEGER,                   -- body offset the fault names
  fault_text    TEXT
);
CREATE VIEW images AS
  SELECT i.id, i.message, m.channel, m.ts_ns, n.name AS field, i.offset, i.image_id,
         )sql") + cases("i.type", [](int v) { return display::image_type_name(static_cast<uint8_t>(v)); }, 256) +
           " ELSE 'type_' || i.type END AS type, i.flags, i.width, i.height, i.compressed_size, i.decoded_size, " +
           cases("i.cache", [](int v) { return display::cache_op_name(static_cast<display::CacheOp>(v)); }, 6) +
           " ELSE '' END AS cache, i.lossy, i.glz_references, " +
           cases("i.status", [](int v) { return display::image_status_name(static_cast<display::ImageStatus>(v)); }, 3) +
           " END AS status, i.fault_code, i.fault_offset, i.fault_text\n"
           "  FROM image_rows i JOIN message_rows m ON m.id = i.message JOIN names n ON n.id = i.field_id;\n";
  }();
  return sql;
}

// Each step only adds (tables, nullable columns), so old captures stay as they were
// and read as "not recorded" where the new columns are concerned. ALTER TABLE ADD
// COLUMN appends, so an upgraded captures table has the columns of a new one, in
// the same order.
std::string upgrade_sql(int64_t from) {
  if (from < 2 || from >= kSchemaVersion) return {};
  std::string sql;
  if (from <= 2) sql += "ALTER TABLE problems ADD COLUMN ts_ns INTEGER;" + std::string(agent_tables_sql());
  if (from <= 3) {
    sql += "ALTER TABLE captures ADD COLUMN received INTEGER;"
           "ALTER TABLE captures ADD COLUMN kernel_drops INTEGER;"
           "ALTER TABLE captures ADD COLUMN interface_drops INTEGER;";
  }
  if (from <= 4) sql += image_table_sql();
  return sql + "PRAGMA user_version = " + std::to_string(kSchemaVersion) + ";";
}

std::string_view message_indexes_sql() {
  return "CREATE INDEX IF NOT EXISTS messages_by_channel ON message_rows(channel);"
         "CREATE INDEX IF NOT EXISTS messages_by_name ON message_rows(name_id);"
         "CREATE INDEX IF NOT EXISTS images_by_message ON image_rows(message);";
}

std::string_view drop_message_indexes_sql() {
  return "DROP INDEX IF EXISTS messages_by_channel; DROP INDEX IF EXISTS messages_by_name; "
         "DROP INDEX IF EXISTS images_by_message;";
}

}  // namespace sc::store
