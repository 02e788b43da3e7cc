#pragma once
// A thin RAII layer over SQLite: one Database, prepared Statements, and generic
// query results (Table) that the CLI renders as text or JSON.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/result.hpp"

namespace sc::store {

inline constexpr int kSchemaVersion = 5;

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);  // throws std::runtime_error on a bad statement (our bug)
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  Statement& bind(int i, int64_t v);
  Statement& bind(int i, std::string_view v);
  Statement& bind_blob(int i, std::span<const uint8_t> v);
  // Text that stays alive and unchanged until step() returns: not copied.
  Statement& bind_static(int i, std::string_view v);
  Statement& bind_null(int i);
  Statement& bind_double(int i, double v);
  // SQLITE_ROW -> true, SQLITE_DONE -> false; anything else is an error.
  Result<bool> step();
  // Ready to run again. Bindings stay: every user binds every parameter each time
  // (clearing them costs a pass over all of them on the import's hottest path).
  void reset();
  int64_t column_int(int i) const { return sqlite3_column_int64(stmt_.get(), i); }
  sqlite3_stmt* get() const { return stmt_.get(); }

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
};

using Cell = std::variant<std::monostate, int64_t, double, std::string>;
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

class Database {
 public:
  enum class Mode { ReadOnly, ReadWrite };
  // Opens (and for ReadWrite creates and migrates) a spice-capture database.
  static Result<Database> open(const std::string& path, Mode mode);

  sqlite3* handle() const { return db_.get(); }
  const std::string& path() const { return path_; }
  Result<void> exec(std::string_view sql);
  // Runs a query with text/integer parameters bound in order.
  Result<Table> query(std::string_view sql, const std::vector<Cell>& params = {});
  std::string last_error() const;

 private:
  struct Close {
    void operator()(sqlite3* d) const { sqlite3_close_v2(d); }
  };
  std::unique_ptr<sqlite3, Close> db_;
  std::string path_;
};

}  // namespace sc::store
