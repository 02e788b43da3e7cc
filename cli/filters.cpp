#include "cli/filters.hpp"

#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/output.hpp"

namespace sc::cli {

std::optional<store::SessionChannels> chosen_session(Result<store::SessionChannels> found, const SessionArgs& a,
                                                     std::string_view kind, bool quiet, int& code) {
  if (!found) {
    std::cerr << "spice-capture: " << found.error().message << '\n';
    code = kExitUsage;
    return std::nullopt;
  }
  if (found->sessions_matching > 1 && !a.f.session && !a.f.channel && !quiet) {
    std::cerr << "note: " << found->sessions_matching << " sessions have " << kind << " channels; using session "
              << found->session_id << " (choose with --session)\n";
  }
  return std::move(found).value();
}

int show(const std::string& sql, const std::vector<store::Cell>& params, const Filters& f,
         const std::vector<std::string>& json_columns) {
  auto db = open_for_query(f.db);
  auto t = db.query(sql, params);
  if (!t) {
    std::cerr << "spice-capture: query failed: " << t.error().message << '\n';
    return kExitDatabase;
  }
  if (f.json) std::cout << table_to_json(*t, json_columns).dump(2) << '\n';
  else print_table(std::cout, *t);
  return kExitOk;
}

}  // namespace sc::cli
