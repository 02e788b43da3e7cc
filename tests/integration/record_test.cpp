// The recording proxy with real peers (tests/peers/make_recordings.py, recorded
// once per CTest run): QEMU and our server behind `spice-capture record`, real
// spice-gtk clients in front, and tcpdump on both legs. What the client sent,
// what the server received and what the recorder stored are compared byte for
// byte; TLS, refused certificates, link errors, abrupt ends, 20 sessions at once
// and a SIGKILL of the recorder are checked on what really happened.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "qxl-sim/framebuffer.hpp"
#include "store/stream_reader.hpp"
#include "tests/integration/peer_session.hpp"
#include "util/sha256.hpp"

namespace sc::test {
namespace {

namespace fs = std::filesystem;

const nlohmann::json& manifest() {
  static const nlohmann::json m = [] {
    const fs::path path = fs::path(bin_dir()).parent_path() / "test-sessions" / "recorder" / "manifest.json";
    std::ifstream in(path);
    return nlohmann::json::parse(in, nullptr, false);
  }();
  return m;
}

// The named recording, or a skip-free failure saying why it is missing.
const nlohmann::json* recording(const std::string& name) {
  const auto& m = manifest();
  if (m.is_discarded() || !m.contains(name)) {
    ADD_FAILURE() << "no recording '" << name << "' (run the integration.record_recorder_sessions fixture)";
    return nullptr;
  }
  if (m[name].contains("error")) {
    ADD_FAILURE() << name << ": " << m[name]["error"];
    return nullptr;
  }
  return &m[name];
}

std::vector<uint8_t> stream(const store::Database& db, int64_t channel, int dir) {
  std::vector<uint8_t> out;
  store::StreamReader r(db, channel, dir);
  store::StreamPiece piece;
  for (;;) {
    auto more = r.next(piece);
    EXPECT_TRUE(more) << more.error().message;
    if (!more || !*more) break;
    EXPECT_EQ(piece.start, out.size()) << "channel " << channel << " dir " << dir << ": a hole in the stored stream";
    out.insert(out.end(), piece.bytes.begin(), piece.bytes.end());
  }
  return out;
}

bool is_prefix(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

using ChannelKey = std::tuple<int64_t, std::string, int64_t>;  // session id, channel type, channel id

struct Channel {
  int64_t id = 0;
  std::string server;
  std::string link_error;
};

// Channels by (session, type, id); with `port`, only those whose server end is on it.
std::map<ChannelKey, Channel> channels(const store::Database& db, std::optional<int> port = std::nullopt) {
  auto t = const_cast<store::Database&>(db).query(
      "SELECT c.id, s.session_id, c.type_name, c.channel_id, c.server, COALESCE(c.link_error, '') "
      "FROM channels c LEFT JOIN sessions s ON s.id = c.session ORDER BY c.id");
  EXPECT_TRUE(t) << t.error().message;
  std::map<ChannelKey, Channel> out;
  if (!t) return out;
  for (const auto& row : t->rows) {
    const std::string server = std::get<std::string>(row[4]);
    if (port && !server.ends_with(":" + std::to_string(*port))) continue;
    const auto num = [&](int i) { return std::holds_alternative<int64_t>(row[i]) ? std::get<int64_t>(row[i]) : -1; };
    const auto text = [&](int i) { return std::holds_alternative<std::string>(row[i]) ? std::get<std::string>(row[i]) : ""; };
    out[{num(1), text(2), num(3)}] = Channel{std::get<int64_t>(row[0]), server, text(5)};
  }
  return out;
}

store::Database open_db(const std::string& path) {
  auto db = store::Database::open(path, store::Database::Mode::ReadOnly);
  if (!db) throw std::runtime_error(db.error().message);
  return std::move(*db);
}

// Imports the tcpdump capture of both legs into its own store (naming the ports:
// TLS legs are only listed for ports named).
std::string import_legs(const nlohmann::json& rec) {
  const std::string pcap = rec["pcap"];
  const std::string db = pcap + ".db";
  fs::remove(db);
  std::string ports;
  for (const char* key : {"recorder_ports", "server_ports"})
    for (const auto& p : rec[key]) ports += " --port " + std::to_string(p.get<int>());
  const auto r = run(spice_capture() + " import -q " + pcap + ports + " --db " + db, 120);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return db;
}

// Client leg, server leg and the recorder's store, channel by channel: what the
// client sent is what the server received is what was stored; what the server
// sent is what was stored, and the client received a prefix of it (a client that
// closes does not read the rest). Where a client reset its connection (spicy-
// screenshot does on exit) the recorder records what the server had already
// delivered and resets the server: bytes the server sent after that are on the
// wire but were never relayed, so the store holds a prefix of them.
void expect_legs_match_store(const nlohmann::json& rec, size_t min_channels) {
  const std::string legs_path = import_legs(rec);
  store::Database legs = open_db(legs_path);
  store::Database stored = open_db(rec["db"]);
  const int client_port = rec["recorder_ports"][0], server_port = rec["server_ports"][0];
  const auto client_leg = channels(legs, client_port);
  const auto server_leg = channels(legs, server_port);
  const auto recorded = channels(stored);
  std::set<int64_t> abrupt;
  if (auto t = stored.query("SELECT DISTINCT channel FROM problems WHERE code = 'relay_abrupt_end'"); t)
    for (const auto& row : t->rows) abrupt.insert(std::get<int64_t>(row[0]));
  ASSERT_GE(recorded.size(), min_channels);
  EXPECT_EQ(recorded.size(), client_leg.size());
  EXPECT_EQ(recorded.size(), server_leg.size());
  uint64_t bytes = 0;
  for (const auto& [key, ch] : recorded) {
    const auto& [session, type, id] = key;
    SCOPED_TRACE("session " + std::to_string(session) + " " + type + " " + std::to_string(id));
    ASSERT_TRUE(client_leg.count(key) && server_leg.count(key));
    const auto sent = stream(legs, client_leg.at(key).id, 0);
    const auto received = stream(legs, server_leg.at(key).id, 0);
    const auto kept = stream(stored, ch.id, 0);
    EXPECT_FALSE(kept.empty());
    EXPECT_EQ(util::sha256_hex(sent), util::sha256_hex(received));
    EXPECT_EQ(util::sha256_hex(sent), util::sha256_hex(kept));
    const auto server_sent = stream(legs, server_leg.at(key).id, 1);
    const auto kept_s2c = stream(stored, ch.id, 1);
    const auto client_got = stream(legs, client_leg.at(key).id, 1);
    if (abrupt.count(ch.id)) {
      EXPECT_TRUE(is_prefix(kept_s2c, server_sent)) << kept_s2c.size() << " stored, " << server_sent.size() << " sent";
    } else {
      EXPECT_EQ(util::sha256_hex(server_sent), util::sha256_hex(kept_s2c));
    }
    EXPECT_TRUE(is_prefix(client_got, kept_s2c)) << client_got.size() << " bytes to the client, " << kept_s2c.size()
                                                 << " from the server";
    bytes += kept.size() + kept_s2c.size();
  }
  EXPECT_GT(bytes, 10'000u);
}

int64_t scalar(const store::Database& db, const std::string& sql) {
  auto t = const_cast<store::Database&>(db).query(sql);
  EXPECT_TRUE(t) << sql << ": " << t.error().message;
  if (!t || t->rows.empty() || !std::holds_alternative<int64_t>(t->rows[0][0])) return -1;
  return std::get<int64_t>(t->rows[0][0]);
}

std::string text(const store::Database& db, const std::string& sql) {
  auto t = const_cast<store::Database&>(db).query(sql);
  EXPECT_TRUE(t) << sql << ": " << t.error().message;
  if (!t || t->rows.empty() || !std::holds_alternative<std::string>(t->rows[0][0])) return "";
  return std::get<std::string>(t->rows[0][0]);
}

TEST(Recorder, QemuSessionThroughTheRecorderIsStoredByteForByte) {
  const auto* rec = recording("qemu-plain");
  if (!rec) return;
  expect_legs_match_store(*rec, 10);
  store::Database db = open_db((*rec)["db"]);
  EXPECT_EQ(text(db, "SELECT source || ' ' || status FROM captures"), "proxy complete");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM sessions"), 2);  // spicy-screenshot, then the GLib client
  EXPECT_GT(scalar(db, "SELECT COUNT(*) FROM messages WHERE name = 'main.init'"), 1);
  EXPECT_GT(scalar(db, "SELECT COUNT(*) FROM messages WHERE name LIKE 'display.draw_%'"), 0);
  // Timestamps are wall-clock microseconds or finer, per direction, in stream order.
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM (SELECT ts_ns < LAG(ts_ns) OVER (PARTITION BY channel, dir "
                       "ORDER BY stream_offset) AS back FROM message_rows) WHERE back"),
            0);
  EXPECT_GT(scalar(db, "SELECT MIN(ts_ns) FROM message_rows"), 1'700'000'000'000'000'000LL);
}

TEST(Recorder, TlsOnBothLegsIsStoredDecrypted) {
  const auto* rec = recording("qemu-tls");
  if (!rec) return;
  store::Database db = open_db((*rec)["db"]);
  // Every channel went over TLS to the recorder; what it stored is the plain SPICE inside.
  EXPECT_GE(scalar(db, "SELECT COUNT(*) FROM channels"), 10);
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM channels WHERE tls_version IS NULL OR tls_version NOT LIKE 'TLS%'"), 0);
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM channels WHERE link_error IS NOT NULL AND link_error != 'ok'"), 0);
  EXPECT_GT(scalar(db, "SELECT COUNT(*) FROM messages WHERE name = 'main.init'"), 1);
  EXPECT_GT(scalar(db, "SELECT COUNT(*) FROM messages WHERE name LIKE 'display.%'"), 5);
  // The legs themselves are encrypted: a passive import sees TLS channels only.
  store::Database legs = open_db(import_legs(*rec));
  EXPECT_EQ(scalar(legs, "SELECT COUNT(*) FROM messages"), 0);
  EXPECT_GE(scalar(legs, "SELECT COUNT(*) FROM channels WHERE tls = 1"), 20);
}

TEST(Recorder, ScreenshotThroughTheRecorderEqualsTheDirectOne) {
  const auto* rec = recording("still");
  if (!rec) return;
  ASSERT_EQ((*rec)["direct"]["exit_code"], 0);
  ASSERT_EQ((*rec)["proxied"]["exit_code"], 0);
  qxl::Size se, sd, sp;
  std::vector<uint32_t> expected, direct, proxied;
  ASSERT_TRUE(qxl::read_ppm((*rec)["expected"], se, expected));
  ASSERT_TRUE(qxl::read_ppm((*rec)["direct"]["out"], sd, direct));
  ASSERT_TRUE(qxl::read_ppm((*rec)["proxied"]["out"], sp, proxied));
  EXPECT_EQ(se, sd);
  EXPECT_EQ(sd, sp);
  EXPECT_TRUE(direct == expected) << "the direct screenshot is not the frame the guest drew";
  EXPECT_TRUE(proxied == direct) << "the screenshot through the recorder differs from the direct one";
  expect_legs_match_store(*rec, 3);
}

TEST(Recorder, WrongServerCertificateIsRefusedWithAClearError) {
  const auto* rec = recording("wrong-cert");
  if (!rec) return;
  EXPECT_NE((*rec)["client"]["exit_code"], 0);
  EXPECT_EQ((*rec)["recorder_exit"], 0);
  std::string notice;
  for (const auto& e : (*rec)["recorder_events"])
    if (e["event"] == "notice") notice += e["text"].get<std::string>() + "\n";
  EXPECT_NE(notice.find("certificate of 127.0.0.1:"), std::string::npos) << notice;
  EXPECT_NE(notice.find("was refused"), std::string::npos) << notice;
  EXPECT_NE(notice.find("expected name 127.0.0.1"), std::string::npos) << notice;
  store::Database db = open_db((*rec)["db"]);
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM channels"), 0);
  EXPECT_GE(scalar(db, "SELECT COUNT(*) FROM problems WHERE code = 'relay_refused' AND text LIKE "
                       "'%certificate%refused%' AND ts_ns > 0"),
            1);
}

TEST(Recorder, PlainLinkToASecureChannelGetsTheServersOwnLinkError) {
  const auto* rec = recording("need-secured");
  if (!rec) return;
  EXPECT_EQ((*rec)["direct_error"], 5);  // SPICE_LINK_ERR_NEED_SECURED
  EXPECT_EQ((*rec)["proxied_error"], (*rec)["direct_error"]);
  store::Database db = open_db((*rec)["db"]);
  EXPECT_EQ(text(db, "SELECT link_error FROM channels"), "need_secured");
}

TEST(Recorder, AbruptEndsOnEitherSideAreRecordedAndTheRecorderCarriesOn) {
  const auto* rec = recording("abrupt");
  if (!rec) return;
  EXPECT_EQ((*rec)["recorder_exit"], 0);
  EXPECT_NE((*rec)["after_server_gone"]["exit_code"], 0);
  store::Database db = open_db((*rec)["db"]);
  EXPECT_EQ(text(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(text(db, "SELECT status FROM captures"), "complete");
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM sessions"), 2);
  // A client that resets its connection (SO_LINGER 0) is recorded as an abrupt end
  // of the client's direction. A killed process's kernel closes its sockets with
  // FIN (a reset only when unread data was waiting), which the recorder passes on
  // as an ordinary close: the killed client's and the killed server's sessions end.
  EXPECT_GE(scalar(db, "SELECT COUNT(*) FROM problems WHERE code = 'relay_abrupt_end' AND direction = 'c2s'"), 1);
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM sessions WHERE last_ts_ns IS NULL"), 0);
  // With the server gone, the next client is refused upstream, and that is stored.
  EXPECT_GE(scalar(db, "SELECT COUNT(*) FROM problems WHERE code = 'relay_refused' AND text LIKE '%cannot connect%'"), 1);
}

TEST(Recorder, TheDatabaseIsReadableWhileRecording) {
  const auto* rec = recording("abrupt");
  if (!rec) return;
  const auto& live = (*rec)["live_sessions"];
  ASSERT_EQ(live["exit_code"], 0) << live["stderr"];
  const auto sessions = nlohmann::json::parse(live["stdout"].get<std::string>(), nullptr, false);
  ASSERT_TRUE(sessions.is_array()) << live["stdout"];
  ASSERT_EQ(sessions.size(), 1u);  // the first client, three seconds in
  EXPECT_GE(sessions[0]["channels"].get<int>(), 3);
  const auto init = nlohmann::json::parse((*rec)["live_main_init"]["stdout"].get<std::string>(), nullptr, false);
  ASSERT_TRUE(init.is_array());
  ASSERT_EQ(init.size(), 1u);
  EXPECT_TRUE(init[0]["fields"].contains("session_id"));
}

TEST(Recorder, ServeStartsOurServerBehindTheRecorder) {
  const auto* rec = recording("serve-behind");
  if (!rec) return;
  EXPECT_EQ((*rec)["client"]["exit_code"], 0);
  EXPECT_TRUE((*rec)["ended_by_itself"]) << "--sessions 1 should end the recording after the screenshot";
  EXPECT_EQ((*rec)["recorder_exit"], 0);
  store::Database db = open_db((*rec)["db"]);
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM sessions"), 1);
  EXPECT_EQ(text(db, "SELECT status FROM captures"), "complete");
  EXPECT_GT(scalar(db, "SELECT COUNT(*) FROM messages WHERE name LIKE 'display.draw_%'"), 0);
}

TEST(Recorder, RemoteViewerSessionIsRecorded) {
  const auto* rec = recording("remote-viewer");
  if (!rec) return;
  EXPECT_TRUE((*rec)["viewer_alive_after_6s"]) << "remote-viewer exited early (see remote-viewer.log)";
  EXPECT_EQ((*rec)["recorder_exit"], 0);
  store::Database db = open_db((*rec)["db"]);
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM sessions"), 1);
  // remote-viewer opens every channel the server offers, and shows the desktop.
  EXPECT_GE(scalar(db, "SELECT COUNT(*) FROM channels WHERE link_error = 'ok'"), 6);
  EXPECT_GT(scalar(db, "SELECT COUNT(*) FROM messages WHERE name LIKE 'display.draw_%'"), 10);
  EXPECT_GT(scalar(db, "SELECT COUNT(*) FROM messages WHERE name = 'display.init'"), 0);
}

TEST(Recorder, TwentyConcurrentSessions) {
  const auto* rec = recording("concurrent");
  if (!rec) return;
  int ok = 0;
  for (const auto& c : (*rec)["clients"]) ok += c["exit_code"] == 0;
  EXPECT_EQ(ok, 20);
  store::Database db = open_db((*rec)["db"]);
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM sessions"), 20);
  EXPECT_EQ(scalar(db, "SELECT COUNT(DISTINCT session) FROM channels WHERE type_name = 'display'"), 20);
  expect_legs_match_store(*rec, 40);  // main and display of each
}

TEST(Recorder, SigkillDuringABusySessionLeavesAConsistentPrefix) {
  const auto* rec = recording("sigkill");
  if (!rec) return;
  store::Database stored = open_db((*rec)["db"]);
  EXPECT_EQ(text(stored, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(text(stored, "SELECT status FROM captures"), "importing");  // never finished
  const int64_t killed_at = (*rec)["killed_at_ns"];
  // Everything relayed up to about a second before the kill was committed.
  EXPECT_GT(scalar(stored, "SELECT MAX(ts_ns) FROM message_rows"), killed_at - 1'200'000'000LL);
  store::Database legs = open_db(import_legs(*rec));
  const auto client_leg = channels(legs, (*rec)["recorder_ports"][0].get<int>());
  const auto server_leg = channels(legs, (*rec)["server_ports"][0].get<int>());
  const auto recorded = channels(stored);
  ASSERT_GE(recorded.size(), 3u);
  uint64_t kept_bytes = 0;
  for (const auto& [key, ch] : recorded) {
    SCOPED_TRACE(std::get<1>(key));
    ASSERT_TRUE(client_leg.count(key) && server_leg.count(key));
    const auto c2s = stream(stored, ch.id, 0), s2c = stream(stored, ch.id, 1);
    EXPECT_TRUE(is_prefix(c2s, stream(legs, client_leg.at(key).id, 0)));
    EXPECT_TRUE(is_prefix(s2c, stream(legs, server_leg.at(key).id, 1)));
    kept_bytes += c2s.size() + s2c.size();
  }
  EXPECT_GT(kept_bytes, 100'000u);
}

}  // namespace
}  // namespace sc::test
