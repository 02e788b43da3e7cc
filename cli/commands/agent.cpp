// The agent commands: agent (the conversation as a timeline), clipboard, files.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/filters.hpp"
#include "cli/output.hpp"
#include "dissect/agent/keyfile.hpp"
#include "store/agent_files.hpp"

namespace sc::cli {
namespace {

constexpr const char* kAgentDir = "CASE %s WHEN 0 THEN 'client>guest' ELSE 'guest>client' END";

std::string agent_dir(const std::string& column) {
  char buf[128];
  std::snprintf(buf, sizeof buf, kAgentDir, column.c_str());
  return buf;
}

// Every channel filter applies through c (the main channel) and s (its session).
constexpr const char* kJoinChannel =
    " JOIN channels c ON c.id = ev.channel JOIN captures cap ON cap.id = c.capture_id"
    " LEFT JOIN sessions s ON s.id = c.session";

int run_agent(const Filters& f, bool all_data) {
  std::vector<store::Cell> p;
  const std::string time = f.json ? "ev.ts AS ts_ns" : "printf('%.6f', (ev.ts - cap.first_ts_ns) / 1e9) AS time";
  const std::string main_dir = "CASE m.dir WHEN 0 THEN 'client>server' ELSE 'server>client' END";
  std::string sql =
      "WITH ev AS ("
      // The agent's own messages (file data only with --all: the transfer's line sums it up).
      " SELECT a.ts_ns AS ts, 0 AS rank, a.id AS seq, a.channel, " + agent_dir("a.dir") + " AS dir, substr(n.name, 7) AS event,"
      "  a.size AS size, a.summary AS detail, a.fields AS fields"
      "  FROM agent_messages a JOIN names n ON n.id = a.name_id" +
      (all_data ? std::string() : std::string(" WHERE n.name <> 'agent.file_xfer_data'")) +
      // What the main channel says about the agent.
      " UNION ALL SELECT m.ts_ns, 0, m.id, m.channel, " + main_dir + ", n.name, m.size, spice_text(m.id), spice_json(m.id)"
      "  FROM message_rows m JOIN names n ON n.id = m.name_id WHERE n.name IN ('main.init', 'main.agent_connected',"
      "  'main.agent_connected_tokens', 'main.agent_disconnected', 'main.agent_start')"
      // Transfers as one line each, when they end.
      " UNION ALL SELECT coalesce(f.end_ts_ns, f.start_ts_ns), 1, f.id, f.channel, " + agent_dir("f.dir") + ","
      "  'file ' || f.status, f.bytes_seen,"
      "  printf('%s: %d of %s bytes in %.3f s%s%s', f.name, f.bytes_seen, coalesce(f.declared_size, '?'),"
      "  (coalesce(f.end_ts_ns, f.start_ts_ns) - f.start_ts_ns) / 1e9,"
      "  CASE WHEN f.error IS NULL THEN '' ELSE ' - ' || f.error END, ' sha256 ' || substr(f.sha256, 1, 16)), NULL"
      "  FROM file_transfers f"
      // And what went wrong, where it went wrong.
      " UNION ALL SELECT coalesce(pr.ts_ns, ch.last_ts_ns), 2, pr.id, pr.channel,"
      "  CASE pr.direction WHEN 'c2s' THEN 'client>guest' ELSE 'guest>client' END, pr.severity || ' ' || pr.code,"
      "  NULL, pr.text, NULL FROM problems pr JOIN channels ch ON ch.id = pr.channel"
      "  WHERE pr.code LIKE 'agent%' OR pr.code LIKE 'clipboard%' OR pr.code LIKE 'file_xfer%'"
      ") SELECT " + time + ", s.session_id AS session, ev.dir AS direction, ev.event, ev.size, " +
      (f.json ? "ev.fields, ev.detail" : "ev.detail") + " FROM ev" + kJoinChannel + f.where(p, false) +
      " ORDER BY ev.ts, ev.rank, ev.seq LIMIT ? OFFSET ?";
  p.emplace_back(f.limit);
  p.emplace_back(f.offset);
  return show(sql, p, f, {"fields"});
}

int run_clipboard(const Filters& f) {
  std::vector<store::Cell> p;
  std::string cols = f.json ? "ev.id, ev.ts_ns, s.session_id AS session, " + agent_dir("ev.dir") +
                                  " AS direction, ev.selection, ev.type, ev.size, ev.serial, ev.sha256, ev.redacted,"
                                  " CASE WHEN typeof(ev.content) = 'text' THEN ev.content END AS text,"
                                  " CASE WHEN typeof(ev.content) = 'blob' THEN hex(ev.content) END AS content_hex"
                            : "ev.id, printf('%.6f', (ev.ts_ns - cap.first_ts_ns) / 1e9) AS time, s.session_id AS session, " +
                                  agent_dir("ev.dir") + " AS direction, ev.selection, ev.type, ev.size, ev.serial,"
                                  " substr(ev.sha256, 1, 16) AS sha256,"
                                  " CASE WHEN ev.redacted THEN '<redacted>' WHEN typeof(ev.content) = 'text'"
                                  " THEN replace(replace(substr(ev.content, 1, 60), char(10), '\\n'), char(13), '\\r')"
                                  " WHEN ev.content IS NULL THEN '' ELSE '<' || ev.size || ' bytes>' END AS content";
  const std::string sql = "SELECT " + cols + " FROM clipboard ev" + kJoinChannel + f.where(p, false) +
                          " ORDER BY ev.ts_ns, ev.id LIMIT ? OFFSET ?";
  p.emplace_back(f.limit);
  p.emplace_back(f.offset);
  return show(sql, p, f);
}

int run_files_list(const Filters& f) {
  std::vector<store::Cell> p;
  std::string cols =
      "ev.id, s.session_id AS session, ev.transfer_id, " + agent_dir("ev.dir") +
      " AS direction, ev.name, ev.declared_size AS size, ev.bytes_seen AS seen, ev.status, ev.error, " +
      (f.json ? std::string("ev.start_ts_ns, ev.end_ts_ns, ev.rate_bps, ev.sha256, ev.content, ev.extracted_to")
              : std::string("printf('%.3f', (coalesce(ev.end_ts_ns, ev.start_ts_ns) - ev.start_ts_ns) / 1e9) AS seconds,"
                            " CASE WHEN ev.rate_bps IS NULL THEN '-' ELSE printf('%.1f MB/s', ev.rate_bps / 1e6) END AS rate,"
                            " substr(ev.sha256, 1, 16) AS sha256, ev.content"));
  const std::string sql = "SELECT " + cols + " FROM file_transfers ev" + kJoinChannel + f.where(p, false) +
                          " ORDER BY ev.start_ts_ns, ev.id LIMIT ? OFFSET ?";
  p.emplace_back(f.limit);
  p.emplace_back(f.offset);
  return show(sql, p, f);
}

// A new file inside `dir` (an open directory), named after `wanted` and never
// outside it: the name is cut to its last component, created with O_EXCL (so an
// existing entry, a symlink included, is never followed or overwritten) and
// numbered "name (1).ext" when taken. Returns the fd and the name used.
std::pair<int, std::string> create_in(int dir, const std::string& wanted) {
  const std::string base = agent::safe_file_name(wanted);
  const std::filesystem::path bp(base);
  const std::string stem = bp.stem().string(), ext = bp.extension().string();
  for (int n = 0; n < 10000; ++n) {
    const std::string name = n == 0 ? base : stem + " (" + std::to_string(n) + ")" + ext;
    const int fd = openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) return {fd, name};
    if (errno != EEXIST) return {-1, name};
  }
  errno = EEXIST;
  return {-1, base};
}

bool write_all(int fd, std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t w = ::write(fd, bytes.data(), bytes.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    bytes = bytes.subspan(static_cast<size_t>(w));
  }
  return true;
}

struct ExtractArgs {
  Filters f;
  std::string out_dir;
  std::vector<int64_t> ids;
  bool partial = false;
};

int run_files_extract(const ExtractArgs& a) {
  // Writable when possible, to note where each file went; reading is enough.
  auto rw = store::Database::open(a.f.db, store::Database::Mode::ReadWrite);
  store::Database db = rw ? std::move(rw).value() : open_for_query(a.f.db);
  std::vector<store::Cell> p;
  std::string sql = "SELECT ev.id FROM file_transfers ev" + std::string(kJoinChannel) + a.f.where(p, false);
  if (!a.ids.empty()) {
    sql += " AND ev.id IN (";
    for (size_t i = 0; i < a.ids.size(); ++i) {
      sql += i ? ",?" : "?";
      p.emplace_back(a.ids[i]);
    }
    sql += ")";
  }
  auto rows = db.query(sql + " ORDER BY ev.id", p);
  if (!rows) {
    std::cerr << "spice-capture files extract: " << rows.error().message << '\n';
    return kExitDatabase;
  }
  std::error_code ec;
  std::filesystem::create_directories(a.out_dir, ec);
  const int dir = open(a.out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    std::cerr << "spice-capture files extract: " << a.out_dir << ": " << std::strerror(errno) << '\n';
    return kExitInputMissing;
  }
  nlohmann::ordered_json report = nlohmann::ordered_json::array();
  int exit_code = kExitOk;
  for (const auto& r : rows->rows) {
    const int64_t id = std::get<int64_t>(r[0]);
    auto t = store::stored_transfer(db, id);
    nlohmann::ordered_json entry = {{"id", id}};
    auto fail = [&](const std::string& why) {
      entry["error"] = why;
      if (!a.f.json) std::cerr << "file " << id << (t ? " (" + t->name + ")" : "") << ": not extracted: " << why << '\n';
      exit_code = kExitIncomplete;
    };
    if (!t) {
      fail(t.error().message);
      report.push_back(entry);
      continue;
    }
    entry["name"] = t->name;
    entry["status"] = t->status;
    const bool whole = t->status == "success" && t->content == "stored";
    if (!whole && !a.partial) {
      fail(t->content == "redacted" ? "its content was redacted at import"
                                    : "the transfer ended " + t->status + " (use --partial to write what was seen)");
      report.push_back(entry);
      continue;
    }
    auto [fd, name] = create_in(dir, whole ? t->name : t->name + ".partial");
    if (fd < 0) {
      fail(name + ": " + std::strerror(errno));
      report.push_back(entry);
      continue;
    }
    bool io_ok = true;
    auto n = store::read_transfer(db, *t, [&](std::span<const uint8_t> b) { io_ok = io_ok && write_all(fd, b); });
    ::close(fd);
    const std::string path = (std::filesystem::path(a.out_dir) / name).string();
    if (!n || !io_ok) {
      unlinkat(dir, name.c_str(), 0);
      fail(!io_ok ? path + ": write failed" : n.error().message);
      report.push_back(entry);
      continue;
    }
    entry["path"] = path;
    entry["bytes"] = *n;
    entry["sha256"] = t->sha256;
    if (rw) (void)db.query("UPDATE file_transfers SET extracted_to = ? WHERE id = ?", {store::Cell{path}, store::Cell{id}});
    if (!a.f.json) std::cout << "file " << id << ": " << path << " (" << *n << " bytes, sha256 " << t->sha256 << ")\n";
    report.push_back(entry);
  }
  ::close(dir);
  if (a.f.json) std::cout << report.dump(2) << '\n';
  else if (rows->rows.empty()) std::cout << "no file transfers match\n";
  return exit_code;
}

}  // namespace

