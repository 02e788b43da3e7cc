// The agent end to end on real traffic: spice-gtk (python3-gi SpiceClientGLib)
// against `spice-capture serve` and its simulated guest agent, captured with
// tcpdump, imported by the real binary. Files of every edge size, several at
// once, cancelled and refused transfers, clipboard text and PNG both ways and a
// monitors config; extracted files and clipboard contents must equal what was sent.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "peer_session.hpp"
#include "store_queries.hpp"
#include "store/database.hpp"
#include "util/sha256.hpp"

namespace {

using namespace sc::test;
using sc::store::Database;
using nlohmann::json;

// The sessions CTest's fixture recorded (tests/peers/make_agent_sessions.py).
std::filesystem::path sessions_dir() {
  return std::filesystem::path(bin_dir()).parent_path() / "test-sessions" / "agent";
}

std::string file_sha256(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return sc::util::sha256_hex(data);
}

class AgentSession : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = temp_dir("agent");
    std::ifstream in(sessions_dir() / "manifest.json");
    manifest_ = json::parse(in, nullptr, false);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(work_); }

  // Imports one recorded session (once per test) into its own database.
  std::string import(const std::string& session, const std::string& options = "") {
    EXPECT_FALSE(manifest_.is_discarded()) << "no recorded agent sessions in " << sessions_dir();
    const std::string db = (work_ / (session + std::to_string(++imports_) + ".db")).string();
    auto r = run(spice_capture() + " import " + (sessions_dir() / (session + ".pcap")).string() + " -q --db " + db +
                 " " + options);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    use(db);
    return db;
  }
  // Queries go to this database from now on.
  void use(const std::string& db) {
    auto opened = Database::open(db, Database::Mode::ReadOnly);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::make_unique<Database>(std::move(opened).value());
  }
  sc::store::Table q(const std::string& sql) { return StoreQueries(*db_).q(sql); }
  int64_t scalar(const std::string& sql) { return StoreQueries(*db_).scalar(sql); }
  std::string text(const std::string& sql) { return StoreQueries(*db_).text(sql); }
  json client_summary(const std::string& session) {
    std::ifstream in(sessions_dir() / (session + ".json"));
    return json::parse(in)["clients"][0]["summary"]["agent"];
  }

  static std::filesystem::path work_;
  static json manifest_;
  static int imports_;
  std::unique_ptr<Database> db_;
};
std::filesystem::path AgentSession::work_;
json AgentSession::manifest_;
int AgentSession::imports_ = 0;

