// Live capture as a user runs it: `spice-capture serve` on a free loopback port,
// `spice-capture capture -i lo` on that port, real clients (the SpiceClientGLib
// harness and spicy-screenshot) connecting through it, and another process
// querying the database while the capture runs. Stopped with SIGINT the capture
// is complete and equals what its own pcapng output imports to; killed with
// SIGKILL it leaves a consistent database with what was committed.
//
// Capturing needs root or CAP_NET_RAW; without them the tests skip and say so.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "store/database.hpp"
#include "tests/integration/background_command.hpp"
#include "tests/server/serve_process.hpp"

namespace sc::test {
namespace {

using store::Database;
namespace fs = std::filesystem;

// `spice-capture capture ...` in the background, stdout to a file.
struct CaptureProcess : BackgroundCommand {
  CaptureProcess(const std::vector<std::string>& args, const std::string& stdout_path)
      : BackgroundCommand(with_program(args), stdout_path) {}
  static std::vector<std::string> with_program(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {serve_binary(), "capture"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
};

bool no_permission(const std::string& output) { return output.find("permission denied") != std::string::npos; }

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int64_t scalar(Database& db, const std::string& sql) {
  auto t = db.query(sql);
  if (!t || t->rows.empty() || !std::holds_alternative<int64_t>(t->rows[0][0])) {
    ADD_FAILURE() << sql << ": " << (t ? "no integer" : t.error().message);
    return -1;
  }
  return std::get<int64_t>(t->rows[0][0]);
}

// Each channel's messages as "dir name size" lines, keyed by the channel's endpoints
// and type (channel ids differ between stores).
std::map<std::string, std::vector<std::string>> messages_per_channel(Database& db) {
  std::map<std::string, std::vector<std::string>> out;
  auto t = db.query(
      "SELECT c.client || ' ' || c.server || ' ' || coalesce(c.type_name, '?'), m.direction, m.name, m.size "
      "FROM messages m JOIN channels c ON c.id = m.channel ORDER BY m.id");
  EXPECT_TRUE(t.ok()) << (t ? "" : t.error().message);
  if (!t) return out;
  for (const auto& r : t->rows) {
    out[std::get<std::string>(r[0])].push_back(std::get<std::string>(r[1]) + " " + std::get<std::string>(r[2]) +
                                               " " + std::to_string(std::get<int64_t>(r[3])));
  }
  return out;
}

class LiveCapture : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("live-capture"); }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
    else std::cerr << "files kept in " << dir_ << '\n';
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // Starts a capture of the server's port and waits until it is running; false
  // (with the test skipped) when this machine does not allow capturing.
  std::unique_ptr<CaptureProcess> start_capture(int port, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"-i", "lo", "-f", "tcp port " + std::to_string(port), "--db", path("live.db")};
    args.insert(args.end(), extra.begin(), extra.end());
    auto c = std::make_unique<CaptureProcess>(args, path("capture.out"));
    if (!c->wait_for("capturing on lo", 20s)) {
      const int code = c->finish();
      if (no_permission(c->err())) {
        skipped_ = "capture on lo needs root or CAP_NET_RAW here: " + c->err();
        return nullptr;
      }
      ADD_FAILURE() << "capture did not start (exit " << code << "): " << c->err();
      return nullptr;
    }
    return c;
  }

