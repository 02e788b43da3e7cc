#pragma once
// Reading a store in integration tests: a query as a table, or its first value,
// failing the test (not crashing it) when the SQL is wrong.
#include <gtest/gtest.h>

#include <string>

#include "store/database.hpp"

namespace sc::test {

class StoreQueries {
 public:
  explicit StoreQueries(store::Database& db) : db_(db) {}
  store::Table q(const std::string& sql) {
    auto t = db_.query(sql);
    EXPECT_TRUE(t.ok()) << sql << ": " << (t.ok() ? "" : t.error().message);
    return t.ok() ? *t : store::Table{};
  }
  // The first column of the first row; -1 when there is none or it is not an integer.
  int64_t scalar(const std::string& sql) {
    auto t = q(sql);
    return t.rows.empty() || !std::holds_alternative<int64_t>(t.rows[0][0]) ? -1 : std::get<int64_t>(t.rows[0][0]);
  }
  std::string text(const std::string& sql) {
    auto t = q(sql);
    return t.rows.empty() || !std::holds_alternative<std::string>(t.rows[0][0]) ? "" : std::get<std::string>(t.rows[0][0]);
  }

 private:
  store::Database& db_;
};

}  // namespace sc::test
