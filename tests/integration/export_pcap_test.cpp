// export-pcap on real traffic: the shared QEMU session (tcpdump on loopback) is
// imported, exported as pcapng and imported again; the two stores must hold the
// same messages and the same stream bytes, channel by channel. The export is also
// read by tshark, with its built-in SPICE dissector and with our plugin. A capture
// with a lost segment, a proxy recording (TLS decrypted) and a passive capture with
// TLS channels are exported the same way.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "capture/tcp_segment.hpp"
#include "peer_session.hpp"
#include "tests/integration/tshark_command.hpp"
#include "server/test_ca.hpp"
#include "store/database.hpp"
#include "store/stream_reader.hpp"
#include "util/sha256.hpp"

namespace {

namespace fs = std::filesystem;
using namespace sc::test;
using sc::store::Cell;
using sc::store::Database;

// One channel as a store holds it, keyed by its endpoints in both stores.
struct StoredChannel {
  std::string type, header, link_error, caps;
  std::vector<std::tuple<int64_t, std::string, int64_t, int64_t>> messages;  // dir, name, size, stream_offset
  std::string sha256[2];
  std::vector<std::pair<uint64_t, uint64_t>> holes[2];  // (offset, bytes) between stored chunks
  uint64_t bytes[2] = {0, 0};
  std::multiset<std::tuple<std::string, std::string, int64_t>> problems;  // code, direction, stream_offset
  bool operator==(const StoredChannel&) const = default;
};

std::string text(const Cell& c) {
  if (const auto* s = std::get_if<std::string>(&c)) return *s;
  if (const auto* i = std::get_if<int64_t>(&c)) return std::to_string(*i);
  return "";
}

std::map<std::string, StoredChannel> stored_channels(const fs::path& path, std::string& error, bool with_tls = true) {
  std::map<std::string, StoredChannel> out;
  auto db = Database::open(path.string(), Database::Mode::ReadOnly);
  if (!db.ok()) {
    error = db.error().message;
    return out;
  }
  auto chans = db->query(
      "SELECT id, client || ' ' || server, coalesce(type_name, ''), coalesce(header, ''), coalesce(link_error, ''), "
      "coalesce(client_common_caps, '') || coalesce(client_channel_caps, '') || coalesce(server_common_caps, '') || "
      "coalesce(server_channel_caps, ''), tls FROM channels ORDER BY id");
  if (!chans.ok()) {
    error = chans.error().message;
    return out;
  }
  for (const auto& r : chans->rows) {
    if (!with_tls && std::get<int64_t>(r[6]) != 0) continue;
    const int64_t id = std::get<int64_t>(r[0]);
    StoredChannel c;
    c.type = text(r[2]);
    c.header = text(r[3]);
    c.link_error = text(r[4]);
    c.caps = text(r[5]);
    auto msgs = db->query(
        "SELECT m.dir, n.name, m.size, m.stream_offset FROM message_rows m JOIN names n ON n.id = m.name_id "
        "WHERE m.channel = ? ORDER BY m.id",
        {Cell{id}});
    for (const auto& m : msgs->rows) {
      c.messages.emplace_back(std::get<int64_t>(m[0]), std::get<std::string>(m[1]), std::get<int64_t>(m[2]),
                              std::get<int64_t>(m[3]));
    }
    auto probs = db->query("SELECT code, coalesce(direction, ''), coalesce(stream_offset, -1) FROM problems "
                           "WHERE channel = ?",
                           {Cell{id}});
    for (const auto& p : probs->rows) {
      // How the recorder's TCP legs ended (relay_abrupt_end...) is not in the
      // stream: a capture cannot carry it.
      if (text(p[0]).starts_with("relay_")) continue;
      c.problems.insert({text(p[0]), text(p[1]), std::get<int64_t>(p[2])});
    }
    for (int dir = 0; dir < 2; ++dir) {
      sc::store::StreamReader reader(*db, id, dir);
      sc::util::Sha256 sha;
      sc::store::StreamPiece piece;
      uint64_t end = 0;
      for (;;) {
        auto more = reader.next(piece);
        if (!more.ok()) {
          error = more.error().message;
          return out;
        }
        if (!*more) break;
        if (piece.start != end) c.holes[dir].push_back({end, piece.start - end});
        sha.update(piece.bytes);
        end = piece.start + piece.bytes.size();
        c.bytes[dir] += piece.bytes.size();
      }
      c.sha256[dir] = sha.hex();
    }
    out[text(r[1])] = std::move(c);
  }
  return out;
}

// After a gap the framer skips bytes as "undecodable" in pieces cut where TCP
// delivered them and where its look-ahead stopped, which the store does not keep:
// a re-import covers the same bytes with the same rows around them, but may cut
// those pieces elsewhere. This merges each direction's runs of undecodable rows
// (each direction's rows in order, directions one after the other).
std::map<std::string, StoredChannel> merge_undecodable(std::map<std::string, StoredChannel> all) {
  for (auto& [key, c] : all) {
    decltype(c.messages) merged;
    for (int64_t dir = 0; dir < 2; ++dir) {
      const size_t first = merged.size();
      for (const auto& m : c.messages) {
        if (std::get<0>(m) != dir) continue;
        const bool undecodable = std::get<1>(m).ends_with(".undecodable");
        if (undecodable && merged.size() > first && std::get<1>(merged.back()) == std::get<1>(m) &&
            std::get<3>(merged.back()) + std::get<2>(merged.back()) == std::get<3>(m)) {
          std::get<2>(merged.back()) += std::get<2>(m);
          continue;
        }
        merged.push_back(m);
      }
    }
    c.messages = std::move(merged);
  }
  return all;
}

// Says where two stores differ, channel by channel, in a few lines.
std::string difference(const std::map<std::string, StoredChannel>& a, const std::map<std::string, StoredChannel>& b) {
  std::ostringstream s;
  for (const auto& [key, c] : a) {
    auto it = b.find(key);
    if (it == b.end()) {
      s << "channel " << key << " (" << c.type << ") missing from the re-import\n";
      continue;
    }
    const auto& d = it->second;
    if (c == d) continue;
    s << "channel " << key << " (" << c.type << ") differs:";
    if (c.messages != d.messages) s << " messages (" << c.messages.size() << " vs " << d.messages.size() << ")";
    for (int dir = 0; dir < 2; ++dir) {
      if (c.sha256[dir] != d.sha256[dir]) s << " dir " << dir << " bytes (" << c.bytes[dir] << " vs " << d.bytes[dir] << ")";
      if (c.holes[dir] != d.holes[dir]) s << " dir " << dir << " holes";
    }
    if (c.problems != d.problems) s << " problems (" << c.problems.size() << " vs " << d.problems.size() << ")";
    if (c.type != d.type || c.header != d.header || c.link_error != d.link_error || c.caps != d.caps) s << " link";
    s << '\n';
  }
  for (const auto& [key, c] : b) {
    if (!a.count(key)) s << "channel " << key << " (" << c.type << ") only in the re-import\n";
  }
  return s.str();
}

int64_t scalar(const fs::path& db_path, const std::string& sql) {
  auto db = Database::open(db_path.string(), Database::Mode::ReadOnly);
  if (!db.ok()) return -1;
  auto t = db->query(sql);
  if (!t.ok() || t->rows.empty()) return -1;
  const auto* v = std::get_if<int64_t>(&t->rows[0][0]);
  return v ? *v : -1;
}

std::string sha_of_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<uint8_t> all((std::istreambuf_iterator<char>(in)), {});
  return sc::util::sha256_hex(all);
}

