#pragma once
// Rendering query results for people (aligned columns) and for scripts (JSON).
#include <iosfwd>
#include <nlohmann/json.hpp>

#include "store/database.hpp"

namespace sc::cli {

// Columns named in `json_columns` hold JSON text and are embedded as JSON values.
nlohmann::ordered_json table_to_json(const store::Table& t, const std::vector<std::string>& json_columns = {});
void print_table(std::ostream& out, const store::Table& t, size_t max_cell_width = 60);

// Human sizes and durations: "1.5 MB", "12.3 s".
std::string human_bytes(uint64_t bytes);
std::string human_duration_ns(uint64_t ns);

// One line on stderr rewritten in place (progress, live status); does nothing
// when disabled (not a terminal, -q, --json). Clear it before printing other lines.
class StatusLine {
 public:
  explicit StatusLine(bool enabled) : enabled_(enabled) {}
  ~StatusLine() { clear(); }
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;
  void show(const std::string& text);
  void clear();
  bool enabled() const { return enabled_; }
  bool shown() const { return shown_; }

 private:
  bool enabled_;
  bool shown_ = false;
};

// Opens the database read-only for the query commands, or prints the error and
// exits with kExitDatabase.
store::Database open_for_query(const std::string& path);

}  // namespace sc::cli
