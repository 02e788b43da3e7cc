// Finding SPICE without being told where it is, on real traffic: connections
// captured mid-session next to a complete one to the same server (decoded exactly
// as --port would), and SPICE TLS channels from QEMU's tls-port (listed with the
// version and server name their hellos show, counted by port when nothing says
// they are SPICE). The importer is looked at through its sink interface only.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "capture/importer.hpp"
#include "capture/tcp_segment.hpp"
#include "peer_session.hpp"
#include "server/test_ca.hpp"
#include "tests/unit/capture_test_sink.hpp"

namespace {

using namespace sc::test;
namespace capture = sc::capture;

// One TCP connection of a capture, as the packets show it.
struct ScannedConnection {
  capture::Endpoint client, server;
  uint64_t first_ts = 0;
  size_t packets = 0;
  uint64_t payload[2] = {0, 0};  // c2s, s2c: stream bytes, each once (loopback captures hold retransmissions)
  std::vector<uint8_t> first_c2s;
  bool started[2] = {false, false};
  uint32_t base[2] = {0, 0};
};

struct Scan {
  int linktype = 0;
  std::vector<ScannedConnection> conns;  // in order of their first packet
  std::map<uint16_t, size_t> by_client_port;
};

// Reads a loopback capture of a server on `server_ports` with the product's own
// link/IP/TCP parser; connections are told apart by their client port.
Scan scan(const std::string& path, const std::set<uint16_t>& server_ports) {
  Scan s;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (!p) return s;
  s.linktype = pcap_datalink(p);
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(p, &h, &d) == 1) {
    auto seg = capture::parse_tcp(s.linktype, {d, h->caplen});
    if (!seg || seg->fragment) continue;
    const bool c2s = server_ports.count(seg->dst.port) != 0;
    const auto& client = c2s ? seg->src : seg->dst;
    auto [it, fresh] = s.by_client_port.try_emplace(client.port, s.conns.size());
    if (fresh) {
      ScannedConnection c;
      c.client = client;
      c.server = c2s ? seg->dst : seg->src;
      c.first_ts = static_cast<uint64_t>(h->ts.tv_sec) * 1'000'000'000ull + h->ts.tv_usec * 1000ull;
      s.conns.push_back(c);
    }
    auto& c = s.conns[it->second];
    ++c.packets;
    const int dir = c2s ? 0 : 1;
    if (!c.started[dir] && ((seg->flags & capture::kSyn) || !seg->payload.empty())) {
      c.started[dir] = true;
      c.base[dir] = seg->seq + ((seg->flags & capture::kSyn) ? 1 : 0);
    }
    if (!seg->payload.empty()) {
      const uint64_t end = static_cast<uint32_t>(seg->seq - c.base[dir]) + seg->payload.size();
      c.payload[dir] = std::max(c.payload[dir], end);
    }
    if (c2s && c.first_c2s.empty()) c.first_c2s.assign(seg->payload.begin(), seg->payload.end());
  }
  pcap_close(p);
  return s;
}

// The SPICE channel type a connection's link message asks for (0: not a link message).
uint8_t link_channel_type(const ScannedConnection& c) {
  if (c.first_c2s.size() < 16 + 5 || std::string(c.first_c2s.begin(), c.first_c2s.begin() + 4) != "REDQ") return 0;
  return c.first_c2s[16 + 4];
}

// Drops the first `n` packets of every connection whose client port is in `cut`.
bool cut_connections(const std::string& in, const std::string& out, int linktype, const std::set<uint16_t>& server_ports,
                     const std::set<uint16_t>& cut, size_t n) {
  std::map<uint16_t, size_t> seen;
  return rewrite_pcap(in, out, [&](size_t, const pcap_pkthdr& h, const u_char* d) {
    auto seg = capture::parse_tcp(linktype, {d, h.caplen});
    if (!seg) return true;
    const uint16_t client = server_ports.count(seg->dst.port) ? seg->src.port : seg->dst.port;
    if (!cut.count(client)) return true;
    return ++seen[client] > n;
  });
}

struct Imported {
  RecordingSink sink;
  capture::ImportStats stats;
  std::string error;
};

std::unique_ptr<Imported> import(const std::string& path, std::vector<uint16_t> ports = {}) {
  auto r = std::make_unique<Imported>();
  capture::ImportOptions o;
  o.ports = std::move(ports);
  auto st = capture::import_file(path, r->sink, o);
  if (!st) r->error = st.error().message;
  else r->stats = *st;
  return r;
}

