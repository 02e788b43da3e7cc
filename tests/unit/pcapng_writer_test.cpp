// The pcapng writer read back by libpcap, and the synthetic TCP framing of
// export-pcap read back by our own segment parser and reassembler.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "capture/pcapng_writer.hpp"
#include "capture/synthetic_tcp.hpp"
#include "capture/tcp_reassembler.hpp"
#include "capture/tcp_segment.hpp"

namespace {

namespace fs = std::filesystem;
using sc::capture::Endpoint;
using sc::capture::PcapngWriter;
using sc::capture::SyntheticTcp;

fs::path temp_file(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("sc-pcapng-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto p = dir / name;
  fs::remove(p);
  return p;
}

struct ReadPacket {
  uint64_t ts_ns;
  std::vector<uint8_t> data;
  uint32_t len;
};

// libpcap is the reference reader here: what it returns is what every tool sees.
std::vector<ReadPacket> read_all(const fs::path& p, int& linktype, std::string& error) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pc = pcap_open_offline_with_tstamp_precision(p.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  std::vector<ReadPacket> out;
  if (!pc) {
    error = err;
    return out;
  }
  linktype = pcap_datalink(pc);
  pcap_pkthdr* h;
  const u_char* d;
  int r;
  while ((r = pcap_next_ex(pc, &h, &d)) == 1) {
    out.push_back({uint64_t(h->ts.tv_sec) * 1'000'000'000ull + uint64_t(h->ts.tv_usec), {d, d + h->caplen}, h->len});
  }
  if (r == PCAP_ERROR) error = pcap_geterr(pc);
  pcap_close(pc);
  return out;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8));
  return v;
}

TEST(PcapngWriter, LibpcapReadsBackPacketsAndNanosecondTimestamps) {
  const auto path = temp_file("basic.pcapng");
  const std::vector<std::vector<uint8_t>> packets = {pattern(60, 1), pattern(1, 2), pattern(1499, 3), pattern(64, 4)};
  const std::vector<uint64_t> ts = {1'700'000'000'123'456'789ull, 1'700'000'000'123'456'790ull,
                                    1'700'000'001'000'000'001ull, 1'700'000'002'999'999'999ull};
  {
    auto w = PcapngWriter::create(path.string(), false);
    ASSERT_TRUE(w.ok()) << w.error().message;
    // Two interfaces: libpcap reads several only when they share link type and
    // snapshot length, and (1.10) not for LINKTYPE_RAW, whose second interface it
    // compares, as 101, against the first one's DLT_RAW (12).
    const uint32_t a = (*w)->add_interface(DLT_EN10MB, 65535, "first");
    const uint32_t b = (*w)->add_interface(DLT_EN10MB, 65535, "second");
    EXPECT_EQ(a, 0u);
    EXPECT_EQ(b, 1u);
    for (size_t i = 0; i < packets.size(); ++i) {
      // The last one was snapped: its original length is longer than what is kept.
      const uint32_t len = static_cast<uint32_t>(packets[i].size() + (i == 3 ? 1000 : 0));
      ASSERT_TRUE((*w)->write_packet(i % 2 ? b : a, ts[i], packets[i], len).ok());
    }
    EXPECT_EQ((*w)->packets(), packets.size());
    ASSERT_TRUE((*w)->flush().ok());
  }
  int linktype = -1;
  std::string error;
  const auto got = read_all(path, linktype, error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(linktype, DLT_EN10MB);
  ASSERT_EQ(got.size(), packets.size());
  for (size_t i = 0; i < packets.size(); ++i) {
    EXPECT_EQ(got[i].ts_ns, ts[i]) << i;
    EXPECT_EQ(got[i].data, packets[i]) << i;
    EXPECT_EQ(got[i].len, packets[i].size() + (i == 3 ? 1000 : 0)) << i;
  }
  fs::remove_all(path.parent_path());
}

TEST(PcapngWriter, ManyPacketsGoThroughTheBuffer) {
  const auto path = temp_file("many.pcapng");
  constexpr size_t kCount = 3000;  // ~3 MB: many buffer flushes
  {
    auto w = PcapngWriter::create(path.string(), false);
    ASSERT_TRUE(w.ok()) << w.error().message;
    const uint32_t i0 = (*w)->add_interface(sc::capture::kLinktypeRaw, 0, "");
    for (size_t i = 0; i < kCount; ++i) {
      const auto p = pattern(1 + i % 1500, static_cast<uint8_t>(i));
      ASSERT_TRUE((*w)->write_packet(i0, 1000 + i, p, static_cast<uint32_t>(p.size())).ok());
    }
  }  // the destructor flushes
  int linktype = -1;
  std::string error;
  const auto got = read_all(path, linktype, error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(linktype, DLT_RAW);  // LINKTYPE_RAW (101) in the file, DLT_RAW to libpcap
  ASSERT_EQ(got.size(), kCount);
  for (size_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(got[i].data, pattern(1 + i % 1500, static_cast<uint8_t>(i))) << i;
    ASSERT_EQ(got[i].ts_ns, 1000 + i) << i;
  }
  fs::remove_all(path.parent_path());
}

TEST(PcapngWriter, RefusesAnExistingFileUnlessOverwrite) {
  const auto path = temp_file("exists.pcapng");
  { std::ofstream(path) << "keep me"; }
  auto w = PcapngWriter::create(path.string(), false);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("already exists"), std::string::npos) << w.error().message;
  EXPECT_EQ(fs::file_size(path), 7u);  // untouched
  auto again = PcapngWriter::create(path.string(), true);
  ASSERT_TRUE(again.ok()) << again.error().message;
  again.value().reset();
  // A section header and nothing else (the old bytes are gone).
  EXPECT_EQ(fs::file_size(path) % 4, 0u);
  EXPECT_GT(fs::file_size(path), 7u);
  auto missing = PcapngWriter::create((path.parent_path() / "no" / "such" / "dir.pcapng").string(), false);
  EXPECT_FALSE(missing.ok());
  fs::remove_all(path.parent_path());
}

TEST(PcapngWriter, RejectsPacketsItCannotDescribe) {
  const auto path = temp_file("reject.pcapng");
  auto w = PcapngWriter::create(path.string(), false);
  ASSERT_TRUE(w.ok()) << w.error().message;
  const uint32_t i0 = (*w)->add_interface(sc::capture::kLinktypeRaw, 100, "small");
  const auto p = pattern(101, 0);
  EXPECT_FALSE((*w)->write_packet(i0, 1, p, 101).ok());         // over the snaplen
  EXPECT_FALSE((*w)->write_packet(7, 1, pattern(10, 0), 10).ok());  // no such interface
  EXPECT_FALSE((*w)->write_packet(i0, 1, pattern(10, 0), 9).ok());  // shorter on the wire than kept
  EXPECT_TRUE((*w)->write_packet(i0, 1, pattern(100, 0), 100).ok());
  EXPECT_EQ((*w)->packets(), 1u);
  w.value().reset();
  int linktype = -1;
  std::string error;
  EXPECT_EQ(read_all(path, linktype, error).size(), 1u) << error;
  fs::remove_all(path.parent_path());
}

// --- synthetic TCP -------------------------------------------------------------

uint16_t internet_sum(std::span<const uint8_t> b, uint32_t sum = 0) {
  for (size_t i = 0; i < b.size(); i += 2) sum += uint32_t(b[i]) << 8 | (i + 1 < b.size() ? b[i + 1] : 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// A packet whose checksums, summed with themselves, give all ones.
bool checksums_ok(std::span<const uint8_t> f) {
  const bool v6 = (f[0] >> 4) == 6;
  const size_t ip = v6 ? 40 : 20;
  if (!v6 && internet_sum(f.first(20)) != 0xffff) return false;
  const auto tcp = f.subspan(ip);
  uint32_t pseudo = internet_sum(f.subspan(v6 ? 8 : 12, v6 ? 32 : 8));
  pseudo += 6 + static_cast<uint32_t>(tcp.size());
  return internet_sum(tcp, pseudo) == 0xffff;
}

struct Collector : sc::capture::StreamConsumer {
  std::map<int, std::vector<uint8_t>> bytes;
  std::map<int, std::vector<std::pair<uint64_t, uint64_t>>> gaps;  // (offset, size)
  bool saw_syn = false, closed = false;
  Endpoint initiator;
  void on_open(uint32_t, const Endpoint& a, const Endpoint&, bool syn, uint64_t) override {
    initiator = a;
    saw_syn = syn;
  }
  void on_data(uint32_t, int side, std::span<const uint8_t> b, uint64_t) override {
    bytes[side].insert(bytes[side].end(), b.begin(), b.end());
  }
  void on_gap(uint32_t, int side, uint64_t n, uint64_t) override {
    gaps[side].push_back({bytes[side].size(), n});
    bytes[side].resize(bytes[side].size() + n, 0);  // keep offsets: the collector's stream is position-true
  }
  void on_close(uint32_t, uint64_t) override { closed = true; }
};

Endpoint endpoint(const std::string& addr, uint16_t port, bool v6) {
  Endpoint e;
  e.v6 = v6;
  e.port = port;
  inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), e.addr.data());
  return e;
}

void round_trip(bool v6) {
  const Endpoint client = endpoint(v6 ? "fd00::1" : "192.0.2.1", 50123, v6);
  const Endpoint server = endpoint(v6 ? "fd00::2" : "192.0.2.2", 5900, v6);
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> frames;
  SyntheticTcp tcp(client, server, 42, [&](uint64_t ts, std::span<const uint8_t> f) -> sc::Result<void> {
    frames.push_back({ts, {f.begin(), f.end()}});
    return {};
  });
  const auto c2s = pattern(40000, 1), s2c1 = pattern(100, 2), s2c2 = pattern(300000, 3);
  ASSERT_TRUE(tcp.open(10).ok());
  ASSERT_TRUE(tcp.send(0, 20, c2s).ok());
  ASSERT_TRUE(tcp.send(1, 30, s2c1).ok());
  tcp.skip(1, 777);  // the original capture lost these
  ASSERT_TRUE(tcp.send(1, 40, s2c2).ok());
  ASSERT_TRUE(tcp.close(50).ok());
  EXPECT_EQ(tcp.packets(), frames.size());

  Collector got;
  sc::capture::TcpReassembler reassembler(got);
  std::map<int, uint64_t> last_ack;
  for (const auto& [ts, f] : frames) {
    ASSERT_TRUE(checksums_ok(f)) << "bad checksum at ts " << ts;
    auto seg = sc::capture::parse_tcp(DLT_RAW, f);
    ASSERT_TRUE(seg.has_value());
    EXPECT_LE(seg->payload.size(), sc::capture::kSyntheticMaxSegment);
    EXPECT_LE(f.size(), sc::capture::kSyntheticSnaplen);
    reassembler.add(*seg, ts);
  }
  reassembler.finish(60);
  EXPECT_TRUE(got.saw_syn);
  EXPECT_TRUE(got.closed);
  EXPECT_EQ(got.initiator, client);
  EXPECT_EQ(got.bytes[0], c2s);
  ASSERT_EQ(got.gaps[1].size(), 1u);
  EXPECT_EQ(got.gaps[1][0], (std::pair<uint64_t, uint64_t>{100, 777}));
  ASSERT_EQ(got.bytes[1].size(), 100 + 777 + s2c2.size());
  EXPECT_TRUE(std::equal(s2c1.begin(), s2c1.end(), got.bytes[1].begin()));
  EXPECT_TRUE(std::equal(s2c2.begin(), s2c2.end(), got.bytes[1].begin() + 877));
  EXPECT_TRUE(got.gaps[0].empty());

  // The handshake first, the FINs last, each data segment at its send's time.
  auto flags = [&](size_t i) { return sc::capture::parse_tcp(DLT_RAW, frames[i].second)->flags; };
  EXPECT_EQ(flags(0), sc::capture::kSyn);
  EXPECT_EQ(flags(1), sc::capture::kSyn | sc::capture::kAck);
  EXPECT_EQ(flags(2), sc::capture::kAck);
  EXPECT_EQ(frames[0].first, 10u);
  EXPECT_TRUE(flags(frames.size() - 3) & sc::capture::kFin);
  EXPECT_TRUE(flags(frames.size() - 2) & sc::capture::kFin);
  EXPECT_EQ(frames.back().first, 50u);
  for (const auto& [ts, f] : frames) {
    auto seg = sc::capture::parse_tcp(DLT_RAW, f);
    if (seg->payload.empty()) continue;
    const bool from_client = seg->src == client;
    EXPECT_EQ(ts, from_client ? 20u : (seg->payload.size() == 100 ? 30u : 40u));
  }
}

TEST(PcapngSyntheticTcp, Ipv4StreamsReassembleWithTheHoleWhereItWas) { round_trip(false); }
TEST(PcapngSyntheticTcp, Ipv6StreamsReassembleWithTheHoleWhereItWas) { round_trip(true); }

TEST(PcapngSyntheticTcp, OneSegmentCanCarryAsMuchAsIpAllows) {
  for (const bool v6 : {false, true}) {
    const Endpoint client = endpoint(v6 ? "fd00::1" : "192.0.2.1", 40000, v6);
    const Endpoint server = endpoint(v6 ? "fd00::2" : "192.0.2.2", 5900, v6);
    std::vector<std::vector<uint8_t>> frames;
    SyntheticTcp tcp(client, server, 3, [&](uint64_t, std::span<const uint8_t> f) -> sc::Result<void> {
      frames.emplace_back(f.begin(), f.end());
      return {};
    });
    const auto big = pattern(sc::capture::kSyntheticMaxPayload + 10, 5);
    ASSERT_TRUE(tcp.send(1, 1, big, 1 << 20).ok());  // asked for more than IP can: clamped
    size_t carried = 0;
    for (const auto& f : frames) {
      ASSERT_TRUE(checksums_ok(f)) << v6;
      EXPECT_LE(f.size(), sc::capture::kSyntheticSnaplen);
      auto seg = sc::capture::parse_tcp(DLT_RAW, f);
      ASSERT_TRUE(seg.has_value()) << v6;
      if (seg->src == server && !seg->payload.empty()) {
        if (carried == 0) {
          EXPECT_EQ(seg->payload.size(), sc::capture::kSyntheticMaxPayload) << v6;
        }
        carried += seg->payload.size();
      }
    }
    EXPECT_EQ(carried, big.size());
  }
}

TEST(PcapngSyntheticTcp, NoReceiveWindowFillsAndNoAckRepeats) {
  // Wireshark flags "window full" when unacknowledged bytes reach the advertised
  // window (65535 << 7), and "duplicate ACK" for a repeated pure ACK.
  const Endpoint client = endpoint("192.0.2.1", 40000, false), server = endpoint("192.0.2.2", 5900, false);
  std::vector<sc::capture::TcpSegment> segs;
  std::vector<std::vector<uint8_t>> keep;
  SyntheticTcp tcp(client, server, 7, [&](uint64_t, std::span<const uint8_t> f) -> sc::Result<void> {
    keep.emplace_back(f.begin(), f.end());
    return {};
  });
  ASSERT_TRUE(tcp.open(1).ok());
  const auto big = pattern(20 << 20, 9);  // 20 MiB one way, nothing back
  ASSERT_TRUE(tcp.send(1, 2, big).ok());
  ASSERT_TRUE(tcp.close(3).ok());
  uint64_t server_sent = 0, client_acked = 0;
  uint32_t server_base = 0;
  uint32_t last_pure_ack = 0;
  for (const auto& f : keep) {
    auto s = sc::capture::parse_tcp(DLT_RAW, f);
    ASSERT_TRUE(s.has_value());
    if (s->src == server) {
      if (s->flags & sc::capture::kSyn) server_base = s->seq + 1;
      else server_sent = uint32_t(s->seq + s->payload.size() - server_base);
      EXPECT_LT(server_sent - client_acked, 65535u << 7);
    } else if (s->flags & sc::capture::kAck && !(s->flags & sc::capture::kSyn)) {
      if (s->payload.empty() && !(s->flags & sc::capture::kFin)) {
        EXPECT_NE(s->ack, last_pure_ack) << "duplicate ACK";
        last_pure_ack = s->ack;
      }
      client_acked = uint32_t(s->ack - server_base);
    }
  }
  EXPECT_EQ(server_sent, big.size());
}

}  // namespace