  std::string dir_;
  std::string skipped_;
};

TEST_F(LiveCapture, QueryableWhileRunningCompleteAfterSigintAndEqualToItsPcapng) {
  ServeProcess serve({"--scenario", "desktop", "--port", "0"}, 90s);
  ASSERT_TRUE(serve.started()) << serve.transcript();
  auto capture = start_capture(serve.port(), {"-w", path("out.pcapng")});
  if (!skipped_.empty()) GTEST_SKIP() << skipped_;
  ASSERT_TRUE(capture);

  // A client that stays connected for a while; the database is queried meanwhile.
  std::atomic<bool> client_done{false};
  RunResult client;
  std::thread client_thread([&] {
    client = run({"/usr/bin/python3", source_dir() + "/tests/peers/spice_client.py", "--uri",
                  "spice://127.0.0.1:" + std::to_string(serve.port()), "--duration", "6"},
                 60s);
    client_done = true;
  });
  // Another process sees the session and its main.init within a few seconds.
  bool seen_session = false, seen_init = false, client_was_running = false;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline && !(seen_session && seen_init)) {
    std::this_thread::sleep_for(250ms);
    const RunResult sessions = run({serve_binary(), "sessions", "--db", path("live.db"), "--json"}, 10s);
    if (sessions.exit_code == 0) {
      auto j = Json::parse(sessions.output, nullptr, false);
      seen_session = j.is_array() && !j.empty();
    }
    const RunResult init = run({serve_binary(), "messages", "--db", path("live.db"), "-n", "main.init", "--json"}, 10s);
    if (init.exit_code == 0) {
      auto j = Json::parse(init.output, nullptr, false);
      seen_init = j.is_array() && j.size() == 1 && j[0].contains("fields") &&
                  j[0]["fields"].contains("session_id");
    }
    client_was_running = !client_done;
  }
  EXPECT_TRUE(seen_session) << "no session in the live database";
  EXPECT_TRUE(seen_init) << "no main.init in the live database";
  EXPECT_TRUE(client_was_running) << "the session was only visible after the client had finished";
  {
    auto live = Database::open(path("live.db"), Database::Mode::ReadOnly);
    ASSERT_TRUE(live.ok()) << live.error().message;
    auto row = live->query("SELECT source, path, status, received FROM captures");
    ASSERT_TRUE(row.ok() && row->rows.size() == 1u);
    EXPECT_EQ(std::get<std::string>(row->rows[0][0]), "live");
    EXPECT_EQ(std::get<std::string>(row->rows[0][2]), "importing");  // still running
    EXPECT_TRUE(std::holds_alternative<std::monostate>(row->rows[0][3]));
  }
  client_thread.join();
  EXPECT_EQ(client.exit_code, 0) << client.output;
  // A second session: spicy-screenshot, which takes the picture and leaves.
  const RunResult shot = run({"spicy-screenshot", "-h", "127.0.0.1", "-p", std::to_string(serve.port()), "-o",
                              path("shot.ppm")},
                             30s);
  EXPECT_EQ(shot.exit_code, 0) << shot.output;
  std::this_thread::sleep_for(1500ms);  // the last FINs reach the capture

  capture->signal(SIGINT);
  const int code = capture->finish();
  ASSERT_EQ(code, 0) << capture->err();
  const std::string summary = slurp(path("capture.out"));
  EXPECT_NE(summary.find("received "), std::string::npos) << summary;
  EXPECT_NE(summary.find("dropped by kernel "), std::string::npos) << summary;
  EXPECT_NE(summary.find("dropped by interface "), std::string::npos) << summary;
  EXPECT_NE(summary.find("packets to " + path("out.pcapng")), std::string::npos) << summary;

  auto db = Database::open(path("live.db"), Database::Mode::ReadOnly);
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto row = db->query(
      "SELECT source, path, status, packets, received, kernel_drops, interface_drops, linktype, "
      "json_extract(options, '$.filter'), first_ts_ns <= last_ts_ns FROM captures");
  ASSERT_TRUE(row.ok()) << row.error().message;
  ASSERT_EQ(row->rows.size(), 1u);
  const auto& r = row->rows[0];
  EXPECT_EQ(std::get<std::string>(r[0]), "live");
  EXPECT_EQ(std::get<std::string>(r[1]), "lo");
  EXPECT_EQ(std::get<std::string>(r[2]), "complete");
  ASSERT_TRUE(std::holds_alternative<int64_t>(r[4])) << "received not set";
  ASSERT_TRUE(std::holds_alternative<int64_t>(r[5])) << "kernel_drops not set";
  ASSERT_TRUE(std::holds_alternative<int64_t>(r[6])) << "interface_drops not set";
  const int64_t packets = std::get<int64_t>(r[3]);
  EXPECT_GT(packets, 100);
  // Drops would leave gaps below (a starved machine, or a capture buffer too small for bursts on lo).
  EXPECT_EQ(std::get<int64_t>(r[5]), 0) << "the kernel dropped packets";
  // libpcap counts every packet that passed the filter, the dropped ones too.
  EXPECT_GE(std::get<int64_t>(r[4]), packets);
  EXPECT_EQ(std::get<int64_t>(r[7]), 1);  // loopback on Linux reads as Ethernet (DLT_EN10MB)
  EXPECT_EQ(std::get<std::string>(r[8]), "tcp port " + std::to_string(serve.port()));
  EXPECT_EQ(std::get<int64_t>(r[9]), 1);

  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM sessions"), 2);
  for (const char* type : {"main", "display", "inputs", "cursor"}) {
    // Both clients open main and display; the GLib one every channel the server offers.
    const int64_t want = std::string(type) == "main" || std::string(type) == "display" ? 2 : 1;
    EXPECT_GE(scalar(*db, std::string("SELECT count(*) FROM channels WHERE type_name = '") + type + "'"), want)
        << type;
  }
  for (const char* name : {"link.mess", "link.reply", "main.init", "display.surface_create", "inputs.init",
                           "inputs.key_down"}) {
    EXPECT_GE(scalar(*db, std::string("SELECT count(*) FROM messages WHERE name = '") + name + "'"), 1) << name;
  }
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM messages WHERE spice_raw(id) IS NULL"), 0);
  if (std::get<int64_t>(r[5]) == 0) {
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM problems WHERE code = 'gap'"), 0);
  }