// What one connection came to, comparable between two imports of one capture.
struct Outcome {
  bool midstream = false, tls = false;
  uint8_t channel_type = 0;
  uint64_t frames[2] = {0, 0}, bytes[2] = {0, 0};
  std::vector<std::tuple<std::string, int, uint64_t>> problems;  // code, direction, stream offset
  bool operator==(const Outcome& o) const {
    return midstream == o.midstream && tls == o.tls && channel_type == o.channel_type && frames[0] == o.frames[0] &&
           frames[1] == o.frames[1] && bytes[0] == o.bytes[0] && bytes[1] == o.bytes[1] && problems == o.problems;
  }
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{midstream " << o.midstream << ", tls " << o.tls << ", type " << int(o.channel_type) << ", frames "
     << o.frames[0] << "/" << o.frames[1] << ", bytes " << o.bytes[0] << "/" << o.bytes[1] << ", problems";
  for (const auto& [code, dir, off] : o.problems) os << " " << code << "@" << dir << ":" << off;
  return os << "}";
}

// By client port.
std::map<uint16_t, Outcome> outcomes(const RecordingSink& sink) {
  std::map<uint16_t, Outcome> out;
  for (const auto& [id, r] : sink.conns) {
    Outcome& o = out[r.info.client.port];
    o.midstream = r.info.midstream;
    o.tls = r.info.tls;
    o.channel_type = r.channel_type;
    for (int d = 0; d < 2; ++d) {
      o.frames[d] = r.frames[d];
      o.bytes[d] = r.frame_bytes[d];
    }
  }
  for (const auto& p : sink.problems) {
    const auto& info = sink.conns.at(p.conn).info;
    out[info.client.port].problems.emplace_back(p.code, static_cast<int>(p.dir), p.stream_offset);
  }
  for (auto& [port, o] : out) std::sort(o.problems.begin(), o.problems.end());
  return out;
}

class CaptureDetection : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& s = shared_qemu_session();
    ASSERT_TRUE(s.error.empty()) << s.error;
    session_ = &s;
    dir_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    port_ = static_cast<uint16_t>(s.port);
    scan_ = scan(s.pcap.string(), {port_});
    ASSERT_FALSE(scan_.conns.empty());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  const RecordedSession* session_ = nullptr;
  std::filesystem::path dir_;
  uint16_t port_ = 0;
  Scan scan_;
};

TEST_F(CaptureDetection, MidSessionConnectionsBesideACompleteOneAreFoundWithoutPort) {
  // The shared session is spicy-screenshot's connections, then the GLib client's:
  // the second main-channel link starts the second session.
  std::vector<size_t> mains;
  for (size_t i = 0; i < scan_.conns.size(); ++i) {
    if (link_channel_type(scan_.conns[i]) == 1) mains.push_back(i);
  }
  ASSERT_EQ(mains.size(), 2u);
  // Cut every connection of the first session (before any complete SPICE
  // connection: found by the second pass), and the display and inputs channels of
  // the second (after its main channel: found at once). The second main stays whole.
  std::set<uint16_t> cut;
  for (size_t i = 0; i < mains[1]; ++i) cut.insert(scan_.conns[i].client.port);
  for (size_t i = mains[1] + 1; i < scan_.conns.size(); ++i) {
    const uint8_t type = link_channel_type(scan_.conns[i]);
    if (type == 2 || type == 3) cut.insert(scan_.conns[i].client.port);
  }
  ASSERT_TRUE(cut_connections(session_->pcap.string(), path("late.pcap"), scan_.linktype, {port_}, cut, 12));

  auto without = import(path("late.pcap"));
  auto with = import(path("late.pcap"), {port_});
  ASSERT_TRUE(without->error.empty()) << without->error;
  ASSERT_TRUE(with->error.empty()) << with->error;

  const auto a = outcomes(without->sink), b = outcomes(with->sink);
  EXPECT_EQ(a.size(), b.size());
  size_t midstream = 0, early = 0, late = 0, display = 0;
  for (const auto& [port, expected] : b) {
    ASSERT_TRUE(a.count(port)) << "connection from port " << port << " not decoded without --port";
    EXPECT_EQ(a.at(port), expected) << "connection from port " << port;
    if (!expected.midstream) continue;
    ++midstream;
    EXPECT_TRUE(cut.count(port)) << port;
    const bool before_main = scan_.conns[scan_.by_client_port.at(port)].first_ts < scan_.conns[mains[1]].first_ts;
    (before_main ? early : late) += 1;
    display += expected.channel_type == 2;
  }
  EXPECT_GT(early, 0u) << "no connection needed the second pass";
  EXPECT_GT(late, 0u) << "no connection was inferred in the first pass";
  EXPECT_GT(display, 0u) << "no display channel was inferred mid-session";
  // Without --port they are said to be inferred; with it they are not.
  for (const auto& [id, r] : without->sink.conns) EXPECT_EQ(r.info.inferred, r.info.midstream) << r.info.client.to_string();
  for (const auto& [id, r] : with->sink.conns) EXPECT_FALSE(r.info.inferred);

  EXPECT_EQ(without->stats.inferred_midstream, midstream);
  EXPECT_EQ(with->stats.inferred_midstream, 0u);
  EXPECT_TRUE(without->stats.second_pass);
  EXPECT_FALSE(with->stats.second_pass);
  EXPECT_EQ(without->stats.skipped_tcp_connections, 0u);
  EXPECT_EQ(without->stats.spice_connections, with->stats.spice_connections);
  EXPECT_GT(without->sink.count("midstream"), 0u);
  EXPECT_EQ(without->sink.count("midstream"), with->sink.count("midstream"));
  // Real messages came out of the inferred connections, e.g. the screen's draw_copy.
  uint64_t draws = 0;
  for (const auto& [id, r] : without->sink.conns) {
    if (r.info.inferred && r.names.count("display.draw_copy")) draws += r.names.at("display.draw_copy");
  }
  EXPECT_GT(draws, 0u);
  // Every connection was closed, and only once.
  std::set<uint32_t> closed(without->sink.closed.begin(), without->sink.closed.end());
  EXPECT_EQ(closed.size(), without->sink.closed.size());
  EXPECT_EQ(closed.size(), without->sink.opened.size());
}