struct PcapPackets {
  size_t count = 0;
  uint64_t first_ts = 0;
  bool ordered = true;
  std::string error;
};

PcapPackets read_pcap(const fs::path& p) {
  PcapPackets out;
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pc = pcap_open_offline_with_tstamp_precision(p.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (!pc) {
    out.error = err;
    return out;
  }
  pcap_pkthdr* h;
  const u_char* d;
  uint64_t last = 0;
  while (pcap_next_ex(pc, &h, &d) == 1) {
    const uint64_t ts = uint64_t(h->ts.tv_sec) * 1'000'000'000ull + uint64_t(h->ts.tv_usec);
    if (out.count++ == 0) out.first_ts = ts;
    if (ts < last) out.ordered = false;
    last = ts;
  }
  pcap_close(pc);
  return out;
}

void make_world_readable(const fs::path& p) {
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

// tshark as nobody with our plugin from the build tree (as root tshark ignores
// WIRESHARK_PLUGIN_DIR); with_plugin false: Debian's tshark as it is.
CommandResult tshark(const fs::path& home, const std::string& args, bool with_plugin) {
  return run(tshark_command(home.string(), with_plugin) + args, 120, true);
}

class ExportPcapng : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    session_ = &shared_qemu_session();
    if (!session_->error.empty()) return;
    work_ = temp_dir("export");
    // tshark runs as nobody: it must reach the exported files.
    fs::permissions(work_, fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec |
                               fs::perms::group_read | fs::perms::group_exec);
    fs::create_directories(work_ / "home");
    fs::permissions(work_ / "home", fs::perms::all);
    setup_ = run(spice_capture() + " import " + session_->pcap.string() + " --db " + db(0) + " -q");
    if (setup_.exit_code != 0) return;
    setup_ = run(spice_capture() + " export-pcap --db " + db(0) + " -o " + out().string(), 120, true);
    if (setup_.exit_code != 0) return;
    export_summary_ = setup_.output;
    make_world_readable(out());
    setup_ = run(spice_capture() + " import " + out().string() + " --db " + db(1) + " -q");
  }
  static void TearDownTestSuite() {
    // SC_KEEP_FAILED=1 keeps the stores and exports to look at.
    if (std::getenv("SC_KEEP_FAILED") && ::testing::UnitTest::GetInstance()->failed_test_count() > 0) {
      std::cerr << "kept " << work_ << '\n';
      return;
    }
    if (!work_.empty()) fs::remove_all(work_);
  }
  void SetUp() override {
    ASSERT_TRUE(session_->error.empty()) << session_->error;
    ASSERT_EQ(setup_.exit_code, 0) << setup_.output;
  }
  static std::string db(int i) { return (work_ / (i == 0 ? "original.db" : "reimport.db")).string(); }
  static fs::path out() { return work_ / "export.pcapng"; }
  static fs::path home() { return work_ / "home"; }

  static const RecordedSession* session_;
  static fs::path work_;
  static CommandResult setup_;
  static std::string export_summary_;
};
const RecordedSession* ExportPcapng::session_ = nullptr;
fs::path ExportPcapng::work_;
CommandResult ExportPcapng::setup_;
std::string ExportPcapng::export_summary_;

