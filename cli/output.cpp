#include "cli/output.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/exit_codes.hpp"

namespace sc::cli {

namespace {
std::string cell_text(const store::Cell& c) {
  if (std::holds_alternative<std::monostate>(c)) return "-";
  if (auto* i = std::get_if<int64_t>(&c)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&c)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", *d);
    return buf;
  }
  return std::get<std::string>(c);
}
}  // namespace

nlohmann::ordered_json table_to_json(const store::Table& t, const std::vector<std::string>& json_columns) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& r : t.rows) {
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const auto& name = t.columns[i];
      const auto& c = r[i];
      if (std::holds_alternative<std::monostate>(c)) o[name] = nullptr;
      else if (auto* iv = std::get_if<int64_t>(&c)) o[name] = *iv;
      else if (auto* dv = std::get_if<double>(&c)) o[name] = *dv;
      else if (std::find(json_columns.begin(), json_columns.end(), name) != json_columns.end()) {
        o[name] = nlohmann::ordered_json::parse(std::get<std::string>(c), nullptr, false);
      } else {
        o[name] = std::get<std::string>(c);
      }
    }
    rows.push_back(std::move(o));
  }
  return rows;
}

void print_table(std::ostream& out, const store::Table& t, size_t max_cell_width) {
  std::vector<size_t> width(t.columns.size());
  std::vector<std::vector<std::string>> cells;
  for (size_t i = 0; i < t.columns.size(); ++i) width[i] = t.columns[i].size();
  for (const auto& r : t.rows) {
    auto& row = cells.emplace_back();
    for (size_t i = 0; i < r.size(); ++i) {
      std::string s = cell_text(r[i]);
      if (s.size() > max_cell_width) s = s.substr(0, max_cell_width - 3) + "...";
      width[i] = std::max(width[i], s.size());
      row.push_back(std::move(s));
    }
  }
  auto line = [&](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
      s += v[i];
      if (i + 1 < v.size()) s += std::string(width[i] - v[i].size() + 2, ' ');
    }
    out << s << '\n';
  };
  line(t.columns);
  for (const auto& r : cells) line(r);
}

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b < 1024) return std::to_string(b) + " B";
  if (b < (1u << 20)) std::snprintf(buf, sizeof buf, "%.1f KB", b / 1024.0);
  else if (b < (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f MB", b / 1048576.0);
  else std::snprintf(buf, sizeof buf, "%.2f GB", b / 1073741824.0);
  return buf;
}

std::string human_duration_ns(uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", ns / 1e9);
  return buf;
}

store::Database open_for_query(const std::string& path) {
  auto db = store::Database::open(path, store::Database::Mode::ReadOnly);
  if (!db) {
    std::cerr << "spice-capture: " << db.error().message << '\n';
    std::exit(kExitDatabase);
  }
  return std::move(db).value();
}

void StatusLine::show(const std::string& text) {
  if (!enabled_) return;
  std::cerr << '\r' << text << "\033[K" << std::flush;
  shown_ = true;
}

void StatusLine::clear() {
  if (shown_) std::cerr << "\r\033[K" << std::flush;
  shown_ = false;
}

}  // namespace sc::cli