void register_agent(CLI::App& app) {
  auto f = std::make_shared<Filters>();
  auto all = std::make_shared<bool>(false);
  f->limit = 500;
  auto* cmd = app.add_subcommand("agent", "The guest agent conversation as a timeline");
  cmd->footer(
      "Each line is an agent message reassembled from main.agent_data (client>guest or\n"
      "guest>client), what the main channel says about the agent (connected, tokens),\n"
      "a finished file transfer, or a problem found (token starvation, clipboard\n"
      "races, stalled or failed transfers). File data messages are summed up in their\n"
      "transfer's line; --all lists each one.\n\n"
      "Examples:\n"
      "  spice-capture agent --db s.db\n"
      "  spice-capture agent --session 1234 --json | jq '.[] | select(.event == \"clipboard_grab\")'");
  f->add_common(cmd);
  cmd->add_option("--channel", f->channel, "Only this main channel (channels.id)");
  cmd->add_flag("--all", *all, "Also list every file data message");
  f->add_paging(cmd, "lines");
  cmd->callback([f, all] { throw CLI::RuntimeError(run_agent(*f, *all)); });
}

void register_clipboard(CLI::App& app) {
  auto f = std::make_shared<Filters>();
  f->limit = 500;
  auto* cmd = app.add_subcommand("clipboard", "What was copied between client and guest");
  cmd->footer(
      "One line per clipboard transfer: direction, selection, type, size, SHA-256 and\n"
      "the start of text. --json gives the whole text (or the bytes as hex).\n\n"
      "Examples:\n"
      "  spice-capture clipboard --db s.db\n"
      "  spice-capture clipboard --json | jq -r '.[0].text'");
  f->add_common(cmd);
  f->add_paging(cmd, "clipboard transfers");
  cmd->callback([f] { throw CLI::RuntimeError(run_clipboard(*f)); });
}