TEST_F(CaptureDetection, WithNothingToInferFromTheSkippedPortIsNamed) {
  std::set<uint16_t> all;
  for (const auto& c : scan_.conns) all.insert(c.client.port);
  ASSERT_TRUE(cut_connections(session_->pcap.string(), path("late.pcap"), scan_.linktype, {port_}, all, 12));
  const Scan cut = scan(path("late.pcap"), {port_});
  uint64_t with_payload = 0;
  for (const auto& c : cut.conns) with_payload += c.payload[0] + c.payload[1] > 0;
  ASSERT_GT(with_payload, 0u);

  auto r = import(path("late.pcap"));
  ASSERT_TRUE(r->error.empty()) << r->error;
  EXPECT_EQ(r->stats.spice_connections, 0u);
  EXPECT_TRUE(r->sink.opened.empty());
  EXPECT_FALSE(r->stats.second_pass);
  EXPECT_EQ(r->stats.skipped_tcp_connections, with_payload);
  ASSERT_EQ(r->stats.skipped_ports.size(), 1u);
  EXPECT_EQ(r->stats.skipped_ports[0], (capture::PortCount{port_, with_payload}));
  EXPECT_TRUE(r->stats.tls_ports.empty());
}

// QEMU with a tls-port, recorded with the same harness as the shared session.
class CaptureTls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto ca = sc::server::make_test_ca((dir_ / "ca").string());
    ASSERT_TRUE(ca.ok()) << ca.error().message;
  }
  void TearDown() override {
    // SC_KEEP_FAILED=1 keeps a failed test's capture to look at.
    if (HasFailure() && std::getenv("SC_KEEP_FAILED")) {
      std::cerr << "kept " << dir_ << '\n';
      return;
    }
    std::filesystem::remove_all(dir_);
  }

  // The clients connect to "localhost" so that they send it as SNI (not for addresses).
  void record(const std::string& tls_args) {
    pcap_ = (dir_ / "tls.pcap").string();
    const std::string meta = (dir_ / "tls.json").string();
    auto r = run("/usr/bin/python3 " + source_dir() + "/tests/peers/make_capture.py --out " + pcap_ + " --meta " +
                     meta + " --clients screenshot,glib --duration 3 --host localhost --tls-dir " +
                     (dir_ / "ca").string() + " " + tls_args,
                 120);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::ifstream in(meta);
    meta_ = nlohmann::json::parse(in);
    tls_port_ = meta_["server"]["tls_port"].get<uint16_t>();
    if (!meta_["server"]["plain_port"].is_null()) plain_port_ = meta_["server"]["plain_port"].get<uint16_t>();
    std::set<uint16_t> ports = {tls_port_};
    if (plain_port_) ports.insert(plain_port_);
    scan_ = scan(pcap_, ports);
    for (const auto& c : scan_.conns) {
      if (c.server.port == tls_port_ && c.first_c2s.size() > 5 && c.first_c2s[0] == 0x16 && c.first_c2s[1] == 3) {
        tls_.push_back(c);
      }
    }
    ASSERT_FALSE(tls_.empty()) << "no TLS connection in the capture";
  }

  // The version tshark's own dissector reads from each connection's ServerHello, by client port.
  std::map<uint16_t, std::string> tshark_versions() {
    auto r = run("tshark -r " + pcap_ + " -d tcp.port==" + std::to_string(tls_port_) +
                     ",tls -Y 'tls.handshake.type == 2' -T fields -e tcp.dstport -e tls.handshake.version"
                     " -e tls.handshake.extensions.supported_version",
                 60, true);
    std::map<uint16_t, std::string> out;
    std::istringstream lines(r.output);
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream f(line);
      std::string port, legacy, selected;
      std::getline(f, port, '\t');
      std::getline(f, legacy, '\t');
      std::getline(f, selected, '\t');
      const std::string v = selected.empty() ? legacy : selected;
      out[static_cast<uint16_t>(std::stoi(port))] = v == "0x0304" ? "TLS 1.3" : v == "0x0303" ? "TLS 1.2" : v;
    }
    return out;
  }

  // Every TLS connection of the capture is a TLS channel of `sink`, with its hello facts.
  void expect_tls_channels(const RecordingSink& sink) {
    const auto versions = tshark_versions();
    std::map<uint16_t, const RecordedConnection*> by_port;
    for (const auto& [id, r] : sink.conns) {
      if (r.info.tls) by_port[r.info.client.port] = &r;
    }
    EXPECT_EQ(by_port.size(), tls_.size());
    for (const auto& c : tls_) {
      ASSERT_TRUE(by_port.count(c.client.port)) << "TLS connection from port " << c.client.port << " not listed";
      const RecordedConnection& r = *by_port.at(c.client.port);
      EXPECT_EQ(r.info.server.port, tls_port_);
      EXPECT_EQ(r.tls_calls, 1);
      EXPECT_EQ(r.order, (std::vector<std::string>{"open", "tls", "close"}));
      EXPECT_EQ(r.tls.sni, "localhost");
      ASSERT_TRUE(versions.count(c.client.port)) << "tshark saw no ServerHello for port " << c.client.port;
      EXPECT_EQ(r.tls.version, versions.at(c.client.port));
      EXPECT_TRUE(r.tls.negotiated);
      EXPECT_EQ(r.tls.bytes[0], c.payload[0]) << "client port " << c.client.port;
      EXPECT_EQ(r.tls.bytes[1], c.payload[1]) << "client port " << c.client.port;
      EXPECT_EQ(r.frames[0] + r.frames[1], 0u);  // nothing is decoded from ciphertext
    }
    size_t tls_problems = 0;
    for (const auto& p : sink.problems) tls_problems += p.code == "tls";
    EXPECT_EQ(tls_problems, tls_.size());
  }

  std::filesystem::path dir_;
  std::string pcap_;
  nlohmann::json meta_;
  uint16_t tls_port_ = 0, plain_port_ = 0;
  Scan scan_;
  std::vector<ScannedConnection> tls_;
};

