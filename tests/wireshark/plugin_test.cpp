// The spicecap Wireshark plugin on real traffic: captures made here by real peers
// (QEMU with every channel and spice-gtk clients; our own server with the agent and
// audio), read by tshark 4.0 with the plugin from the build tree and by
// `spice-capture import`; both must find the same messages at the same stream
// offsets, in a linear pass and with random access (tshark -2), and the plugin's
// fields must answer display filters and get right what the built-in dissector
// gets wrong.
#include <gtest/gtest.h>
#include <spice/enums.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "peer_session.hpp"
#include "tshark_command.hpp"
#include "store/database.hpp"

namespace {

using namespace sc::test;
namespace fs = std::filesystem;
using sc::store::Database;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::vector<std::vector<std::string>> tsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) rows.push_back(split(line, '\t'));
  return rows;
}

// tshark with the plugin from the build tree. As root tshark ignores
// WIRESHARK_PLUGIN_DIR, so it runs as nobody; files it reads must be world-readable.
class Tshark {
 public:
  explicit Tshark(const fs::path& home) : home_(home) {
    fs::create_directories(home_);
    fs::permissions(home_, fs::perms::all);
  }
  CommandResult operator()(const std::string& args, bool with_stderr = false) const {
    return run(tshark_command(home_.string(), true) + args, 120, !with_stderr);
  }

 private:
  fs::path home_;
};

struct Capture {
  fs::path dir, pcap;
  int port = 0;
  std::string error;
  ~Capture() {
    if (!dir.empty()) fs::remove_all(dir);
  }
};