void register_files(CLI::App& app) {
  auto* cmd = app.add_subcommand("files", "File transfers between client and guest: list, extract");
  cmd->require_subcommand(1);
  cmd->footer(
      "Examples:\n"
      "  spice-capture files list --db s.db\n"
      "  spice-capture files extract -o recovered/ --db s.db\n"
      "  spice-capture files extract 3 5 -o recovered/ --partial");

  auto lf = std::make_shared<Filters>();
  lf->limit = 500;
  auto* list = cmd->add_subcommand("list", "List file transfers with status, sizes and SHA-256");
  lf->add_common(list);
  lf->add_paging(list, "transfers");
  list->callback([lf] { throw CLI::RuntimeError(run_files_list(*lf)); });

  auto ea = std::make_shared<ExtractArgs>();
  auto* extract = cmd->add_subcommand("extract", "Write transferred files into a directory");
  extract->footer(
      "Files are rebuilt from the stored main channel and checked against the SHA-256\n"
      "import computed. Names come from the sender and are never trusted: only the\n"
      "last path component is used, nothing is created outside DIR, existing entries\n"
      "(symlinks included) are never followed or overwritten; a taken name becomes\n"
      "'name (1).ext'. Exit 8 when some file could not be written whole.");
  ea->f.add_common(extract);
  extract->add_option("ids", ea->ids, "file_transfers ids (default: every transfer that matches)");
  extract->add_option("-o,--output", ea->out_dir, "Directory to write into (created if missing)")->required();
  extract->add_flag("--partial", ea->partial,
                    "Also write transfers that did not succeed, as NAME.partial, with the bytes seen");
  extract->callback([ea] { throw CLI::RuntimeError(run_files_extract(*ea)); });
}

}  // namespace sc::cli