TEST_F(ExportPcapng, ReimportHoldsTheSameMessagesAndBytesPerChannel) {
  std::string error;
  const auto original = stored_channels(db(0), error);
  ASSERT_TRUE(error.empty()) << error;
  const auto again = stored_channels(db(1), error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_GE(original.size(), 10u);  // QEMU offers every channel type
  EXPECT_EQ(original.size(), again.size());
  EXPECT_TRUE(original == again) << difference(original, again);
  uint64_t bytes = 0;
  for (const auto& [key, c] : original) {
    EXPECT_FALSE(c.messages.empty()) << key;
    EXPECT_TRUE(c.holes[0].empty() && c.holes[1].empty()) << key << ": the shared session has no gap";
    bytes += c.bytes[0] + c.bytes[1];
  }
  EXPECT_GT(bytes, 100'000u);
  // Sessions come back with the same ids, the channels joined to them.
  EXPECT_EQ(scalar(db(0), "SELECT count(*) FROM sessions"), scalar(db(1), "SELECT count(*) FROM sessions"));
  EXPECT_EQ(scalar(db(0), "SELECT sum(session_id) FROM sessions"), scalar(db(1), "SELECT sum(session_id) FROM sessions"));
  EXPECT_EQ(scalar(db(0), "SELECT count(*) FROM channels WHERE session IS NULL"),
            scalar(db(1), "SELECT count(*) FROM channels WHERE session IS NULL"));
}

TEST_F(ExportPcapng, SummaryAndFileAgree) {
  const auto file = read_pcap(out());
  ASSERT_TRUE(file.error.empty()) << file.error;
  const int64_t channels = scalar(db(0), "SELECT count(*) FROM channels");
  const int64_t bytes = scalar(db(0), "SELECT sum(size) FROM chunks");
  EXPECT_NE(export_summary_.find(std::to_string(channels) + " channels, " + std::to_string(file.count) + " packets, " +
                                 std::to_string(bytes) + " stream bytes"),
            std::string::npos)
      << export_summary_;
  EXPECT_NE(export_summary_.find("0 skipped"), std::string::npos) << export_summary_;
  // The handshake of the first channel opens the file at the capture's first moment.
  EXPECT_EQ(file.first_ts, static_cast<uint64_t>(scalar(db(0), "SELECT min(first_ts_ns) FROM channels")));
  EXPECT_TRUE(file.ordered) << "packets out of time order";

  const auto json_out = work_ / "summary.pcapng";
  auto r = run(spice_capture() + " export-pcap --json --db " + db(0) + " -o " + json_out.string(), 60, true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["channels"].get<int64_t>(), channels);
  EXPECT_EQ(j["packets"].get<size_t>(), file.count);
  EXPECT_EQ(j["bytes"].get<int64_t>(), bytes);
  EXPECT_EQ(j["skipped"].get<int>(), 0);
  EXPECT_EQ(j["gaps"].get<int>(), 0);
  EXPECT_EQ(j["linktype"].get<int>(), 101);
  // The same store exports to the same bytes.
  EXPECT_EQ(sha_of_file(json_out), sha_of_file(out()));
}

TEST_F(ExportPcapng, BuiltInDissectorSeesSpiceAndNoTcpTrouble) {
  const std::string r = "-r " + out().string() + " -d tcp.port==" + std::to_string(session_->port) + ",spice";
  auto spice = tshark(home(), r + " -Y spice -T fields -e frame.number", false);
  ASSERT_EQ(spice.exit_code, 0) << spice.output;
  EXPECT_GT(std::count(spice.output.begin(), spice.output.end(), '\n'), 50) << spice.output;
  // Lost segments, window full, duplicate ACKs, retransmissions...: none in a gap-free source.
  auto flags = tshark(home(), r + " -Y tcp.analysis.flags", false);
  ASSERT_EQ(flags.exit_code, 0) << flags.output;
  EXPECT_EQ(flags.output, "");
  // Every checksum verifies (tshark checks them when told to).
  auto bad = tshark(home(),
                    r + " -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -Y "
                        "'ip.checksum.status == 0 || tcp.checksum.status == 0'",
                    false);
  ASSERT_EQ(bad.exit_code, 0) << bad.output;
  EXPECT_EQ(bad.output, "");
  auto good = tshark(home(), r + " -o tcp.check_checksum:TRUE -Y 'tcp.checksum.status == 1' -T fields -e frame.number",
                     false);
  EXPECT_EQ(std::count(good.output.begin(), good.output.end(), '\n'), static_cast<long>(read_pcap(out()).count));
}

TEST_F(ExportPcapng, PluginShowsEveryStoredMessage) {
#ifndef SC_WS_PLUGIN_DIR
  GTEST_SKIP() << "the spicecap plugin is not built";
#else
  if (geteuid() != 0) GTEST_SKIP() << "needs root (setpriv for tshark)";
  auto r = tshark(home(),
                  "-r " + out().string() +
                      " -Y spicecap -T fields -e spicecap.client_port -e spicecap.direction -e spicecap.stream_offset"
                      " -e spicecap.message",
                  true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::multiset<std::tuple<std::string, std::string, std::string, std::string>> shown, stored;
  std::istringstream lines(r.output);
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    std::string item;
    std::istringstream in(s);
    while (std::getline(in, item, ',')) v.push_back(item);
    return v;
  };
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> cols;
    std::string col;
    std::istringstream in(line);
    while (std::getline(in, col, '\t')) cols.push_back(col);
    if (cols.size() < 4) continue;
    const auto port = split(cols[0]).front();
    const auto dirs = split(cols[1]), offsets = split(cols[2]), names = split(cols[3]);
    ASSERT_EQ(dirs.size(), names.size()) << line;
    ASSERT_EQ(offsets.size(), names.size()) << line;
    for (size_t i = 0; i < names.size(); ++i) shown.insert({port, dirs[i], offsets[i], names[i]});
  }
  auto store = Database::open(db(0), Database::Mode::ReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto t = store->query("SELECT substr(c.client, instr(c.client, ':') + 1), m.direction, m.stream_offset, m.name "
                     "FROM messages m JOIN channels c ON c.id = m.channel");
  ASSERT_TRUE(t.ok()) << t.error().message;
  for (const auto& row : t->rows) stored.insert({text(row[0]), text(row[1]), text(row[2]), text(row[3])});
  EXPECT_EQ(shown.size(), stored.size());
  EXPECT_TRUE(shown == stored);
#endif
}

TEST_F(ExportPcapng, RefusesAnExistingOutputAndUnknownIds) {
  const std::string before = sha_of_file(out());
  auto r = run(spice_capture() + " export-pcap --db " + db(0) + " -o " + out().string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("already exists"), std::string::npos) << r.output;
  EXPECT_EQ(sha_of_file(out()), before);

  const auto forced = work_ / "forced.pcapng";
  { std::ofstream(forced) << "old"; }
  r = run(spice_capture() + " export-pcap --force --db " + db(0) + " -o " + forced.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(sha_of_file(forced), before);

  for (const auto& [opt, word] : std::vector<std::pair<std::string, std::string>>{
           {"--channel 999999", "no channel 999999"}, {"--capture 999999", "no capture 999999"},
           {"--session 1", "no session 1"}}) {
    const auto none = work_ / "none.pcapng";
    r = run(spice_capture() + " export-pcap --db " + db(0) + " " + opt + " -o " + none.string());
    EXPECT_EQ(r.exit_code, 2) << opt << ": " << r.output;
    EXPECT_NE(r.output.find(word), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(none)) << opt;
  }
  r = run(spice_capture() + " export-pcap --db " + db(0) + " -o " + db(0) + " --force");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_GT(scalar(db(0), "SELECT count(*) FROM channels"), 0) << "the database was overwritten";

  r = run(spice_capture() + " export-pcap --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("Examples"), std::string::npos);
  EXPECT_NE(r.output.find("zeros"), std::string::npos) << "help says how redacted bytes are exported";
}

TEST_F(ExportPcapng, OneChannelAlone) {
  const int64_t display = scalar(db(0), "SELECT id FROM channels WHERE type_name = 'display' ORDER BY s2c_bytes DESC");
  ASSERT_GT(display, 0);
  const auto one = work_ / "display.pcapng";
  const auto one_db = work_ / "display.db";
  auto r = run(spice_capture() + " export-pcap --db " + db(0) + " --channel " + std::to_string(display) + " -o " +
               one.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 channel,"), std::string::npos) << r.output;
  r = run(spice_capture() + " import " + one.string() + " --db " + one_db.string() + " -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string error;
  auto all = stored_channels(db(0), error);
  const auto again = stored_channels(one_db, error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(again.size(), 1u);
  const auto& [key, c] = *again.begin();
  ASSERT_TRUE(all.count(key)) << key;
  EXPECT_EQ(c.messages, all[key].messages);
  EXPECT_EQ(c.sha256[0], all[key].sha256[0]);
  EXPECT_EQ(c.sha256[1], all[key].sha256[1]);
}

// A capture that lost a segment: the export keeps the hole where it was (the
// sequence numbers skip it), so the re-import finds the same gap and the same
// messages around it, and Wireshark sees a segment not captured.
TEST_F(ExportPcapng, CaptureGapStaysAtItsStreamOffset) {
  // The largest server payload of a connection that goes on sending after it.
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pc = pcap_open_offline(session_->pcap.c_str(), err);
  ASSERT_NE(pc, nullptr) << err;
  const int linktype = pcap_datalink(pc);
  pcap_pkthdr* h;
  const u_char* d;
  size_t index = 0, victim = SIZE_MAX, victim_size = 0;
  std::map<uint16_t, size_t> last_data;  // client port -> index of the server's last data packet
  std::vector<std::pair<size_t, uint16_t>> candidates;  // index, client port
  std::map<size_t, size_t> sizes;
  for (; pcap_next_ex(pc, &h, &d) == 1; ++index) {
    auto seg = sc::capture::parse_tcp(linktype, {d, h->caplen});
    if (!seg || seg->payload.empty() || seg->src.port != session_->port) continue;
    last_data[seg->dst.port] = index;
    candidates.push_back({index, seg->dst.port});
    sizes[index] = seg->payload.size();
  }
  pcap_close(pc);
  for (const auto& [i, port] : candidates) {
    if (last_data[port] > i && sizes[i] > victim_size) {
      victim = i;
      victim_size = sizes[i];
    }
  }
  ASSERT_NE(victim, SIZE_MAX);
  const auto damaged = work_ / "damaged.pcap";
  ASSERT_TRUE(rewrite_pcap(session_->pcap.string(), damaged.string(),
                           [&](size_t i, const pcap_pkthdr&, const u_char*) { return i != victim; }));
  const auto lossy = work_ / "lossy.db", lossy_export = work_ / "lossy.pcapng", lossy_again = work_ / "lossy2.db";
  auto r = run(spice_capture() + " import " + damaged.string() + " --db " + lossy.string() + " -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_GT(scalar(lossy, "SELECT count(*) FROM problems WHERE code = 'gap'"), 0);
  r = run(spice_capture() + " export-pcap --db " + lossy.string() + " -o " + lossy_export.string(), 60, true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 capture gap (" + std::to_string(victim_size) + " bytes)"), std::string::npos) << r.output;
  make_world_readable(lossy_export);
  r = run(spice_capture() + " import " + lossy_export.string() + " --db " + lossy_again.string() + " -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  std::string error;
  const auto a = merge_undecodable(stored_channels(lossy, error));
  const auto b = merge_undecodable(stored_channels(lossy_again, error));
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_TRUE(a == b) << difference(a, b);
  size_t holes = 0;
  for (const auto& [key, c] : a) holes += c.holes[1].size();
  EXPECT_EQ(holes, 1u);

  auto lost = tshark(home(), "-r " + lossy_export.string() + " -Y tcp.analysis.lost_segment -T fields -e frame.number",
                     false);
  ASSERT_EQ(lost.exit_code, 0) << lost.output;
  EXPECT_EQ(std::count(lost.output.begin(), lost.output.end(), '\n'), 1) << lost.output;
}

// A session through the recorder proxy, TLS on the main and display channels: the
// proxy's store (TLS decrypted) exports and re-imports to the same messages; the
// passive capture of the same traffic has those TLS channels without bytes, and
// its export skips and counts them.
TEST_F(ExportPcapng, ProxyRecordingAndTlsChannels) {
  const auto dir = work_ / "proxy";
  fs::create_directories(dir);
  auto ca = sc::server::make_test_ca((dir / "ca").string());
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  const auto pcap = dir / "tls.pcap", rec = dir / "recorder.db";
  auto r = run("/usr/bin/python3 " + source_dir() + "/tests/peers/make_capture.py --out " + pcap.string() +
                   " --meta " + (dir / "tls.json").string() +
                   " --clients screenshot,glib --duration 3 --host localhost --tls-dir " + (dir / "ca").string() +
                   " --tls-channels main,display --recorder " + spice_capture() + " --recorder-db " + rec.string(),
               150);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_GT(scalar(rec, "SELECT count(*) FROM captures WHERE source = 'proxy'"), 0);

  const auto rec_export = dir / "recorder.pcapng", rec_again = dir / "recorder2.db";
  r = run(spice_capture() + " export-pcap --db " + rec.string() + " -o " + rec_export.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run(spice_capture() + " import " + rec_export.string() + " --db " + rec_again.string() + " -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string error;
  const auto a = stored_channels(rec, error), b = stored_channels(rec_again, error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_TRUE(a == b) << difference(a, b);
  // The decrypted TLS channels are in it, decoded.
  EXPECT_GT(scalar(rec_again, "SELECT count(*) FROM messages WHERE name = 'main.init'"), 0);

  const auto passive = dir / "passive.db", passive_export = dir / "passive.pcapng", passive_again = dir / "passive2.db";
  r = run(spice_capture() + " import " + pcap.string() + " --db " + passive.string() + " -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const int64_t tls = scalar(passive, "SELECT count(*) FROM channels WHERE tls = 1");
  ASSERT_GT(tls, 0);
  r = run(spice_capture() + " export-pcap --json --db " + passive.string() + " -o " + passive_export.string(), 60,
          true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["skipped"].get<int64_t>(), tls);
  EXPECT_EQ(j["channels"].get<int64_t>(), scalar(passive, "SELECT count(*) FROM channels WHERE tls = 0"));
  for (const auto& s : j["skipped_channels"]) EXPECT_EQ(s["reason"], "tls");
  r = run(spice_capture() + " import " + passive_export.string() + " --db " + passive_again.string() + " -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto p = stored_channels(passive, error, false), q = stored_channels(passive_again, error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_TRUE(p == q) << difference(p, q);
}

}  // namespace
