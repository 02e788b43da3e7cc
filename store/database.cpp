#include "store/database.hpp"

#include <filesystem>
#include <stdexcept>

#include "store/schema.hpp"
#include "store/sql_functions.hpp"

namespace sc::store {

Statement::Statement(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr) !=
      SQLITE_OK) {
    throw std::runtime_error(std::string("bad SQL (") + sqlite3_errmsg(db) + "): " + std::string(sql));
  }
  stmt_.reset(s);
}

Statement& Statement::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_.get(), i, v);
  return *this;
}
Statement& Statement::bind_double(int i, double v) {
  sqlite3_bind_double(stmt_.get(), i, v);
  return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_blob(int i, std::span<const uint8_t> v) {
  // SQLITE_STATIC: callers keep the bytes alive until step() returns.
  sqlite3_bind_blob64(stmt_.get(), i, v.data(), v.size(), SQLITE_STATIC);
  return *this;
}
Statement& Statement::bind_static(int i, std::string_view v) {
  sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}
Statement& Statement::bind_null(int i) {
  sqlite3_bind_null(stmt_.get(), i);
  return *this;
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return make_error(sqlite3_errmsg(sqlite3_db_handle(stmt_.get())));
}

void Statement::reset() { sqlite3_reset(stmt_.get()); }

namespace {

// Version 1 stored decoded JSON per message; its rows cannot be turned into
// version 2's compressed streams without the capture, so it is refused, not guessed at.
Result<void> check_version(const std::string& path, int64_t v) {
  if (v == kSchemaVersion) return {};
  if (v == 2 || v == 3) {
    return make_error(path + ": made by an older spice-capture (store schema " + std::to_string(v) +
                      (v == 2 ? ", without the agent tables" : ", without live capture statistics") +
                      "); open it for writing once (e.g. `spice-capture import` into it) or import again");
  }
  if (v == 1) {
    return make_error(path + ": made by an older spice-capture (store schema 1); this build reads schema " +
                      std::to_string(kSchemaVersion) + ". Import the capture again into a new database file");
  }
  if (v > kSchemaVersion) {
    return make_error(path + ": made by a newer spice-capture (store schema " + std::to_string(v) +
                      "); this build reads schema " + std::to_string(kSchemaVersion));
  }
  return make_error(path + ": not a spice-capture database (schema version " + std::to_string(v) + ")");
}

}  // namespace

Result<Database> Database::open(const std::string& path, Mode mode) {
  if (mode == Mode::ReadOnly && !std::filesystem::exists(path)) {
    return make_error(path + ": no such database (run `spice-capture import` first)");
  }
  // Memory statistics take a global mutex on every allocation; nothing reads them.
  // (Only possible before SQLite initialises, hence once, before the first open.)
  static const bool configured = [] { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK; }();
  (void)configured;
  sqlite3* raw = nullptr;
  // A connection is only ever used by one thread at a time (the import writer hands
  // it to its worker and takes it back), so SQLite need not lock around each call.
  const int flags = SQLITE_OPEN_NOMUTEX |
                    (mode == Mode::ReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db;
  db.db_.reset(raw);
  db.path_ = path;
  if (rc != SQLITE_OK) return make_error(path + ": cannot open database: " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
  sqlite3_busy_timeout(raw, 5000);
  if (register_sql_functions(raw) != SQLITE_OK) return make_error(path + ": cannot register the spice_* SQL functions");
  // A file that is not SQLite fails on the first read, not at open.
  auto version = db.query("PRAGMA user_version");
  if (!version) return make_error(path + ": not a spice-capture database (" + version.error().message + ")");
  const int64_t v = std::get<int64_t>(version->rows.at(0).at(0));
  if (mode == Mode::ReadWrite) {
    // Small pages: a chunk blob spills into overflow pages whose last one is on
    // average half empty, so large pages would waste a third of every 128 KiB chunk.
    if (v == 0) (void)db.exec("PRAGMA page_size=4096");
    if (auto r = db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                         "PRAGMA cache_size=-32768;");
        !r) {
      return make_error(path + ": cannot write database: " + r.error().message);
    }
    if (v == 0) {
      auto tables = db.query("SELECT count(*) FROM sqlite_master");
      if (tables && std::get<int64_t>(tables->rows[0][0]) > 0) {
        return make_error(path + ": an SQLite database that spice-capture did not create; refusing to modify it");
      }
      const std::string create = "BEGIN;" + std::string(schema_sql()) + std::string(agent_tables_sql()) + std::string(image_table_sql()) +
                                 "PRAGMA user_version = " + std::to_string(kSchemaVersion) + "; COMMIT;";
      if (auto r = db.exec(create); !r) return make_error(path + ": cannot create schema: " + r.error().message);
      if (auto r = db.exec(message_indexes_sql()); !r) {
        return make_error(path + ": cannot create schema: " + r.error().message);
      }
    } else if (const std::string steps = upgrade_sql(v); !steps.empty()) {
      // Versions 3 and 4 only added tables and nullable columns: old captures simply
      // have no agent rows and no live statistics.
      if (auto r = db.exec("BEGIN;" + steps + "COMMIT;"); !r) {
        (void)db.exec("ROLLBACK");
        return make_error(path + ": cannot upgrade schema " + std::to_string(v) + ": " + r.error().message);
      }
      if (auto idx = db.exec(message_indexes_sql()); !idx) {
        return make_error(path + ": cannot write database: " + idx.error().message);
      }
    } else if (auto r = check_version(path, v); !r) {
      return r.error();
    } else if (auto idx = db.exec(message_indexes_sql()); !idx) {
      return make_error(path + ": cannot write database: " + idx.error().message);
    }
  } else if (auto r = check_version(path, v); !r) {
    return r.error();
  }
  return db;
}

Result<void> Database::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string s(sql);
  if (sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return make_error(msg);
  }
  return {};
}

std::string Database::last_error() const { return sqlite3_errmsg(db_.get()); }

Result<Table> Database::query(std::string_view sql, const std::vector<Cell>& params) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
    return make_error(sqlite3_errmsg(db_.get()));
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
  for (size_t i = 0; i < params.size(); ++i) {
    const int idx = static_cast<int>(i + 1);
    if (auto* iv = std::get_if<int64_t>(&params[i])) sqlite3_bind_int64(raw, idx, *iv);
    else if (auto* dv = std::get_if<double>(&params[i])) sqlite3_bind_double(raw, idx, *dv);
    else if (auto* sv = std::get_if<std::string>(&params[i])) sqlite3_bind_text(raw, idx, sv->c_str(), -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(raw, idx);
  }
  Table t;
  const int ncol = sqlite3_column_count(raw);
  for (int c = 0; c < ncol; ++c) t.columns.emplace_back(sqlite3_column_name(raw, c));
  for (;;) {
    const int rc = sqlite3_step(raw);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return make_error(sqlite3_errmsg(db_.get()));
    auto& row = t.rows.emplace_back();
    for (int c = 0; c < ncol; ++c) {
      switch (sqlite3_column_type(raw, c)) {
        case SQLITE_INTEGER: row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(raw, c))); break;
        case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(raw, c)); break;
        case SQLITE_NULL: row.emplace_back(std::monostate{}); break;
        case SQLITE_BLOB:
          row.emplace_back("<" + std::to_string(sqlite3_column_bytes(raw, c)) + " bytes>");
          break;
        default: row.emplace_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(raw, c))));
      }
    }
  }
  return t;
}

}  // namespace sc::store
