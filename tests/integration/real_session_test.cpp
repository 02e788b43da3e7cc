// Decoding a real session end to end: QEMU with every channel it offers,
// spicy-screenshot and a SpiceClientGLib client typing, moving and clicking,
// captured with tcpdump on loopback, imported by the real spice-capture binary,
// and checked against the capture itself and against tshark's built-in dissector.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "peer_session.hpp"
#include "store_queries.hpp"
#include "store/database.hpp"

namespace {

using namespace sc::test;
using sc::store::Database;

class RealSession : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    session_ = &shared_qemu_session();
    if (!session_->error.empty()) return;
    // The recorded session is shared with other test processes: databases are our own.
    work_ = temp_dir("real");
    db_path_ = (work_ / "session.db").string();
    import_ = run(spice_capture() + " import " + session_->pcap.string() + " --db " + db_path_, 120);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(work_); }
  void SetUp() override {
    ASSERT_TRUE(session_->error.empty()) << session_->error;
    ASSERT_EQ(import_.exit_code, 0) << import_.output;
    auto db = Database::open(db_path_, Database::Mode::ReadOnly);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::make_unique<Database>(std::move(db).value());
  }
  sc::store::Table q(const std::string& sql) { return StoreQueries(*db_).q(sql); }
  int64_t scalar(const std::string& sql) { return StoreQueries(*db_).scalar(sql); }

  static const RecordedSession* session_;
  static std::string db_path_;
  static std::filesystem::path work_;
  static CommandResult import_;
  std::unique_ptr<Database> db_;
};
const RecordedSession* RealSession::session_ = nullptr;
std::string RealSession::db_path_;
std::filesystem::path RealSession::work_;
CommandResult RealSession::import_;

TEST_F(RealSession, EveryChannelQemuOffersIsDecoded) {
  auto t = q("SELECT DISTINCT type_name FROM channels");
  std::set<std::string> types;
  for (const auto& r : t.rows) types.insert(std::get<std::string>(r[0]));
  for (const char* want : {"main", "display", "inputs", "cursor", "playback", "record", "usbredir", "port", "webdav",
                           "smartcard"}) {
    EXPECT_TRUE(types.count(want)) << want;
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM channels WHERE link_error != 'ok' OR header != 'mini'"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM problems WHERE severity = 'error'"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM messages WHERE name LIKE '%.unknown' OR name LIKE '%.undecodable'"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM messages WHERE spice_json(id) IS NULL"), 0);
}