  // What the capture wrote to its pcapng imports to the same messages.
  const RunResult imported =
      run({serve_binary(), "import", path("out.pcapng"), "-q", "--db", path("from-pcapng.db")}, 60s);
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  auto again = Database::open(path("from-pcapng.db"), Database::Mode::ReadOnly);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(scalar(*again, "SELECT packets FROM captures"), packets);
  const auto live_messages = messages_per_channel(*db);
  const auto file_messages = messages_per_channel(*again);
  EXPECT_GE(live_messages.size(), 8u);
  ASSERT_EQ(live_messages.size(), file_messages.size());
  for (const auto& [channel, list] : live_messages) {
    auto it = file_messages.find(channel);
    ASSERT_NE(it, file_messages.end()) << channel << " is not in the import of the pcapng";
    EXPECT_EQ(list, it->second) << channel;
  }
  EXPECT_EQ(serve.stop(), 0) << serve.transcript();
}

TEST_F(LiveCapture, SigkillLeavesAConsistentDatabaseWithWhatWasCommitted) {
  ServeProcess serve({"--scenario", "desktop", "--port", "0"}, 90s);
  ASSERT_TRUE(serve.started()) << serve.transcript();
  auto capture = start_capture(serve.port(), {"--json"});
  if (!skipped_.empty()) GTEST_SKIP() << skipped_;
  ASSERT_TRUE(capture);
  std::thread client_thread([&] {
    (void)run({"/usr/bin/python3", source_dir() + "/tests/peers/spice_client.py", "--uri",
               "spice://127.0.0.1:" + std::to_string(serve.port()), "--duration", "8"},
              60s);
  });
  // Mid-session: once the store holds display traffic, note what is committed, then kill.
  int64_t committed = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(250ms);
    auto live = Database::open(path("live.db"), Database::Mode::ReadOnly);
    if (!live) continue;
    auto t = live->query("SELECT count(*), count(DISTINCT channel) FROM messages");
    if (t && std::get<int64_t>(t->rows[0][1]) >= 4) {
      std::this_thread::sleep_for(1500ms);
      committed = std::get<int64_t>(live->query("SELECT count(*) FROM messages")->rows[0][0]);
      break;
    }
  }
  ASSERT_GT(committed, 0) << "no messages committed while the session ran";
  capture->signal(SIGKILL);
  EXPECT_EQ(capture->finish(), 128 + SIGKILL);
  client_thread.join();

  const RunResult check = run({"sqlite3", path("live.db"), "pragma integrity_check"}, 30s);
  EXPECT_EQ(check.exit_code, 0);
  EXPECT_EQ(check.output, "ok\n");
  auto db = Database::open(path("live.db"), Database::Mode::ReadOnly);
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto row = db->query("SELECT source, path, status, received FROM captures");
  ASSERT_TRUE(row.ok() && row->rows.size() == 1u);
  EXPECT_EQ(std::get<std::string>(row->rows[0][0]), "live");
  EXPECT_EQ(std::get<std::string>(row->rows[0][1]), "lo");
  EXPECT_EQ(std::get<std::string>(row->rows[0][2]), "importing");  // it never got to say how it ended
  EXPECT_TRUE(std::holds_alternative<std::monostate>(row->rows[0][3]));
  // Everything a reader saw committed is still there, each message with its bytes.
  EXPECT_GE(scalar(*db, "SELECT count(*) FROM messages"), committed);
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM messages WHERE spice_raw(id) IS NULL"), 0);
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM messages WHERE name = 'main.init'"), 1);
  const RunResult sessions = run({serve_binary(), "sessions", "--db", path("live.db")}, 30s);
  EXPECT_EQ(sessions.exit_code, 0) << sessions.output;
  serve.stop();
}