TEST_F(AgentSession, EveryAgentMessageDecodesAndEachStepIsInTheTimeline) {
  const std::string db = import("full");
  EXPECT_GT(scalar("SELECT count(*) FROM agent_messages"), 30);
  EXPECT_EQ(scalar("SELECT count(*) FROM agent_messages WHERE fields IS NULL"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM problems WHERE severity <> 'info'"), 0);
  std::set<std::string> names;
  for (const auto& r : q("SELECT DISTINCT n.name FROM agent_messages a JOIN names n ON n.id = a.name_id").rows)
    names.insert(std::get<std::string>(r[0]));
  for (const char* want : {"agent.announce_capabilities", "agent.max_clipboard", "agent.clipboard_grab",
                           "agent.clipboard_request", "agent.clipboard", "agent.file_xfer_start",
                           "agent.file_xfer_status", "agent.file_xfer_data", "agent.monitors_config", "agent.reply"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
  // The capabilities both sides announced decide the layouts: grabs carry selection and serial.
  EXPECT_EQ(scalar("SELECT count(*) FROM agent_messages a JOIN names n ON n.id = a.name_id WHERE "
                   "n.name = 'agent.clipboard_grab' AND json_extract(a.fields, '$.serial') IS NULL"),
            0);
  // The monitors config the client sent, head by head.
  const json mon = json::parse(text("SELECT a.fields FROM agent_messages a JOIN names n ON n.id = a.name_id "
                                    "WHERE n.name = 'agent.monitors_config'"));
  int enabled = 0;
  for (const auto& m : mon["monitors"]) enabled += m["width"].get<int>() > 0;
  EXPECT_EQ(enabled, 2);
  EXPECT_EQ(mon["monitors"][0]["width"], 1024);
  EXPECT_EQ(mon["monitors"][1]["height"], 600);

  auto timeline = run(spice_capture() + " agent --db " + db + " --json", 60, true);
  ASSERT_EQ(timeline.exit_code, 0);
  const json lines = json::parse(timeline.output);
  std::multiset<std::string> events;
  for (const auto& l : lines) events.insert(l["event"].get<std::string>());
  EXPECT_EQ(events.count("file_xfer_start"), 9u);
  EXPECT_EQ(events.count("file success"), 9u);
  EXPECT_EQ(events.count("clipboard_grab"), 3u);  // the guest's, then the client's text and PNG
  EXPECT_EQ(events.count("clipboard"), 4u);
  EXPECT_GE(events.count("main.agent_start"), 1u);
  EXPECT_EQ(events.count("file_xfer_data"), 0u);  // summed up in the transfer's line without --all
}

TEST_F(AgentSession, ExtractedFilesEqualWhatWasSent) {
  const std::string db = import("full");
  const auto& files = manifest_["files"];
  auto t = q("SELECT name, declared_size, bytes_seen, sha256, status FROM file_transfers ORDER BY id");
  ASSERT_EQ(t.rows.size(), 9u);
  for (const auto& r : t.rows) {
    const std::string name = std::get<std::string>(r[0]);
    ASSERT_TRUE(files.contains(name)) << name;
    EXPECT_EQ(std::get<int64_t>(r[1]), files[name]["size"].get<int64_t>()) << name;
    EXPECT_EQ(std::get<int64_t>(r[2]), files[name]["size"].get<int64_t>()) << name;
    EXPECT_EQ(std::get<std::string>(r[3]), files[name]["sha256"].get<std::string>()) << name;
    EXPECT_EQ(std::get<std::string>(r[4]), "success") << name;
  }
  const auto out = work_ / "extracted";
  std::filesystem::remove_all(out);
  auto r = run(spice_capture() + " files extract -o " + out.string() + " --db " + db + " --json", 120, true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json report = json::parse(r.output);
  ASSERT_EQ(report.size(), 9u);
  std::set<std::string> written;
  for (const auto& e : report) {
    const std::filesystem::path path = e["path"].get<std::string>();
    EXPECT_EQ(path.parent_path(), out);
    EXPECT_EQ(file_sha256(path), files[e["name"].get<std::string>()]["sha256"].get<std::string>()) << path;
    written.insert(path.filename().string());
  }
  // f2049.bin was sent twice: the second copy gets its own name, nothing is overwritten.
  EXPECT_TRUE(written.count("f2049.bin") && written.count("f2049 (1).bin"));
  // Again into the same directory: new names, and a symlink planted there is not followed.
  std::filesystem::create_symlink("/tmp/spice-capture-must-not-exist", out / "f1 (1).bin");
  r = run(spice_capture() + " files extract -o " + out.string() + " --db " + db + " --json", 120, true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(std::filesystem::exists("/tmp/spice-capture-must-not-exist"));
  EXPECT_TRUE(std::filesystem::exists(out / "f1 (2).bin"));
}

TEST_F(AgentSession, ClipboardContentsEqualWhatWasCopied) {
  import("full");
  const json agent = client_summary("full");
  auto rows = q("SELECT dir, type, size, sha256, content, selection FROM clipboard ORDER BY id");
  ASSERT_EQ(rows.rows.size(), 4u);
  // Guest to client: what the client received.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(std::get<int64_t>(rows.rows[i][0]), 1);
    EXPECT_EQ(std::get<std::string>(rows.rows[i][3]), agent["clipboard_received"][i]["sha256"].get<std::string>());
  }
  EXPECT_EQ(std::get<std::string>(rows.rows[0][1]), "utf8_text");
  EXPECT_EQ(std::get<std::string>(rows.rows[0][4]), manifest_["guest_text"].get<std::string>());  // stored as UTF-8 text
  EXPECT_EQ(std::get<std::string>(rows.rows[0][5]), "clipboard");
  // Client to guest: what the client sent (text, then the PNG file).
  EXPECT_EQ(std::get<int64_t>(rows.rows[2][0]), 0);
  EXPECT_EQ(std::get<std::string>(rows.rows[2][4]), manifest_["client_text"].get<std::string>());
  EXPECT_EQ(std::get<std::string>(rows.rows[2][3]), agent["clipboard_sent"][0]["sha256"].get<std::string>());
  EXPECT_EQ(std::get<std::string>(rows.rows[3][1]), "image_png");
  EXPECT_EQ(std::get<std::string>(rows.rows[3][3]), manifest_["files"]["pic.png"]["sha256"].get<std::string>());
  EXPECT_EQ(scalar("SELECT count(*) FROM clipboard WHERE sha256 = lower(hex(sha256)) OR length(sha256) <> 64"), 0);
}

TEST_F(AgentSession, CancelledTransfersAreReportedAndExtractedOnlyOnRequest) {
  const std::string db = import("cancel");
  EXPECT_EQ(scalar("SELECT count(*) FROM file_transfers"), 4);
  EXPECT_EQ(scalar("SELECT count(*) FROM file_transfers WHERE status = 'cancelled' AND error LIKE '%client%'"), 3);
  EXPECT_EQ(scalar("SELECT count(*) FROM file_transfers WHERE status = 'success' AND name = 'f2049.bin'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM problems WHERE code = 'file_xfer_cancelled'"), 3);
  const auto out = work_ / "cancelled";
  auto r = run(spice_capture() + " files extract -o " + out.string() + " --db " + db);
  EXPECT_EQ(r.exit_code, 8) << r.output;  // only the whole file is written
  EXPECT_NE(r.output.find("--partial"), std::string::npos);
  r = run(spice_capture() + " files extract -o " + out.string() + " --partial --db " + db);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const int64_t seen = scalar("SELECT bytes_seen FROM file_transfers WHERE status = 'cancelled' ORDER BY id LIMIT 1");
  EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(out / "f5m.bin.partial")), seen);
}

TEST_F(AgentSession, RefusedTransfersCarryTheGuestsDetailedError) {
  import("fail");
  auto t = q("SELECT status, error FROM file_transfers ORDER BY id");
  ASSERT_EQ(t.rows.size(), 2u);
  for (const auto& r : t.rows) {
    EXPECT_EQ(std::get<std::string>(r[0]), "not_enough_space");
    EXPECT_NE(std::get<std::string>(r[1]).find("bytes free"), std::string::npos);
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM problems WHERE code = 'file_xfer_failed'"), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM problems WHERE severity = 'error'"), 0);
}

TEST_F(AgentSession, RedactionKeepsSizesAndHashesButNoContent) {
  const std::string db = import("full", "--redact=clipboard,files");
  EXPECT_EQ(scalar("SELECT count(*) FROM clipboard WHERE content IS NOT NULL OR redacted = 0"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM clipboard WHERE length(sha256) = 64 AND size > 0"), 4);
  EXPECT_EQ(scalar("SELECT count(*) FROM file_transfers WHERE content = 'redacted' AND length(sha256) = 64"), 9);
  EXPECT_EQ(scalar("SELECT count(*) FROM agent_messages a JOIN names n ON n.id = a.name_id WHERE "
                   "n.name = 'agent.clipboard' AND json_extract(a.fields, '$.data') IS NOT NULL"),
            0);
  // Neither the copied text nor a file's bytes are anywhere in the database file.
  db_.reset();
  (void)run("sqlite3 " + db + " 'PRAGMA wal_checkpoint(TRUNCATE)'");
  std::ifstream in(db, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find(manifest_["client_text"].get<std::string>()), std::string::npos);
  EXPECT_EQ(bytes.find(manifest_["guest_text"].get<std::string>()), std::string::npos);
  std::ifstream f(sessions_dir() / "src" / "h70k.bin", std::ios::binary);
  std::string probe(64, '\0');
  f.seekg(40000);
  f.read(probe.data(), 64);
  EXPECT_EQ(bytes.find(probe), std::string::npos);
  auto r = run(spice_capture() + " files extract -o " + (work_ / "redacted").string() + " --db " + db);
  EXPECT_EQ(r.exit_code, 8);
  EXPECT_NE(r.output.find("redacted"), std::string::npos);
  // Redacting keys only leaves the agent alone.
  import("full", "--redact keys");
  EXPECT_EQ(scalar("SELECT count(*) FROM clipboard WHERE content IS NOT NULL"), 4);
}

// Packets of the capture in order; the capture is cut at `keep_from`..`keep_to` (indexes).
std::string cut(const std::filesystem::path& from, const std::filesystem::path& to, size_t keep_from, size_t keep_to) {
  rewrite_pcap(from.string(), to.string(), [&](size_t i, const pcap_pkthdr&, const u_char*) {
    return i >= keep_from && i < keep_to;
  });
  return to.string();
}

size_t packets(const std::filesystem::path& p) {
  size_t n = 0;
  rewrite_pcap(p.string(), "/dev/null", [&](size_t, const pcap_pkthdr&, const u_char*) { return ++n, false; });
  return n;
}

TEST_F(AgentSession, ACaptureCutInsideATransferIsReportedNotFatal) {
  const auto full = sessions_dir() / "full.pcap";
  const size_t n = packets(full);
  ASSERT_GT(n, 1000u);
  // Find the packet in the middle of the 5 MB transfer: the capture's byte midpoint is inside it.
  size_t bytes = 0, total = 0, middle = 0;
  rewrite_pcap(full.string(), "/dev/null", [&](size_t, const pcap_pkthdr& h, const u_char*) { return total += h.len, false; });
  rewrite_pcap(full.string(), "/dev/null", [&](size_t i, const pcap_pkthdr& h, const u_char*) {
    if ((bytes += h.len) >= total / 3 && !middle) middle = i;
    return false;
  });
  for (auto [name, from, to] : {std::tuple{"head", size_t(0), middle}, std::tuple{"tail", middle, n}}) {
    const std::string pcap = cut(full, work_ / (std::string(name) + ".pcap"), from, to);
    const std::string db = (work_ / (std::string(name) + ".db")).string();
    // Nothing in the tail shows a link stage: the server port says where SPICE is.
    std::ifstream meta_in(sessions_dir() / "full.json");
    const int port = json::parse(meta_in)["server"]["port"].get<int>();
    const std::string port_arg = std::string(name) == "tail" ? " --port " + std::to_string(port) : "";
    auto r = run(spice_capture() + " import " + pcap + port_arg + " -q --db " + db);
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 6) << name << ": " << r.output;
    use(db);
    if (std::string(name) == "head") {
      // The transfer the capture stops in has no end: it is unfinished, with what was seen.
      EXPECT_EQ(scalar("SELECT count(*) FROM file_transfers WHERE status = 'incomplete' AND bytes_seen > 0"), 1) << name;
      EXPECT_GE(scalar("SELECT count(*) FROM problems WHERE code = 'file_xfer_unfinished'"), 1);
    } else {
      // Picked up mid-session: the agent stream resynchronises and later transfers decode whole.
      EXPECT_EQ(scalar("SELECT count(DISTINCT a.channel) FROM agent_messages a JOIN channels c ON c.id = a.channel "
                       "WHERE c.midstream = 1"), 1);
      EXPECT_EQ(scalar("SELECT count(*) FROM problems WHERE code = 'file_xfer_data_unknown_id'"), 1);
      EXPECT_EQ(scalar("SELECT count(*) FROM file_transfers WHERE name = 'g3m.bin' AND status = 'success'"), 1);
      EXPECT_GE(scalar("SELECT count(*) FROM problems WHERE code LIKE 'agent_%' OR code LIKE 'file_xfer_%'"), 1);
    }
  }
}

TEST_F(AgentSession, APacketLostInsideATransferLeavesItPartialWithWhatWasSeen) {
  // Drop the largest client packet at a third of the capture: inside the 5 MB transfer.
  const auto full = sessions_dir() / "full.pcap";
  uint64_t total = 0, bytes = 0;
  rewrite_pcap(full.string(), "/dev/null", [&](size_t, const pcap_pkthdr& h, const u_char*) { return total += h.len, false; });
  size_t drop = SIZE_MAX;
  rewrite_pcap(full.string(), "/dev/null", [&](size_t i, const pcap_pkthdr& h, const u_char*) {
    if ((bytes += h.len) >= total / 3 && drop == SIZE_MAX && h.caplen > 1000) drop = i;
    return false;
  });
  const std::string pcap = (work_ / "dropped.pcap").string();
  rewrite_pcap(full.string(), pcap, [&](size_t i, const pcap_pkthdr&, const u_char*) { return i != drop; });
  const std::string db = (work_ / "dropped.db").string();
  auto r = run(spice_capture() + " import " + pcap + " -q --db " + db);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  use(db);
  // One agent message (a 64 KiB data message) is lost; the rest of the file is seen
  // in order, before the guest's final status, and every other transfer is whole.
  EXPECT_EQ(scalar("SELECT count(*) FROM problems WHERE code = 'agent_message_lost'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM file_transfers WHERE name = 'f5m.bin' AND content = 'partial' AND "
                   "bytes_seen = 5000000 - 65536 AND status = 'success'"),
            1);
  EXPECT_EQ(scalar("SELECT count(*) FROM problems WHERE code = 'file_xfer_short'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM problems WHERE code = 'file_xfer_data_unknown_id'"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM file_transfers WHERE content = 'stored' AND status = 'success'"), 8);
}

TEST_F(AgentSession, JsonOutputsParse) {
  const std::string db = import("full");
  for (const char* cmd : {" agent --all", " clipboard", " files list"}) {
    auto r = run(spice_capture() + cmd + " --json --db " + db, 60, true);
    ASSERT_EQ(r.exit_code, 0) << cmd;
    const json j = json::parse(r.output, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << cmd;
    EXPECT_GT(j.size(), 0u) << cmd;
  }
  auto r = run(spice_capture() + " clipboard --json --db " + db, 60, true);
  EXPECT_EQ(json::parse(r.output)[2]["text"], manifest_["client_text"]);
}

}  // namespace