void make_readable(const fs::path& p) {
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

// One real session recorded by tests/peers/make_capture.py.
void record(Capture& c, const std::string& name, const std::string& args) {
  c.dir = temp_dir("ws-" + name);
  fs::permissions(c.dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
  c.pcap = c.dir / "session.pcap";
  const fs::path meta = c.dir / "session.json";
  auto r = run("/usr/bin/python3 " + source_dir() + "/tests/peers/make_capture.py --out " + c.pcap.string() +
                   " --meta " + meta.string() + " " + args,
               150);
  if (r.exit_code != 0) {
    c.error = "make_capture.py failed (" + std::to_string(r.exit_code) + "): " + r.output;
    return;
  }
  std::ifstream in(meta);
  c.port = nlohmann::json::parse(in)["server"]["port"].get<int>();
  make_readable(c.pcap);
}

std::string import(const fs::path& pcap, const fs::path& db, const std::string& args = "") {
  fs::remove(db);
  auto r = run(spice_capture() + " import " + pcap.string() + " --db " + db.string() + " -q " + args, 120);
  return r.exit_code == 0 ? "" : "import failed: " + r.output;
}

// A message as both sides name it: client port, direction, stream offset, name,
// wire type (-1 for link steps and undecodable bytes).
using Msg = std::tuple<int, std::string, int64_t, std::string, int64_t>;

std::multiset<Msg> store_messages(const fs::path& db_path) {
  std::multiset<Msg> out;
  auto db = Database::open(db_path.string(), Database::Mode::ReadOnly);
  if (!db.ok()) return out;
  auto t = db->query("SELECT c.client, m.direction, m.stream_offset, m.name, ifnull(m.type, -1) FROM messages m "
                     "JOIN channels c ON c.id = m.channel");
  for (const auto& r : t->rows) {
    const auto& client = std::get<std::string>(r[0]);
    out.insert({std::stoi(client.substr(client.rfind(':') + 1)), std::get<std::string>(r[1]), std::get<int64_t>(r[2]),
                std::get<std::string>(r[3]), std::get<int64_t>(r[4])});
  }
  return out;
}

int64_t store_scalar(const fs::path& db_path, const std::string& sql) {
  auto db = Database::open(db_path.string(), Database::Mode::ReadOnly);
  if (!db.ok()) return -1;
  auto t = db->query(sql);
  if (!t.ok() || t->rows.empty()) return -1;
  return std::get<int64_t>(t->rows[0][0]);
}

std::vector<std::string> store_strings(const fs::path& db_path, const std::string& sql) {
  std::vector<std::string> out;
  auto db = Database::open(db_path.string(), Database::Mode::ReadOnly);
  if (!db.ok()) return out;
  auto t = db->query(sql);
  if (!t.ok()) return out;
  for (const auto& r : t->rows) {
    if (std::holds_alternative<std::string>(r[0])) out.push_back(std::get<std::string>(r[0]));
    else if (std::holds_alternative<int64_t>(r[0])) out.push_back(std::to_string(std::get<int64_t>(r[0])));
  }
  return out;
}

// Every message the plugin shows, from one tshark run (`args` select pcap and options).
std::multiset<Msg> plugin_messages(const Tshark& tshark, const std::string& args, std::string& error) {
  std::multiset<Msg> out;
  // A packet may show messages of the other direction (cut once it told the framer
  // how): the client is the connection's, not the packet's sender.
  auto r = tshark(args + " -Y spicecap -T fields -e spicecap.client_port -e spicecap.direction"
                         " -e spicecap.stream_offset -e spicecap.message -e spicecap.message_type");
  if (r.exit_code != 0) {
    error = "tshark failed: " + r.output;
    return out;
  }
  for (const auto& row : tsv(r.output)) {
    if (row.size() < 5 || row[0].empty()) continue;
    const auto dirs = split(row[1], ','), offsets = split(row[2], ','), names = split(row[3], ',');
    const auto types = row[4].empty() ? std::vector<std::string>{} : split(row[4], ',');
    if (dirs.size() != names.size() || offsets.size() != names.size()) {
      error = "misaligned fields: " + row[1] + " / " + row[2] + " / " + row[3];
      return out;
    }
    size_t t = 0;
    for (size_t i = 0; i < names.size(); ++i) {
      // Link steps and undecodable bytes have no wire type (the store's NULL).
      const bool typed = !names[i].starts_with("link.") && !names[i].ends_with(".undecodable");
      int64_t type = -1;
      if (typed) {
        if (t >= types.size()) {
          error = "fewer message types than messages: " + row[3] + " / " + row[4];
          return out;
        }
        type = std::stoll(types[t++]);
      }
      const int client = std::stoi(split(row[0], ',').front());
      out.insert({client, dirs[i], std::stoll(offsets[i]), names[i], type});
    }
  }
  return out;
}

std::string describe_difference(const std::multiset<Msg>& a, const std::multiset<Msg>& b, const char* a_name,
                                const char* b_name) {
  std::ostringstream s;
  int shown = 0;
  auto dump = [&](const std::multiset<Msg>& x, const std::multiset<Msg>& y, const char* only) {
    std::multiset<Msg> rest = y;
    for (const auto& m : x) {
      auto it = rest.find(m);
      if (it != rest.end()) {
        rest.erase(it);
        continue;
      }
      if (shown++ < 15) {
        s << "only in " << only << ": port " << std::get<0>(m) << " " << std::get<1>(m) << " @" << std::get<2>(m) << " "
          << std::get<3>(m) << " type " << std::get<4>(m) << "\n";
      }
    }
  };
  dump(a, b, a_name);
  dump(b, a, b_name);
  return s.str();
}

// Decimal or 0x-prefixed numbers (tshark prints hex fields in hex).
std::vector<int64_t> numbers(const std::vector<std::string>& v) {
  std::vector<int64_t> out;
  for (const auto& s : v) out.push_back(std::stoll(s, nullptr, 0));
  return out;
}

// Bytes that could not be framed are cut into runs wherever the bytes happened
// to arrive (per TCP segment for the import, per reassembled tvb in tshark):
// compare which streams have them, not where the runs start.
std::multiset<Msg> framed_only(const std::multiset<Msg>& in, std::set<std::pair<int, std::string>>& undecodable) {
  std::multiset<Msg> out;
  for (const auto& m : in) {
    if (std::get<3>(m).ends_with(".undecodable")) undecodable.insert({std::get<0>(m), std::get<1>(m)});
    else out.insert(m);
  }
  return out;
}

// Frame numbers where a display filter matches.
std::vector<std::string> frames_matching(const Tshark& tshark, const std::string& pcap_args, const std::string& filter) {
  std::vector<std::string> out;
  auto r = tshark(pcap_args + " -Y '" + filter + "' -T fields -e frame.number");
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// All occurrences of one field where a filter matches, in order.
std::vector<std::string> field_values(const Tshark& tshark, const std::string& pcap_args, const std::string& filter,
                                      const std::string& field) {
  std::vector<std::string> out;
  auto r = tshark(pcap_args + " -Y '" + filter + "' -T fields -e " + field);
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    for (auto& v : split(line, ',')) out.push_back(v);
  }
  return out;
}

// A reassembled agent message as both sides name it: client port, direction, the
// stream offset of the main.agent_data message its header starts in, where in that
// body, the stream offset of the one with its last byte, and its name.
using AgentMsg = std::tuple<int, std::string, int64_t, int64_t, int64_t, std::string>;

std::multiset<AgentMsg> store_agent_messages(const fs::path& db_path) {
  std::multiset<AgentMsg> out;
  auto db = Database::open(db_path.string(), Database::Mode::ReadOnly);
  if (!db.ok()) return out;
  auto t = db->query("SELECT c.client, a.dir, a.first_offset, a.header_at, a.last_offset, n.name FROM agent_messages a "
                     "JOIN channels c ON c.id = a.channel JOIN names n ON n.id = a.name_id");
  if (!t.ok()) return out;
  for (const auto& r : t->rows) {
    const auto& client = std::get<std::string>(r[0]);
    out.insert({std::stoi(client.substr(client.rfind(':') + 1)), std::get<int64_t>(r[1]) == 0 ? "c2s" : "s2c",
                std::get<int64_t>(r[2]), std::get<int64_t>(r[3]), std::get<int64_t>(r[4]),
                std::get<std::string>(r[5])});
  }
  return out;
}

// Every reassembled agent message the plugin shows, from one tshark run.
std::multiset<AgentMsg> plugin_agent_messages(const Tshark& tshark, const std::string& args, std::string& error) {
  std::multiset<AgentMsg> out;
  auto r = tshark(args + " -Y spicecap.agent_message -T fields -e spicecap.client_port -e spicecap.agent_direction"
                         " -e spicecap.agent_message -e spicecap.agent_stream_offset -e spicecap.agent_header_at"
                         " -e spicecap.agent_last_offset");
  if (r.exit_code != 0) {
    error = "tshark failed: " + r.output;
    return out;
  }
  for (const auto& row : tsv(r.output)) {
    if (row.size() < 6) continue;
    const auto dirs = split(row[1], ','), names = split(row[2], ','), firsts = split(row[3], ','),
               at = split(row[4], ','), lasts = split(row[5], ',');
    if (dirs.size() != names.size() || firsts.size() != names.size() || at.size() != names.size() ||
        lasts.size() != names.size()) {
      error = "misaligned agent fields: " + row[1] + " / " + row[2] + " / " + row[3] + " / " + row[4] + " / " + row[5];
      return out;
    }
    const int client = std::stoi(split(row[0], ',').front());
    for (size_t i = 0; i < names.size(); ++i)
      out.insert({client, dirs[i], std::stoll(firsts[i]), std::stoll(at[i]), std::stoll(lasts[i]), names[i]});
  }
  return out;
}

std::string describe_agent_difference(const std::multiset<AgentMsg>& a, const std::multiset<AgentMsg>& b) {
  std::ostringstream s;
  int shown = 0;
  auto dump = [&](const std::multiset<AgentMsg>& x, const std::multiset<AgentMsg>& y, const char* only) {
    std::multiset<AgentMsg> rest = y;
    for (const auto& m : x) {
      if (auto it = rest.find(m); it != rest.end()) {
        rest.erase(it);
      } else if (shown++ < 15) {
        s << "only in " << only << ": port " << std::get<0>(m) << " " << std::get<1>(m) << " @" << std::get<2>(m) << "+"
          << std::get<3>(m) << ".." << std::get<4>(m) << " " << std::get<5>(m) << "\n";
      }
    }
  };
  dump(a, b, "plugin");
  dump(b, a, "store");
  return s.str();
}

// A file of `size` bytes that compress badly (the same every run).
void write_file(const fs::path& p, size_t size, uint32_t seed) {
  std::mt19937 gen(seed);
  std::ofstream out(p, std::ios::binary);
  for (size_t i = 0; i < size; ++i) out.put(static_cast<char>(gen() & 0xff));
}

// A capture of one TCP connection made here, packet by packet (Ethernet, IPv4, TCP;
// checksums are not checked by either side).
class PcapWriter {
 public:
  explicit PcapWriter(const fs::path& path) : pcap_(pcap_open_dead(DLT_EN10MB, 262144)) {
    dump_ = pcap_dump_open(pcap_, path.string().c_str());
  }
  ~PcapWriter() {
    if (dump_) pcap_dump_close(dump_);
    pcap_close(pcap_);
  }
  bool ok() const { return dump_ != nullptr; }
  // One segment from client (c2s) or server, with the next bytes of that direction.
  void segment(bool c2s, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> p(14, 0);
    p[12] = 0x08;  // IPv4
    const size_t ip_len = 20 + 20 + payload.size();
    const uint8_t ip[20] = {0x45, 0, uint8_t(ip_len >> 8), uint8_t(ip_len), 0, 0, 0x40, 0, 64, 6, 0, 0,
                            127, 0, 0, 1, 127, 0, 0, 1};
    p.insert(p.end(), ip, ip + 20);
    const uint16_t sport = c2s ? kClientPort : kServerPort, dport = c2s ? kServerPort : kClientPort;
    const uint32_t seq = seq_[c2s] , ack = seq_[!c2s];
    const uint8_t tcp[20] = {uint8_t(sport >> 8), uint8_t(sport), uint8_t(dport >> 8), uint8_t(dport),
                             uint8_t(seq >> 24), uint8_t(seq >> 16), uint8_t(seq >> 8), uint8_t(seq),
                             uint8_t(ack >> 24), uint8_t(ack >> 16), uint8_t(ack >> 8), uint8_t(ack),
                             0x50, 0x18, 0x7f, 0xff, 0, 0, 0, 0};
    p.insert(p.end(), tcp, tcp + 20);
    p.insert(p.end(), payload.begin(), payload.end());
    seq_[c2s] += static_cast<uint32_t>(payload.size());
    pcap_pkthdr h{};
    h.ts.tv_sec = 1700000000;
    h.ts.tv_usec = static_cast<suseconds_t>(++packets_ * 1000);
    h.caplen = h.len = static_cast<bpf_u_int32>(p.size());
    pcap_dump(reinterpret_cast<u_char*>(dump_), &h, p.data());
  }
  static constexpr uint16_t kClientPort = 40000, kServerPort = 5930;

 private:
  pcap_t* pcap_;
  pcap_dumper_t* dump_ = nullptr;
  uint32_t seq_[2] = {1000, 5000};  // [server, client]
  long packets_ = 0;
};

// A data-stage message with a mini header.
std::vector<uint8_t> mini_message(uint16_t type, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> m = {uint8_t(type), uint8_t(type >> 8), uint8_t(body.size()), uint8_t(body.size() >> 8),
                            uint8_t(body.size() >> 16), uint8_t(body.size() >> 24)};
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

class WiresharkPlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (tcpdump in make_capture.py, setpriv for tshark)";
    home_ = temp_dir("ws-home");
    tshark_ = std::make_unique<Tshark>(home_ / "nobody");
  }
  void TearDown() override {
    if (!home_.empty()) fs::remove_all(home_);
  }
  const Tshark& tshark() const { return *tshark_; }

  struct Session {
    Capture cap;
    fs::path db;
    std::string r;  // tshark's "-r FILE"
    std::multiset<Msg> stored, shown;
  };
  // Records a session, imports it and reads it with the plugin: the two must
  // hold the same messages at the same stream offsets (and at least `min_messages`).
  void record_and_compare(Session& s, const std::string& name, const std::string& args, size_t min_messages) {
    record(s.cap, name, args);
    ASSERT_TRUE(s.cap.error.empty()) << s.cap.error;
    s.db = s.cap.dir / "session.db";
    ASSERT_EQ(import(s.cap.pcap, s.db), "");
    s.r = "-r " + s.cap.pcap.string();
    std::string error;
    s.stored = store_messages(s.db);
    s.shown = plugin_messages(tshark(), s.r, error);
    ASSERT_EQ(error, "");
    ASSERT_GT(s.stored.size(), min_messages);
    EXPECT_EQ(s.shown.size(), s.stored.size());
    EXPECT_TRUE(s.shown == s.stored) << describe_difference(s.shown, s.stored, "plugin", "store");
  }

  fs::path home_;
  std::unique_ptr<Tshark> tshark_;
};

TEST_F(WiresharkPlugin, LoadsBesideTheBuiltInDissector) {
#ifndef SC_WS_PRELOAD
  // (-G plugins also runs the extcap helpers, and androiddump hangs with the
  // sanitizer runtimes preloaded: the sanitizer tree relies on -G protocols.)
  auto plugins = tshark()("-G plugins");
  ASSERT_EQ(plugins.exit_code, 0) << plugins.output;
  EXPECT_NE(plugins.output.find("spicecap.so"), std::string::npos) << plugins.output;
  EXPECT_NE(plugins.output.find(std::string(SC_WS_PLUGIN_DIR) + "/4.0/epan/spicecap.so"), std::string::npos);
#endif

  auto protocols = tshark()("-G protocols");
  ASSERT_EQ(protocols.exit_code, 0);
  std::set<std::string> filters;
  for (const auto& row : tsv(protocols.output)) {
    if (row.size() >= 3) filters.insert(row[2]);
  }
  EXPECT_TRUE(filters.count("spicecap"));
  EXPECT_TRUE(filters.count("spice")) << "the built-in dissector must stay registered";

  // The TCP heuristic is listed by protocol, beside the built-in one.
  auto heuristics = tshark()("-G heuristic-decodes");
  EXPECT_NE(heuristics.output.find("tcp\tspicecap\tT"), std::string::npos) << heuristics.output;
  EXPECT_NE(heuristics.output.find("tcp\tspice\tT"), std::string::npos);
}

TEST_F(WiresharkPlugin, EveryDescribedFieldIsAWiresharkField) {
  auto described = run(spice_capture() + " fields", 60, true);
  ASSERT_EQ(described.exit_code, 0);
  auto fields = tshark()("-G fields");
  ASSERT_EQ(fields.exit_code, 0);
  std::map<std::string, std::string> types;  // abbrev -> FT_
  for (const auto& row : tsv(fields.output)) {
    if (row.size() >= 4 && row[0] == "F" && row[2].starts_with("spicecap.")) types[row[2]] = row[3];
  }
  size_t paths = 0;
  for (const auto& row : tsv(described.output)) {
    if (row.empty() || row[0].empty()) continue;
    ++paths;
    EXPECT_TRUE(types.count("spicecap." + row[0])) << "no field spicecap." << row[0];
  }
  EXPECT_GT(paths, 2000u);
  EXPECT_EQ(types["spicecap.main.init.session_id"], "FT_UINT32");
  EXPECT_EQ(types["spicecap.main.init"], "FT_NONE");
  EXPECT_EQ(types["spicecap.inputs.mouse_press.button"], "FT_UINT8");
  EXPECT_EQ(types["spicecap.inputs.mouse_press.buttons_state"], "FT_UINT16");
  EXPECT_EQ(types["spicecap.port.init.name"], "FT_STRINGZTRUNC");  // the pointer shows its target
  EXPECT_EQ(types["spicecap.link.mess.mess.caps.common_caps"], "FT_UINT32");  // each capability word
  EXPECT_EQ(types["spicecap.display.draw_copy.base.clip.rects.rects"], "FT_UINT32");  // element count
  // The agent layer's messages are fields like any channel's, beside the reassembly's own.
  EXPECT_EQ(types["spicecap.agent.clipboard_grab"], "FT_NONE");
  EXPECT_EQ(types["spicecap.agent.clipboard_grab.types"], "FT_UINT32");
  EXPECT_EQ(types["spicecap.agent.file_xfer_start.id"], "FT_UINT32");
  EXPECT_EQ(types["spicecap.agent.file_xfer_start.keyfile"], "FT_STRINGZTRUNC");
  EXPECT_EQ(types["spicecap.agent_message"], "FT_STRING");
  EXPECT_EQ(types["spicecap.agent_frame"], "FT_FRAMENUM");
  EXPECT_EQ(types["spicecap.agent_diagnostic"], "FT_STRING");

  // Enumerations carry their names.
  auto values = tshark()("-G values");
  EXPECT_NE(values.output.find("V\tspicecap.inputs.mouse_press.button\t3\tright"), std::string::npos);
  EXPECT_NE(values.output.find("V\tspicecap.display.draw_copy.data.src_bitmap.descriptor.type\t" +
                               std::to_string(SPICE_IMAGE_TYPE_LZ4) + "\tlz4"),
            std::string::npos);
  EXPECT_NE(values.output.find("V\tspicecap.agent.clipboard_grab.types\t1\tutf8_text"), std::string::npos);
  EXPECT_NE(values.output.find("V\tspicecap.agent_type\t10\tfile_xfer_start"), std::string::npos);
}

// QEMU with every channel; spicy-screenshot, then a GLib client that asks for LZ4
// images, types, moves, clicks and writes to the port channels.
TEST_F(WiresharkPlugin, QemuSessionDecodesAsImportDoes) {
  // 1. The same messages at the same stream offsets as the store, every channel.
  Session ses;
  record_and_compare(ses, "qemu", "--preferred-compression lz4 --duration 4", 300);
  if (HasFatalFailure()) return;
  const Capture& cap = ses.cap;
  const fs::path& db = ses.db;
  const std::string& r = ses.r;
  const auto& stored = ses.stored;
  const auto& shown = ses.shown;
  std::string error;
  for (const char* channel : {"main", "display", "inputs", "cursor", "playback", "record", "usbredir", "port", "webdav",
                              "smartcard"}) {
    EXPECT_TRUE(std::any_of(shown.begin(), shown.end(),
                            [&](const Msg& m) { return std::get<3>(m).starts_with(std::string(channel) + "."); }))
        << channel;
  }

  // 2. Random access (tshark -2: the second pass revisits every packet) shows what
  //    the linear pass showed, down to every tree line of the plugin.
  EXPECT_TRUE(plugin_messages(tshark(), r + " -2", error) == shown) << error;
  auto linear = tshark()(r + " -O spicecap");
  auto revisit = tshark()(r + " -2 -O spicecap");
  ASSERT_EQ(linear.exit_code, 0);
  EXPECT_GT(linear.output.size(), 100000u);
  EXPECT_TRUE(linear.output == revisit.output) << "tshark -V -O spicecap differs between one and two passes";

  // 3. Decode As on the server port, with the heuristic off, finds the same.
  EXPECT_TRUE(plugin_messages(tshark(), r + " --disable-heuristic spicecap_tcp -d tcp.port==" +
                                            std::to_string(cap.port) + ",spicecap",
                              error) == shown)
      << error;

  // 4. Display filters on the description's fields.
  const auto count_in = [&](const std::multiset<Msg>& ms, const std::string& name) {
    return std::count_if(ms.begin(), ms.end(), [&](const Msg& m) { return std::get<3>(m) == name; });
  };
  for (const std::string name : {"display.draw_copy", "inputs.mouse_press", "inputs.key_down", "port.init"}) {
    const auto names = field_values(tshark(), r, "spicecap." + name, "spicecap.message");
    EXPECT_GT(count_in(stored, name), 0) << name;
    EXPECT_EQ(std::count(names.begin(), names.end(), name), count_in(stored, name)) << name;
  }
  // spice_client.py types "abc": set-1 scancodes 0x1e 0x30 0x2e.
  EXPECT_EQ(frames_matching(tshark(), r, "spicecap.inputs.key_down.code == 0x30").size(), 1u);

  // 5. What the built-in dissector gets wrong.
  const std::string builtin = r + " --disable-protocol spicecap -d tcp.port==" + std::to_string(cap.port) + ",spice";
  //  a. Mouse press/release are u8 button, u16 buttons_state.
  for (const std::string msg : {"mouse_press", "mouse_release"}) {
    const auto button = field_values(tshark(), r, "spicecap.inputs." + msg, "spicecap.inputs." + msg + ".button");
    const auto state = field_values(tshark(), r, "spicecap.inputs." + msg, "spicecap.inputs." + msg + ".buttons_state");
    EXPECT_EQ(button, store_strings(db, "SELECT json_extract(spice_json(id), '$.button') FROM messages WHERE name = 'inputs." +
                                            msg + "' ORDER BY channel, stream_offset"));
    EXPECT_EQ(numbers(state), numbers(store_strings(db, "SELECT json_extract(spice_json(id), '$.buttons_state') FROM messages WHERE name = "
                                       "'inputs." + msg + "' ORDER BY channel, stream_offset")));
    ASSERT_FALSE(button.empty()) << msg;
    EXPECT_EQ(button.front(), "1");  // left first, then right
    // The built-in reads one u16 over button and the low byte of the state.
    const auto frames = frames_matching(tshark(), r, "spicecap.inputs." + msg);
    ASSERT_FALSE(frames.empty());
    const auto theirs = field_values(tshark(), builtin, "frame.number == " + frames[0], "spice.button_state");
    ASSERT_EQ(theirs.size(), 1u);
    EXPECT_NE(numbers(theirs)[0], numbers(state)[0]) << "the built-in dissector now reads " << msg << " right";
  }
  //  b. The port channel's init message reaches its name through an offset.
  const auto names = field_values(tshark(), r, "spicecap.port.init", "spicecap.port.init.name");
  const std::set<std::string> name_set(names.begin(), names.end());
  EXPECT_TRUE(name_set.count("org.qemu.monitor.qmp.0")) << names.size();
  EXPECT_TRUE(name_set.count("org.example.test"));
  auto stored_names = store_strings(db, "SELECT json_extract(spice_json(id), '$.name') FROM messages WHERE name = 'port.init'");
  EXPECT_EQ(name_set, std::set<std::string>(stored_names.begin(), stored_names.end()));
  const auto port_frames = frames_matching(tshark(), r, "spicecap.port.init.name == \"org.qemu.monitor.qmp.0\"");
  ASSERT_EQ(port_frames.size(), 1u);
  auto theirs = tshark()(builtin + " -O spice -Y 'frame.number == " + port_frames[0] + "'");
  EXPECT_NE(theirs.output.find("Spice protocol"), std::string::npos);
  EXPECT_EQ(theirs.output.find("org.qemu.monitor.qmp.0"), std::string::npos) << theirs.output;
  //  c. LZ4 images: the built-in stops at "Unknown image type".
  const std::string lz4 =
      "spicecap.display.draw_copy.data.src_bitmap.descriptor.type == " + std::to_string(SPICE_IMAGE_TYPE_LZ4);
  const auto lz4_frames = frames_matching(tshark(), r, lz4);
  ASSERT_FALSE(lz4_frames.empty()) << "no LZ4 image in the session";
  EXPECT_EQ(static_cast<int64_t>(field_values(tshark(), r, lz4, "spicecap.display.draw_copy.data.src_bitmap.lz4.data_size")
                                     .size()),
            store_scalar(db, "SELECT count(*) FROM messages WHERE name = 'display.draw_copy' AND "
                             "json_extract(spice_json(id), '$.data.src_bitmap.lz4.data_size') > 0"));
  auto lz4_theirs = tshark()(builtin + " -V -Y 'frame.number == " + lz4_frames[0] + "'");
  EXPECT_NE(lz4_theirs.output.find("Unknown image type"), std::string::npos);

  // 6. Damaged copy: one large segment dropped from the middle of a stream (more
  //    data follows it in the same direction). The gap is an expert error, as the
  //    store records a gap problem.
  auto segs = run("tshark -r " + cap.pcap.string() +
                      " -Y 'tcp.len > 0 && !tcp.analysis.retransmission' -T fields -e frame.number -e tcp.srcport"
                      " -e tcp.dstport -e tcp.len",
                  60, true);
  const auto seg_rows = tsv(segs.output);
  int drop = -1, biggest = 0;
  for (size_t i = 0; i < seg_rows.size(); ++i) {
    const auto& row = seg_rows[i];
    if (row.size() < 4) continue;
    const int len = std::stoi(row[3]);
    if (len <= biggest) continue;
    const bool more_follows = std::any_of(seg_rows.begin() + static_cast<std::ptrdiff_t>(i) + 1, seg_rows.end(),
                                          [&](const auto& later) {
                                            return later.size() >= 4 && later[1] == row[1] && later[2] == row[2];
                                          });
    if (more_follows) biggest = len, drop = std::stoi(row[0]);
  }
  ASSERT_GT(drop, 0);
  const fs::path damaged = cap.dir / "damaged.pcap";
  ASSERT_TRUE(rewrite_pcap(cap.pcap.string(), damaged.string(),
                           [&](size_t i, const pcap_pkthdr&, const u_char*) { return static_cast<int>(i) + 1 != drop; }));
  make_readable(damaged);
  const fs::path damaged_db = cap.dir / "damaged.db";
  ASSERT_EQ(import(damaged, damaged_db), "");
  EXPECT_GT(store_scalar(damaged_db, "SELECT count(*) FROM problems WHERE code = 'gap'"), 0);
  EXPECT_FALSE(frames_matching(tshark(), "-r " + damaged.string(), "spicecap.expert.gap").empty());

  // 7. Mid-session copy: the first part of the packets cut off, at the first of a few
  //    cut points that leaves a connection mid-session with at least the framer's
  //    64 KiB sniff window of traffic (a session's big streams may all lie on one
  //    side of any single cut). With the server port as a preference, channels are
  //    inferred as `import --port` does.
  auto count = run("tshark -r " + cap.pcap.string() + " -T fields -e frame.number", 60, true);
  const size_t packets = static_cast<size_t>(std::count(count.output.begin(), count.output.end(), '\n'));
  const fs::path late = cap.dir / "late.pcap";
  const fs::path late_db = cap.dir / "late.db";
  bool cut_found = false;
  for (size_t divisor : {2, 3, 4, 6}) {
    for (size_t part = 1; part < divisor && !cut_found; ++part) {
      const size_t cut = packets * part / divisor;
      ASSERT_TRUE(rewrite_pcap(cap.pcap.string(), late.string(),
                               [&](size_t i, const pcap_pkthdr&, const u_char*) { return i >= cut; }));
      fs::remove(late_db);
      ASSERT_EQ(import(late, late_db, "--port " + std::to_string(cap.port)), "");
      cut_found = store_scalar(late_db, "SELECT count(*) FROM channels WHERE midstream = 1 AND "
                                        "c2s_bytes + s2c_bytes >= 65536") > 0;
    }
    if (cut_found) break;
  }
  ASSERT_TRUE(cut_found) << "no cut of the capture leaves a long connection mid-session";
  make_readable(late);
  const auto late_stored = store_messages(late_db);
  const auto late_shown =
      plugin_messages(tshark(), "-r " + late.string() + " -o spicecap.midsession_ports:" + std::to_string(cap.port), error);
  ASSERT_EQ(error, "");
  // Connections the plugin could infer (at least the framer's 64 KiB sniff window
  // of traffic) or that start in the copy match the store exactly; the plugin
  // never shows a message the store does not have.
  const auto inferable = store_strings(late_db, "SELECT client FROM channels WHERE midstream = 0 OR "
                                                "c2s_bytes + s2c_bytes >= 65536");
  std::set<int> ports;
  for (const auto& c : inferable) ports.insert(std::stoi(c.substr(c.rfind(':') + 1)));
  std::multiset<Msg> expected;
  for (const auto& m : late_stored) {
    if (ports.count(std::get<0>(m))) expected.insert(m);
  }
  std::multiset<Msg> shown_inferable;
  for (const auto& m : late_shown) {
    if (ports.count(std::get<0>(m))) {
      shown_inferable.insert(m);
    } else if (!std::get<3>(m).ends_with(".undecodable")) {
      EXPECT_TRUE(late_stored.count(m)) << std::get<3>(m) << " @" << std::get<2>(m);
    }
  }
  std::set<std::pair<int, std::string>> junk_shown, junk_expected;
  const auto framed_shown = framed_only(shown_inferable, junk_shown);
  const auto framed_expected = framed_only(expected, junk_expected);
  EXPECT_TRUE(framed_shown == framed_expected) << describe_difference(framed_shown, framed_expected, "plugin", "store");
  EXPECT_EQ(junk_shown, junk_expected);
  EXPECT_FALSE(frames_matching(tshark(), "-r " + late.string() + " -o spicecap.midsession_ports:" +
                                             std::to_string(cap.port),
                               "spicecap.expert.midstream")
                   .empty());
}

// Our own server: the desktop workload, the simulated agent and audio.
TEST_F(WiresharkPlugin, OwnServerSessionDecodesAsImportDoes) {
  Session ses;
  record_and_compare(ses, "serve",
                     "--clients glib --duration 4 --preferred-compression lz4 --server cmd --server-cmd '" +
                         bin_dir() + "/spice-capture serve --port {port} --scenario desktop --agent --audio "
                                     "--name \"Bürodesktop ✓\"'",
                     200);
  if (HasFatalFailure()) return;
  const fs::path& db = ses.db;
  // The server's name is UTF-8 from the wire to SQL and JSON, not escaped byte by byte.
  const std::vector<std::string> server_name{"Bürodesktop ✓"};
  EXPECT_EQ(store_strings(db, "SELECT spice_field(id, 'name') FROM messages WHERE name = 'main.name'"), server_name);
  EXPECT_EQ(store_strings(db, "SELECT json_extract(spice_json(id), '$.name') FROM messages WHERE name = 'main.name'"),
            server_name);
  const std::string& r = ses.r;
  const auto& shown = ses.shown;
  std::string error;
  EXPECT_TRUE(plugin_messages(tshark(), r + " -2", error) == shown) << error;

  // One filter per kind of traffic: draw commands, agent data, audio.
  for (const std::string name : {"display.copy_bits", "display.draw_fill", "display.draw_copy", "main.agent_data",
                                 "playback.data", "inputs.mouse_position"}) {
    const int64_t n = store_scalar(db, "SELECT count(*) FROM messages WHERE name = '" + name + "'");
    const auto names = field_values(tshark(), r, "spicecap." + name, "spicecap.message");
    EXPECT_GT(n, 0) << name;
    EXPECT_EQ(std::count(names.begin(), names.end(), name), n) << name;
  }
  // The simulated agent's messages, reassembled as the store does.
  const auto agent_stored = store_agent_messages(db);
  const auto agent_shown = plugin_agent_messages(tshark(), r, error);
  EXPECT_EQ(error, "");
  EXPECT_FALSE(agent_stored.empty());
  EXPECT_TRUE(agent_shown == agent_stored) << describe_agent_difference(agent_shown, agent_stored);
  // Value filters on enumerations work by number.
  EXPECT_EQ(static_cast<int64_t>(frames_matching(tshark(), r, "spicecap.display.draw_copy.base.clip.type == 0").size() > 0),
            store_scalar(db, "SELECT count(*) > 0 FROM messages WHERE name = 'display.draw_copy' AND "
                             "json_extract(spice_json(id), '$.base.clip.type') = 0"));
}


// A capture that starts mid-session, where the client's few messages all come
// before the server has sent enough for the channel to be inferred (the framer
// reads both directions' first 64 KiB): the client's messages are cut during a
// server packet, after their own packets went past, and the client sends nothing
// more. The plugin shows them in the packet that completed them, as the store
// has them.
TEST_F(WiresharkPlugin, MidSessionMessagesOfAQuietDirectionAreShown) {
  const fs::path dir = temp_dir("ws-quiet");
  struct Cleanup {
    fs::path p;
    ~Cleanup() { fs::remove_all(p); }
  } cleanup{dir};
  fs::permissions(dir, fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  const fs::path pcap = dir / "quiet.pcap";
  {
    PcapWriter w(pcap);
    ASSERT_TRUE(w.ok());
    for (uint32_t i = 0; i < 10; ++i) w.segment(true, mini_message(SPICE_MSGC_INPUTS_KEY_DOWN, {uint8_t(0x10 + i), 0, 0, 0}));
    for (int seg = 0; seg < 9; ++seg) {  // 72000 bytes of key_modifiers, the last ones after the inference
      std::vector<uint8_t> bytes;
      for (int i = 0; i < 1000; ++i) {
        const auto m = mini_message(SPICE_MSG_INPUTS_KEY_MODIFIERS, {uint8_t(i & 7), 0});
        bytes.insert(bytes.end(), m.begin(), m.end());
      }
      w.segment(false, bytes);
    }
  }
  make_readable(pcap);
  const fs::path db = dir / "quiet.db";
  ASSERT_EQ(import(pcap, db, "--port " + std::to_string(PcapWriter::kServerPort)), "");
  ASSERT_EQ(store_scalar(db, "SELECT count(*) FROM channels WHERE midstream = 1 AND type = " +
                                 std::to_string(SPICE_CHANNEL_INPUTS)),
            1);
  const auto stored = store_messages(db);
  ASSERT_EQ(std::count_if(stored.begin(), stored.end(), [](const Msg& m) { return std::get<3>(m) == "inputs.key_down"; }),
            10);
  const std::string r = "-r " + pcap.string() + " -o spicecap.midsession_ports:" + std::to_string(PcapWriter::kServerPort);
  std::string error;
  const auto shown = plugin_messages(tshark(), r, error);
  ASSERT_EQ(error, "");
  EXPECT_TRUE(shown == stored) << describe_difference(shown, stored, "plugin", "store");
  EXPECT_TRUE(plugin_messages(tshark(), r + " -2", error) == shown) << error;
  // In a server packet, with their bytes as a data source of their own.
  const auto frames = frames_matching(tshark(), r, "spicecap.inputs.key_down && tcp.srcport == " +
                                                       std::to_string(PcapWriter::kServerPort));
  ASSERT_EQ(frames.size(), 1u);
  auto one = tshark()(r + " -x -Y 'frame.number == " + frames[0] + "'");
  EXPECT_NE(one.output.find("SPICE c2s bytes framed here (100 bytes)"), std::string::npos) << one.output;
  const auto info = field_values(tshark(), r, "frame.number == " + frames[0], "_ws.col.Info");
  ASSERT_FALSE(info.empty());
  EXPECT_NE(info.front().find("inputs c2s: key_down ×10"), std::string::npos) << info.front();
}

// Our own server with the agent, copy and paste and file transfer, and a GLib
// client that sends three files, takes the guest's clipboard and offers its own:
// the plugin reassembles the same agent messages the store does (the same carriers,
// the same names), their fields answer filters, the reassembled bytes are a data
// source of their own, and a loss inside an agent message is an expert info.
TEST_F(WiresharkPlugin, AgentMessagesAsImportStores) {
  const fs::path files = temp_dir("ws-agent-files");
  struct Cleanup {
    fs::path p;
    ~Cleanup() { fs::remove_all(p); }
  } cleanup{files};
  fs::create_directories(files / "received");
  write_file(files / "one.bin", 70000, 1);  // two file_xfer_data messages, each over many agent_data messages
  write_file(files / "three.dat", 5000, 3);
  { std::ofstream(files / "two.txt") << "hello file two\n"; }
  const std::string f = files.string();
  Session ses;
  record_and_compare(ses, "agent",
                     "--clients glib --duration 30 --server cmd --server-cmd '" + bin_dir() +
                         "/spice-capture serve --port {port} --agent --copy-paste --file-xfer --files-dir " + f +
                         "/received --guest-clipboard \"héllo\"' --client-args '--send-file " + f +
                         "/one.bin --send-files " + f + "/two.txt," + f +
                         "/three.dat --request-guest-clipboard --clipboard-text \"grüße\" --end-after-agent'",
                     100);
  if (HasFatalFailure()) return;
  const fs::path& db = ses.db;
  const std::string& r = ses.r;
  std::string error;

  // 1. The same agent messages, carried by the same main.agent_data messages.
  const auto stored = store_agent_messages(db);
  const auto shown = plugin_agent_messages(tshark(), r, error);
  ASSERT_EQ(error, "");
  EXPECT_GT(stored.size(), 15u);
  EXPECT_EQ(static_cast<int64_t>(shown.size()), store_scalar(db, "SELECT count(*) FROM agent_messages"));
  EXPECT_TRUE(shown == stored) << describe_agent_difference(shown, stored);
  for (const std::string name : {"agent.announce_capabilities", "agent.clipboard_grab", "agent.clipboard_request",
                                 "agent.clipboard", "agent.file_xfer_start", "agent.file_xfer_status",
                                 "agent.file_xfer_data"}) {
    EXPECT_TRUE(std::any_of(shown.begin(), shown.end(), [&](const AgentMsg& m) { return std::get<5>(m) == name; }))
        << name;
  }
  // Random access shows what the linear pass showed, tree line by tree line.
  EXPECT_TRUE(plugin_agent_messages(tshark(), r + " -2", error) == shown) << error;
  auto linear = tshark()(r + " -O spicecap");
  auto revisit = tshark()(r + " -2 -O spicecap");
  ASSERT_EQ(linear.exit_code, 0);
  EXPECT_NE(linear.output.find("Agent message: agent.file_xfer_start"), std::string::npos);
  EXPECT_TRUE(linear.output == revisit.output) << "tshark -O spicecap differs between one and two passes";

  // 2. Every file transfer's id and name, as the store has them, and filters on them.
  std::set<std::pair<int64_t, std::string>> transfers_stored;
  for (const auto& row : store_strings(db, "SELECT transfer_id || '|' || name FROM file_transfers")) {
    transfers_stored.insert({std::stoll(row.substr(0, row.find('|'))), row.substr(row.find('|') + 1)});
  }
  const std::set<std::string> names_stored = [&] {
    std::set<std::string> n;
    for (const auto& t : transfers_stored) n.insert(t.second);
    return n;
  }();
  EXPECT_EQ(names_stored, (std::set<std::string>{"one.bin", "two.txt", "three.dat"}));
  auto starts = tshark()(r + " -Y spicecap.agent.file_xfer_start -T fields -e spicecap.agent.file_xfer_start.id"
                             " -e spicecap.agent.file_xfer_start.keyfile");
  std::set<std::pair<int64_t, std::string>> transfers_shown;
  for (const auto& row : tsv(starts.output)) {
    if (row.size() < 2) continue;
    const auto ids = split(row[0], ',');
    // The keyfile as tshark prints it: "[vdagent-file-xfer]\nname=one.bin\nsize=70000\n".
    size_t from = 0;
    for (const auto& id : ids) {
      const size_t at = row[1].find("name=", from);
      ASSERT_NE(at, std::string::npos) << row[1];
      const size_t end = row[1].find("\\n", at);
      transfers_shown.insert({std::stoll(id), row[1].substr(at + 5, end - at - 5)});
      from = at + 5;
    }
  }
  EXPECT_EQ(transfers_shown, transfers_stored);
  for (const auto& [id, name] : transfers_stored) {
    const auto by_id = frames_matching(tshark(), r, "spicecap.agent.file_xfer_start.id == " + std::to_string(id));
    const auto by_name =
        frames_matching(tshark(), r, "spicecap.agent.file_xfer_start.keyfile contains \"name=" + name + "\"");
    EXPECT_EQ(by_id.size(), 1u) << name;
    EXPECT_EQ(by_id, by_name) << name;
  }

  // 3. Clipboard: the grabs' type lists, and the text both sides copied.
  const auto grabs = field_values(tshark(), r, "spicecap.agent.clipboard_grab", "spicecap.agent.clipboard_grab.types");
  EXPECT_FALSE(grabs.empty());
  EXPECT_EQ(static_cast<int64_t>(frames_matching(tshark(), r, "spicecap.agent.clipboard_grab.types == utf8_text").size()),
            store_scalar(db, "SELECT count(*) FROM agent_messages a JOIN names n ON n.id = a.name_id WHERE "
                             "n.name = 'agent.clipboard_grab' AND EXISTS (SELECT 1 FROM json_each(a.fields, '$.types') "
                             "WHERE value = 1)"));  // VD_AGENT_CLIPBOARD_UTF8_TEXT
  const auto clip_data = field_values(tshark(), r, "spicecap.agent.clipboard", "spicecap.agent.clipboard.data");
  for (const auto& text : store_strings(db, "SELECT lower(hex(content)) FROM clipboard WHERE type = 'utf8_text'")) {
    EXPECT_TRUE(std::any_of(clip_data.begin(), clip_data.end(), [&](const std::string& d) { return d.starts_with(text); }))
        << text;
  }
  EXPECT_EQ(store_scalar(db, "SELECT count(*) FROM clipboard WHERE content IN ('héllo', 'grüße')"), 2);

  // 4. A file_xfer_data message over many agent_data messages lists the packets
  //    that carried them, the last being the packet that shows it.
  auto data = tshark()(r + " -Y spicecap.agent.file_xfer_data -T fields -e frame.number -e spicecap.agent_carriers"
                           " -e spicecap.agent_frame");
  std::vector<std::string> carried;  // packets of one message carried by several
  for (const auto& row : tsv(data.output)) {
    if (row.size() < 3 || row[2].empty()) continue;
    const auto counts = numbers(split(row[1], ','));
    if (counts.size() != 1 || counts[0] < 10) continue;
    carried = split(row[2], ',');
    EXPECT_EQ(carried.back(), row[0]);
    break;
  }
  ASSERT_GT(carried.size(), 2u) << data.output;

  // 5. The reassembled bytes are a data source; the info column names the agent message.
  auto hex = tshark()(r + " -x -Y spicecap.agent.file_xfer_start");
  EXPECT_NE(hex.output.find("Reassembled agent message ("), std::string::npos);
  const auto info = field_values(tshark(), r, "spicecap.agent.clipboard_grab", "_ws.col.Info");
  ASSERT_FALSE(info.empty());
  EXPECT_NE(info.front().find("agent.clipboard_grab"), std::string::npos) << info.front();

  // 6. One packet in the middle of that message dropped: the message is lost, for
  //    the store and the plugin, and the plugin says so as an expert warning.
  const int drop = std::stoi(carried[carried.size() / 2]);
  const fs::path damaged = ses.cap.dir / "damaged.pcap";
  ASSERT_TRUE(rewrite_pcap(ses.cap.pcap.string(), damaged.string(),
                           [&](size_t i, const pcap_pkthdr&, const u_char*) { return static_cast<int>(i) + 1 != drop; }));
  make_readable(damaged);
  const fs::path damaged_db = ses.cap.dir / "damaged.db";
  ASSERT_EQ(import(damaged, damaged_db), "");
  EXPECT_GT(store_scalar(damaged_db, "SELECT count(*) FROM problems WHERE code = 'agent_message_lost'"), 0);
  const std::string dr = "-r " + damaged.string();
  EXPECT_FALSE(frames_matching(tshark(), dr, "spicecap.agent_diagnostic == \"agent_message_lost\"").empty());
  EXPECT_FALSE(frames_matching(tshark(), dr, "spicecap.expert.agent_warning").empty());
  EXPECT_LT(plugin_agent_messages(tshark(), dr, error).size(), shown.size());
  EXPECT_EQ(error, "");
}

}  // namespace