TEST_F(LiveCapture, BadFilterAndMissingInterfaceAreClearErrors) {
  const RunResult bad = run({serve_binary(), "capture", "-i", "lo", "-f", "tcp port", "--db", path("bad.db")}, 30s);
  if (no_permission(bad.output)) GTEST_SKIP() << "capture on lo needs root or CAP_NET_RAW here: " << bad.output;
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("capture filter 'tcp port' is not valid"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(path("bad.db")));

  const RunResult missing = run({serve_binary(), "capture", "-i", "nosuchif0", "--db", path("missing.db")}, 30s);
  EXPECT_EQ(missing.exit_code, 3) << missing.output;
  EXPECT_NE(missing.output.find("interface nosuchif0: no such network interface"), std::string::npos)
      << missing.output;
  EXPECT_FALSE(fs::exists(path("missing.db")));

  const RunResult none = run({serve_binary(), "capture", "--db", path("none.db")}, 30s);
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("no interface given"), std::string::npos) << none.output;

  // Without the capabilities (setpriv takes them away from root): what to do about it.
  if (fs::exists("/usr/bin/setpriv")) {
    const RunResult denied = run({"/usr/bin/setpriv", "--bounding-set=-net_raw,-net_admin",
                                  "--inh-caps=-net_raw,-net_admin", serve_binary(), "capture", "-i", "lo", "--db",
                                  path("denied.db")},
                                 30s);
    EXPECT_EQ(denied.exit_code, 3) << denied.output;
    EXPECT_NE(denied.output.find("interface lo: permission denied"), std::string::npos) << denied.output;
    EXPECT_NE(denied.output.find("CAP_NET_RAW"), std::string::npos) << denied.output;
    EXPECT_FALSE(fs::exists(path("denied.db")));
  }

  const RunResult list = run({serve_binary(), "capture", "--list-interfaces", "--json"}, 30s);
  ASSERT_EQ(list.exit_code, 0) << list.output;
  auto j = Json::parse(list.output, nullptr, false);
  ASSERT_TRUE(j.is_array()) << list.output;
  bool lo = false;
  for (const auto& i : j) lo = lo || (i["name"] == "lo" && i["loopback"] == true);
  EXPECT_TRUE(lo) << list.output;
}

// A quiet interface still ends on time (the read timeout wakes the loop), and an
// empty capture is a complete row with its counters.
TEST_F(LiveCapture, DurationEndsAQuietCapture) {
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = run({serve_binary(), "capture", "-i", "lo", "-f", "tcp port 9 and tcp port 10", "--duration",
                           "1", "--json", "--db", path("quiet.db")},
                          30s);
  if (no_permission(r.output)) GTEST_SKIP() << "capture on lo needs root or CAP_NET_RAW here: " << r.output;
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LT(took, 5s);
  const auto json_at = r.output.find('{');
  ASSERT_NE(json_at, std::string::npos) << r.output;
  auto j = Json::parse(r.output.substr(json_at, r.output.rfind('}') - json_at + 1), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  EXPECT_EQ(j["packets"], 0);
  // Linux counts in ps_recv what reached the socket before the filter was attached
  // (other tests' loopback traffic when they run in parallel): present, not zero.
  EXPECT_TRUE(j["received"].is_number()) << r.output;
  EXPECT_EQ(j["status"], "complete");
  EXPECT_GE(j["seconds"].get<double>(), 1.0);
  auto db = Database::open(path("quiet.db"), Database::Mode::ReadOnly);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM captures WHERE source = 'live' AND status = 'complete' AND "
                        "received IS NOT NULL AND kernel_drops IS NOT NULL AND packets = 0"),
            1);
}

}  // namespace
}  // namespace sc::test
