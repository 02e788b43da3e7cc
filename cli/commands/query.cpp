// The read-only commands over the store: sessions, channels, messages, stats.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/filters.hpp"
#include "cli/output.hpp"

namespace sc::cli {

namespace {

constexpr const char* kFromChannels = " FROM channels c LEFT JOIN sessions s ON s.id = c.session";

int run_sessions(const Filters& f) {
  std::vector<store::Cell> p;
  const std::string sql =
      "SELECT s.session_id, c.capture_id AS capture, s.server, count(c.id) AS channels, "
      "group_concat(DISTINCT c.type_name) AS types, sum(c.c2s_messages + c.s2c_messages) AS messages, "
      "sum(c.c2s_bytes + c.s2c_bytes) AS bytes, printf('%.3f', (s.last_ts_ns - s.first_ts_ns) / 1e9) AS seconds" +
      std::string(kFromChannels) + f.where(p, false) + " AND s.id IS NOT NULL GROUP BY s.id ORDER BY s.first_ts_ns";
  return show(sql, p, f);
}

int run_channels(const Filters& f) {
  std::vector<store::Cell> p;
  std::string cols =
      "c.id, s.session_id AS session, c.type_name AS type, c.channel_id AS id_in_type, c.client, c.server, "
      "c.header, c.tls, c.c2s_messages, c.s2c_messages, c.c2s_bytes, c.s2c_bytes, c.link_error";
  if (f.json) {
    cols += ", c.connection_id, c.midstream, c.auth, c.client_common_caps, c.client_channel_caps, "
            "c.server_common_caps, c.server_channel_caps, c.first_ts_ns, c.last_ts_ns, c.capture_id";
  }
  const std::string sql = "SELECT " + cols + kFromChannels + f.where(p, false) + " ORDER BY c.id";
  return show(sql, p, f,
              {"client_common_caps", "client_channel_caps", "server_common_caps", "server_channel_caps"});
}

int run_messages(const Filters& f) {
  std::vector<store::Cell> p;
  // People read seconds since the capture started; scripts get the absolute ns.
  const std::string time = f.json ? "m.ts_ns" : "printf('%.6f', (m.ts_ns - cap.first_ts_ns) / 1e9) AS time";
  // Fields are decoded on demand (spice_json/spice_text), only for the rows shown.
  const std::string fields = f.json ? "spice_json(m.id) AS fields" : "spice_text(m.id) AS fields";
  std::string sql =
      "SELECT m.id, m.channel, " + time + ", CASE m.dir WHEN 0 THEN 'c2s' ELSE 's2c' END AS direction, m.serial, "
      "m.type, n.name, m.size, " + fields +
      " FROM message_rows m JOIN names n ON n.id = m.name_id JOIN channels c ON c.id = m.channel"
      " JOIN captures cap ON cap.id = c.capture_id LEFT JOIN sessions s ON s.id = c.session" +
      f.where(p, true) + " ORDER BY m.id LIMIT ? OFFSET ?";
  p.emplace_back(f.limit);
  p.emplace_back(f.offset);
  return show(sql, p, f, {"fields"});
}

int run_problems(const Filters& f, const std::string& min_severity) {
  std::vector<store::Cell> p;
  // Problems about a whole capture (a truncated file) have no channel: channel
  // filters leave them out, --capture keeps them.
  std::string sql =
      "SELECT pr.id, pr.severity, pr.code, coalesce(c.type_name, '-') AS channel, pr.channel AS channel_id, "
      "pr.direction, pr.stream_offset, pr.message, pr.offset, pr.path, pr.text"
      " FROM problems pr LEFT JOIN channels c ON c.id = pr.channel LEFT JOIN sessions s ON s.id = c.session" +
      f.where(p, false, "pr.capture_id");
  static const std::vector<std::string> kOrder = {"info", "warning", "error"};
  const auto at = std::find(kOrder.begin(), kOrder.end(), min_severity) - kOrder.begin();
  sql += " AND pr.severity IN (";
  for (size_t i = static_cast<size_t>(at); i < kOrder.size(); ++i) sql += (i > static_cast<size_t>(at) ? ",'" : "'") + kOrder[i] + "'";
  sql += ") ORDER BY pr.id LIMIT ? OFFSET ?";
  p.emplace_back(f.limit);
  p.emplace_back(f.offset);
  return show(sql, p, f);
}

int run_stats(const Filters& f) {
  auto db = open_for_query(f.db);
  std::vector<store::Cell> p1, p2;
  const std::string join =
      " FROM message_rows m JOIN channels c ON c.id = m.channel LEFT JOIN sessions s ON s.id = c.session";
  const std::string dir = "CASE m.dir WHEN 0 THEN 'c2s' ELSE 's2c' END AS direction";
  auto by_channel = db.query("SELECT coalesce(c.type_name, '?') AS channel, " + dir + ", count(*) AS messages, "
                             "sum(m.wire_size) AS bytes" + join + f.where(p1, true) +
                                 " GROUP BY 1, 2 ORDER BY bytes DESC",
                             p1);
  auto by_name = db.query("SELECT n.name, direction, messages, bytes, largest FROM (SELECT m.name_id, " + dir +
                              ", count(*) AS messages, sum(m.wire_size) AS bytes, max(m.wire_size) AS largest" + join +
                              f.where(p2, true) + " GROUP BY m.name_id, m.dir) JOIN names n ON n.id = name_id"
                              " ORDER BY bytes DESC",
                          p2);
  if (!by_channel || !by_name) {
    std::cerr << "spice-capture stats: query failed: "
              << (!by_channel ? by_channel.error().message : by_name.error().message) << '\n';
    return kExitDatabase;
  }
  if (f.json) {
    nlohmann::ordered_json out = {{"by_channel", table_to_json(*by_channel)}, {"by_message", table_to_json(*by_name)}};
    std::cout << out.dump(2) << '\n';
  } else {
    std::cout << "Per channel and direction:\n";
    print_table(std::cout, *by_channel);
    std::cout << "\nPer message:\n";
    print_table(std::cout, *by_name);
  }
  return kExitOk;
}

}  // namespace

void register_sessions(CLI::App& app) {
  auto f = std::make_shared<Filters>();
  auto* cmd = app.add_subcommand("sessions", "List SPICE sessions (channels grouped by session id)");
  cmd->footer("Example:\n  spice-capture sessions --db session.db --json");
  f->add_common(cmd);
  cmd->callback([f] { throw CLI::RuntimeError(run_sessions(*f)); });
}

void register_channels(CLI::App& app) {
  auto f = std::make_shared<Filters>();
  auto* cmd = app.add_subcommand("channels", "List channel connections with capabilities and traffic");
  cmd->footer("Examples:\n  spice-capture channels --db s.db\n  spice-capture channels --type display --json");
  f->add_common(cmd);
  f->add_channel(cmd);
  cmd->callback([f] { throw CLI::RuntimeError(run_channels(*f)); });
}

void register_messages(CLI::App& app) {
  auto f = std::make_shared<Filters>();
  auto* cmd = app.add_subcommand("messages", "List decoded messages");
  cmd->footer(
      "Names are <channel>.<message> (main.init, display.draw_copy, link.mess);\n"
      "'*' matches anything. Fields are decoded on demand: a one-line summary, or\n"
      "with --json the message as JSON (the same as spice_json(id) in SQL).\n\n"
      "Examples:\n"
      "  spice-capture messages --name 'inputs.*' --direction c2s\n"
      "  spice-capture messages --type display --name 'display.draw_*' --limit 10 --json\n"
      "  spice-capture messages --session 1234 --name main.init --json | jq '.[0].fields'");
  f->add_common(cmd);
  f->add_channel(cmd);
  cmd->add_option("-d,--direction", f->direction, "c2s (client to server) or s2c")->check(CLI::IsMember({"c2s", "s2c"}));
  cmd->add_option("-n,--name", f->name, "Message name, e.g. main.init or 'display.draw_*'");
  f->add_paging(cmd, "messages");
  cmd->callback([f] { throw CLI::RuntimeError(run_messages(*f)); });
}

void register_problems(CLI::App& app) {
  auto f = std::make_shared<Filters>();
  auto severity = std::make_shared<std::string>("info");
  auto* cmd = app.add_subcommand("problems", "List what was not as it should be: gaps, resyncs, bad fields");
  cmd->footer(
      "Each problem is located: channel, direction, stream offset, message id, offset\n"
      "in the message and field path. Codes are listed in docs/store.md.\n\n"
      "Examples:\n"
      "  spice-capture problems --db s.db\n"
      "  spice-capture problems --severity error --json");
  f->add_common(cmd);
  f->add_channel(cmd);
  cmd->add_option("--severity", *severity, "Only this severity and worse: info, warning, error")
      ->check(CLI::IsMember({"info", "warning", "error"}));
  f->add_paging(cmd, "problems");
  cmd->callback([f, severity] { throw CLI::RuntimeError(run_problems(*f, *severity)); });
}

void register_stats(CLI::App& app) {
  auto f = std::make_shared<Filters>();
  auto* cmd = app.add_subcommand("stats", "Messages and bytes per channel and per message name");
  cmd->footer("Examples:\n  spice-capture stats --db s.db\n  spice-capture stats --type display --json");
  f->add_common(cmd);
  f->add_channel(cmd);
  cmd->add_option("-d,--direction", f->direction, "c2s or s2c")->check(CLI::IsMember({"c2s", "s2c"}));
  cmd->callback([f] { throw CLI::RuntimeError(run_stats(*f)); });
}

}  // namespace sc::cli