TEST_F(RealSession, ChannelsAreGroupedIntoSessions) {
  // spicy-screenshot and the GLib client each make one session.
  EXPECT_EQ(scalar("SELECT count(*) FROM sessions"), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM channels WHERE session IS NULL"), 0);
  EXPECT_EQ(scalar("SELECT max(n) FROM (SELECT count(*) n FROM channels GROUP BY session)"), 11);
  // Every secondary channel links with its session's id, which main.init announced.
  EXPECT_EQ(scalar("SELECT count(*) FROM channels c JOIN sessions s ON s.id = c.session "
                   "WHERE c.type_name != 'main' AND c.connection_id != s.session_id"),
            0);
  EXPECT_EQ(scalar("SELECT count(*) FROM messages m JOIN channels c ON c.id = m.channel JOIN sessions s "
                   "ON s.id = c.session WHERE m.name = 'main.init' "
                   "AND json_extract(spice_json(m.id), '$.session_id') = s.session_id"),
            2);
}

TEST_F(RealSession, EveryByteLiesInExactlyOneMessage) {
  // Per channel and direction, messages tile the stream from offset 0 without overlap.
  auto t = q("SELECT channel, direction, stream_offset, wire_size FROM messages ORDER BY channel, direction, stream_offset");
  std::map<std::pair<int64_t, std::string>, int64_t> next;
  for (const auto& r : t.rows) {
    auto key = std::make_pair(std::get<int64_t>(r[0]), std::get<std::string>(r[1]));
    EXPECT_EQ(std::get<int64_t>(r[2]), next[key]) << "channel " << key.first << " " << key.second;
    next[key] = std::get<int64_t>(r[2]) + std::get<int64_t>(r[3]);
  }
  // And the streams are exactly what tshark sees as TCP payload.
  auto ts = run("tshark -r " + session_->pcap.string() +
                " -Y 'tcp.len > 0 && !tcp.analysis.retransmission' -T fields -e tcp.srcport -e tcp.dstport -e tcp.len",
                120, true);
  ASSERT_EQ(ts.exit_code, 0) << ts.output;
  std::map<std::pair<int, std::string>, int64_t> tshark_bytes;  // (client port, direction)
  std::istringstream lines(ts.output);
  int sport, dport;
  int64_t len;
  while (lines >> sport >> dport >> len) {
    const bool c2s = dport == session_->port;
    tshark_bytes[{c2s ? sport : dport, c2s ? "c2s" : "s2c"}] += len;
  }
  auto ch = q("SELECT id, client, c2s_bytes, s2c_bytes FROM channels");
  ASSERT_FALSE(ch.rows.empty());
  for (const auto& r : ch.rows) {
    const std::string client = std::get<std::string>(r[1]);
    const int port = std::stoi(client.substr(client.rfind(':') + 1));
    EXPECT_EQ(std::get<int64_t>(r[2]), (tshark_bytes[{port, "c2s"}])) << client;
    EXPECT_EQ(std::get<int64_t>(r[3]), (tshark_bytes[{port, "s2c"}])) << client;
    EXPECT_EQ(std::get<int64_t>(r[2]), (next[{std::get<int64_t>(r[0]), "c2s"}]));
    EXPECT_EQ(std::get<int64_t>(r[3]), (next[{std::get<int64_t>(r[0]), "s2c"}]));
  }
}

TEST_F(RealSession, MessageCountsAgreeWithTsharksBuiltInDissector) {
  auto r = run("/usr/bin/python3 " + source_dir() + "/tests/peers/tshark_counts.py --pcap " + session_->pcap.string() +
               " --port " + std::to_string(session_->port), 120, true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto theirs = nlohmann::json::parse(r.output)["messages"];
  auto t = q("SELECT c.type_name, m.direction, m.type, count(*) FROM messages m JOIN channels c ON c.id = m.channel "
             "WHERE m.type IS NOT NULL GROUP BY 1, 2, 3");
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> ours;
  for (const auto& row : t.rows) {
    ours[{std::get<std::string>(row[0]), std::get<std::string>(row[1]), std::to_string(std::get<int64_t>(row[2]))}] =
        std::get<int64_t>(row[3]);
  }
  std::set<std::tuple<std::string, std::string, std::string>> keys;
  for (const auto& [k, v] : ours) keys.insert(k);
  for (auto& [channel, dirs] : theirs.items()) {
    for (auto& [dir, types] : dirs.items()) {
      for (auto& [type, n] : types.items()) keys.insert({channel, dir, type});
    }
  }
  for (const auto& k : keys) {
    const auto& [channel, dir, type] = k;
    const int64_t mine = ours.count(k) ? ours[k] : 0;
    const int64_t tshark = theirs.contains(channel) && theirs[channel].contains(dir) && theirs[channel][dir].contains(type)
                               ? theirs[channel][dir][type].get<int64_t>()
                               : 0;
    if (channel == "webdav") {
      // tshark 4.0's dissector stops after the first message of a webdav stream
      // ("Unknown channel"); it can only see fewer messages than there are.
      EXPECT_GE(mine, tshark) << channel << " " << dir << " type " << type;
    } else {
      EXPECT_EQ(mine, tshark) << channel << " " << dir << " type " << type;
    }
  }
}

TEST_F(RealSession, InputsShowWhatTheClientDid) {
  // spice_client.py types "abc" (set-1 scancodes 0x1e 0x30 0x2e) and clicks left and right.
  auto keys = q("SELECT json_extract(spice_json(id), '$.code') FROM messages WHERE name = 'inputs.key_down' ORDER BY id");
  std::vector<int64_t> codes;
  for (const auto& r : keys.rows) codes.push_back(std::get<int64_t>(r[0]));
  EXPECT_EQ(codes, (std::vector<int64_t>{0x1e, 0x30, 0x2e}));
  auto presses = q("SELECT json_extract(spice_json(id), '$.button') FROM messages WHERE name = 'inputs.mouse_press' ORDER BY id");
  std::vector<int64_t> buttons;
  for (const auto& r : presses.rows) buttons.push_back(std::get<int64_t>(r[0]));
  EXPECT_EQ(buttons, (std::vector<int64_t>{1, 3}));
  EXPECT_GT(scalar("SELECT count(*) FROM messages WHERE name = 'inputs.mouse_position'"), 0);
  EXPECT_GT(scalar("SELECT count(*) FROM messages WHERE name = 'display.draw_copy' "
                   "AND json_extract(spice_json(id), '$.data.src_bitmap.descriptor.width') > 0"),
            0);
}

TEST_F(RealSession, RedactionBlanksKeystrokesDeviceDataAndPasswords) {
  const std::string redacted = (work_ / "redacted.db").string();
  std::filesystem::remove(redacted);
  auto r = run(spice_capture() + " import " + session_->pcap.string() + " --redact --db " + redacted);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto db = Database::open(redacted, Database::Mode::ReadOnly);
  ASSERT_TRUE(db.ok());
  auto one = [&](const std::string& sql) { return std::get<int64_t>(db->query(sql)->rows.at(0).at(0)); };
  // The same messages, with the secrets gone from both the fields and the raw bytes.
  EXPECT_EQ(one("SELECT count(*) FROM messages"), scalar("SELECT count(*) FROM messages"));
  EXPECT_EQ(one("SELECT count(*) FROM messages WHERE name = 'inputs.key_down'"), 3);
  EXPECT_EQ(one("SELECT count(*) FROM messages WHERE name IN ('inputs.key_down', 'inputs.key_up') "
                "AND json_extract(spice_json(id), '$.code') IS NOT NULL"),
            0);
  EXPECT_EQ(one("SELECT count(*) FROM messages WHERE name = 'inputs.key_down' AND substr(spice_raw(id), 7) != zeroblob(4)"), 0);
  EXPECT_EQ(one("SELECT count(*) FROM messages WHERE name = 'link.ticket' AND spice_raw(id) != zeroblob(128)"), 0);
  EXPECT_GT(one("SELECT count(*) FROM messages WHERE name = 'port.data'"), 0);
  EXPECT_EQ(one("SELECT count(*) FROM messages WHERE name = 'port.data' AND json_extract(spice_json(id), '$.data') IS NOT NULL"), 0);
  // What is not secret is still there: mouse positions, session ids.
  EXPECT_EQ(one("SELECT count(*) FROM messages WHERE name = 'inputs.mouse_press'"), 2);
  EXPECT_EQ(one("SELECT count(*) FROM sessions"), 2);
}

TEST_F(RealSession, CliQueriesAnswerInTextAndJson) {
  auto s = run(spice_capture() + " sessions --db " + db_path_ + " --json");
  ASSERT_EQ(s.exit_code, 0) << s.output;
  EXPECT_EQ(nlohmann::json::parse(s.output).size(), 2u);
  auto m = run(spice_capture() + " messages --db " + db_path_ + " -n 'inputs.mouse_*' -d c2s --limit 3 --json");
  ASSERT_EQ(m.exit_code, 0) << m.output;
  auto arr = nlohmann::json::parse(m.output);
  ASSERT_EQ(arr.size(), 3u);
  EXPECT_TRUE(arr[0]["fields"].is_object());
  auto st = run(spice_capture() + " stats --db " + db_path_ + " --type display --json");
  ASSERT_EQ(st.exit_code, 0) << st.output;
  EXPECT_FALSE(nlohmann::json::parse(st.output)["by_message"].empty());
  auto text = run(spice_capture() + " channels --db " + db_path_);
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.output.find("display"), std::string::npos);
}

TEST_F(RealSession, StoredBytesAreTheCapturedStream) {
  // spice_raw gives back exactly the bytes of each message: the link message starts with
  // the magic, every data message's mini header carries its own type and body size.
  EXPECT_EQ(scalar("SELECT count(*) FROM messages WHERE name = 'link.mess' AND CAST(substr(spice_raw(id), 1, 4) AS TEXT) != 'REDQ'"),
            0);
  EXPECT_EQ(scalar("SELECT count(*) FROM messages m JOIN channels c ON c.id = m.channel WHERE c.header = 'mini' "
                   "AND m.type IS NOT NULL AND (length(spice_raw(m.id)) != m.wire_size OR "
                   "hex(substr(spice_raw(m.id), 1, 2)) != printf('%02X%02X', m.type % 256, m.type / 256))"),
            0);
  // Chunks tile each stream and hold what the message rows say they hold.
  EXPECT_EQ(scalar("SELECT sum(size) FROM chunks"), scalar("SELECT sum(wire_size) FROM messages"));
  EXPECT_EQ(scalar("SELECT count(*) FROM messages WHERE spice_raw(id) IS NULL"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM captures WHERE status != 'complete'"), 0);
}

TEST_F(RealSession, StoreIsSmallerThanTheCapture) {
  // The store's fixed cost (an empty schema) is left out: the target is about how
  // it grows with the capture, and this capture is small.
  const std::string empty = (work_ / "empty.db").string();
  std::filesystem::remove(empty);
  { ASSERT_TRUE(Database::open(empty, Database::Mode::ReadWrite).ok()); }
  const auto capture_bytes = std::filesystem::file_size(session_->pcap);
  const auto db_bytes = std::filesystem::file_size(db_path_) - std::filesystem::file_size(empty);
  EXPECT_LT(static_cast<double>(db_bytes), 1.2 * static_cast<double>(capture_bytes))
      << db_bytes << " bytes of database (beyond an empty one) for " << capture_bytes << " bytes of capture";
}

// The plain sqlite3 shell. In the sanitizer build the extension is instrumented,
// so the shell needs the sanitizer runtimes loaded first.
std::string shell() {
#if defined(__SANITIZE_ADDRESS__)
  return "env LD_PRELOAD=$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so) sqlite3 -batch ";
#else
  return "sqlite3 -batch ";
#endif
}

TEST_F(RealSession, StoreDocQueriesRunInTheShell) {
  // The example queries of docs/store.md, in the plain sqlite3 shell with the extension.
  std::ifstream in(source_dir() + "/docs/store.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto begin = doc.find("```sql", doc.find("## Example queries"));
  ASSERT_NE(begin, std::string::npos);
  const auto end = doc.find("```", begin + 6);
  std::string queries = doc.substr(begin + 6, end - begin - 6);
  const auto script = work_ / "doc-queries.sql";
  std::ofstream(script) << ".bail on\n.load " << bin_dir() << "/../lib/spicecap\n" << queries;
  auto r = run(shell() + db_path_ + " < " + script.string(), 120, true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The keys pressed, as the first query lists them, then the draw_copy image types.
  EXPECT_NE(r.output.find("|30\n"), std::string::npos) << r.output;
  auto direct = run(shell() + db_path_ + " \".load " + bin_dir() +
                        "/../lib/spicecap\" \"SELECT spice_field(id, 'session_id') = spice_field(id, "
                        "'main.init.session_id') FROM messages WHERE name = 'main.init'\"",
                    60, true);
  EXPECT_EQ(direct.output, "1\n1\n");
}

TEST_F(RealSession, OlderStoreIsRefusedWithAClearMessage) {
  const std::string old = (work_ / "v1.db").string();
  std::filesystem::remove(old);
  ASSERT_EQ(run("sqlite3 " + old + " 'CREATE TABLE messages(x); PRAGMA user_version = 1;'").exit_code, 0);
  auto r = run(spice_capture() + " import " + session_->pcap.string() + " --db " + old);
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_NE(r.output.find("older spice-capture (store schema 1)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Import the capture again into a new database"), std::string::npos) << r.output;
  auto q2 = run(spice_capture() + " messages --db " + old);
  EXPECT_EQ(q2.exit_code, 7);
}

}  // namespace

