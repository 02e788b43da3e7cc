#pragma once
// What the query commands share: the filters every one of them accepts (--db,
// --capture, --session, --channel, --type, ...) and running a query to a table or
// JSON. Each command adds the options it needs and builds its SQL with where().
#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "store/session_replay.hpp"

namespace sc::cli {

// Filters shared by the query commands; each adds a WHERE clause with bound values.
struct Filters {
  std::string db = "spice-capture.db";
  std::optional<int64_t> capture;
  std::optional<int64_t> session;   // SPICE session id (main.init.session_id)
  std::optional<int64_t> channel;   // channels.id
  std::string type;                 // channel type name
  std::string direction;
  std::string name;                 // message name; '*' is a wildcard
  int64_t limit = 50;
  int64_t offset = 0;
  bool json = false;

  void add_common(CLI::App* cmd) {
    cmd->add_option("--db", db, "Database file")->envname("SPICE_CAPTURE_DB");
    cmd->add_option("--capture", capture, "Only this capture (captures.id)");
    cmd->add_option("--session", session, "Only this SPICE session id (as `sessions` lists it)");
    cmd->add_flag("--json", json, "JSON output for scripts");
  }
  // --limit and --offset, with the default limit said in the help.
  void add_paging(CLI::App* cmd, const std::string& what) {
    cmd->add_option("-l,--limit", limit, "At most this many " + what + " (default " + std::to_string(limit) + ")");
    cmd->add_option("--offset", offset, "Skip this many " + what + " first");
  }
  void add_channel(CLI::App* cmd) {
    cmd->add_option("--channel", channel, "Only this channel (channels.id)");
    cmd->add_option("-t,--type", type, "Only this channel type: main, display, inputs, cursor, playback, ...");
  }

  // SQL condition over tables aliased c (channels) and s (sessions).
  std::string where(std::vector<store::Cell>& params, bool with_messages,
                    std::string_view capture_column = "c.capture_id") const {
    std::string w = " WHERE 1=1";
    if (capture) {
      w += " AND " + std::string(capture_column) + " = ?";
      params.emplace_back(*capture);
    }
    if (session) { w += " AND s.session_id = ?"; params.emplace_back(*session); }
    if (channel) { w += " AND c.id = ?"; params.emplace_back(*channel); }
    if (!type.empty()) { w += " AND c.type_name = ?"; params.emplace_back(type); }
    if (with_messages && !direction.empty()) {
      w += " AND m.dir = ?";
      params.emplace_back(int64_t{direction == "s2c"});
    }
    if (with_messages && !name.empty()) {
      // Names live in their own small table; an exact name keeps the walk in
      // messages_by_name order, so the first rows come back without a sort.
      std::string pattern = name;
      for (auto& ch : pattern) if (ch == '*') ch = '%';
      w += pattern.find('%') == std::string::npos ? " AND m.name_id = (SELECT id FROM names WHERE name = ?)"
                                                  : " AND m.name_id IN (SELECT id FROM names WHERE name LIKE ?)";
      params.emplace_back(pattern);
    }
    return w;
  }
};

// The session a replaying command (render, images, streams, audio) works on:
// --capture, --session, and --channel naming one channel of the command's kind.
struct SessionArgs {
  Filters f;
  void add(CLI::App* cmd, const std::string& channel_kind) {
    f.add_common(cmd);
    cmd->add_option("--channel", f.channel, "Only this " + channel_kind + " channel (channels.id)");
  }
  store::SessionSelection get() const { return {f.capture, f.session, f.channel}; }
};

// Seconds from `base` (a capture's first packet) to `ts`, as the query commands show times.
inline double seconds(uint64_t ts, uint64_t base) { return ts >= base ? static_cast<double>(ts - base) / 1e9 : 0.0; }

// What a store finder found: the session, or nullopt after printing why not
// (`code` set). When several sessions had `kind` channels and none was chosen,
// says which one is used (unless `quiet`).
std::optional<store::SessionChannels> chosen_session(Result<store::SessionChannels> found, const SessionArgs& a,
                                                     std::string_view kind, bool quiet, int& code);

// Runs `sql` and prints the table (or JSON with --json); json_columns hold JSON text.
int show(const std::string& sql, const std::vector<store::Cell>& params, const Filters& f,
         const std::vector<std::string>& json_columns = {});

}  // namespace sc::cli