TEST_F(CaptureTls, MixedSessionListsItsTlsChannelsWithVersionAndSni) {
  // main and inputs must be secure: the clients link them on the plain port first,
  // are told to use TLS, and reconnect to the tls-port.
  record("--tls-channels main,inputs");
  auto r = import(pcap_);
  ASSERT_TRUE(r->error.empty()) << r->error;
  EXPECT_EQ(r->stats.tls_connections, tls_.size());
  EXPECT_TRUE(r->stats.tls_ports.empty());
  EXPECT_EQ(r->stats.skipped_tcp_connections, 0u);
  expect_tls_channels(r->sink);
  // The plain channels still decode (display, cursor, ... of both clients).
  uint64_t plain_frames = 0;
  for (const auto& [id, c] : r->sink.conns) {
    if (!c.info.tls) plain_frames += c.frames[0] + c.frames[1];
  }
  EXPECT_GT(plain_frames, 100u);
  EXPECT_GT(r->sink.conns.size(), tls_.size());
}

TEST_F(CaptureTls, TlsOnlySessionIsCountedByPortAndListedWithThePort) {
  record("--tls-only");
  auto without = import(pcap_);
  ASSERT_TRUE(without->error.empty()) << without->error;
  EXPECT_EQ(without->stats.spice_connections, 0u);
  EXPECT_EQ(without->stats.tls_connections, 0u);
  EXPECT_TRUE(without->sink.opened.empty());
  ASSERT_EQ(without->stats.tls_ports.size(), 1u);
  EXPECT_EQ(without->stats.tls_ports[0], (capture::PortCount{tls_port_, tls_.size()}));
  EXPECT_GE(without->stats.skipped_tcp_connections, tls_.size());

  auto with = import(pcap_, {tls_port_});
  ASSERT_TRUE(with->error.empty()) << with->error;
  EXPECT_EQ(with->stats.tls_connections, tls_.size());
  EXPECT_TRUE(with->stats.tls_ports.empty());
  expect_tls_channels(with->sink);
}

}  // namespace
