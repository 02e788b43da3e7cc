// Flow lifetime and bounded memory in the capture stage: flows end on FIN, RST
// or idle time and are freed then (not at end of file), out-of-order bytes are
// capped per direction and in all, and each cap hit is a located problem.
#include <gtest/gtest.h>

#include <set>

#include "capture/importer.hpp"
#include "capture/tcp_reassembler.hpp"
#include "capture_test_packets.hpp"
#include "capture_test_sink.hpp"

namespace {

using namespace sc::test;
namespace capture = sc::capture;
using sc::capture::Endpoint;
using sc::capture::Importer;
using sc::capture::ImportOptions;
using sc::capture::TcpReassembler;
using sc::capture::TcpSegment;

constexpr uint64_t kSec = 1'000'000'000ull;

std::vector<uint8_t> filler(size_t n, uint8_t seed = 0) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 31);
  return v;
}

TEST(CaptureFlows, BothFinsCloseTheConnectionAtOnceAndFreeIt) {
  RecordingSink sink;
  Importer imp(sink, {});
  TcpPeer c{imp, ep4(10, 0, 0, 2, 40000), ep4(10, 0, 0, 1, 5900)};
  c.handshake(1 * kSec);
  c.c2s(redq_link(), 2 * kSec);
  c.s2c(bytes_of("REDQ-ish reply that the framer may dislike"), 3 * kSec);
  EXPECT_EQ(imp.live_flows(), 1u);
  c.fin_c(10 * kSec);
  EXPECT_TRUE(sink.closed.empty()) << "one FIN is a half-close";
  c.fin_s(11 * kSec);
  ASSERT_EQ(sink.closed.size(), 1u);
  EXPECT_EQ(sink.conns.begin()->second.close_ts, 11 * kSec);
  EXPECT_EQ(imp.live_flows(), 0u);
  EXPECT_EQ(imp.reassembler().live_flows(), 0u);
  // The last ACK and a late RST open nothing.
  c.raw(true, c.cseq, sc::capture::kAck, {}, 12 * kSec);
  c.raw(true, c.cseq, sc::capture::kRst, {}, 12 * kSec);
  imp.finish();
  EXPECT_EQ(sink.closed.size(), 1u);
  EXPECT_EQ(imp.stats().tcp_connections, 1u);
  EXPECT_EQ(imp.stats().spice_connections, 1u);
}

TEST(CaptureFlows, ResetClosesAtOnce) {
  RecordingSink sink;
  Importer imp(sink, {});
  TcpPeer c{imp, ep4(10, 0, 0, 2, 40001), ep4(10, 0, 0, 1, 5900)};
  c.handshake(1 * kSec);
  c.c2s(redq_link(), 2 * kSec);
  c.s2c({}, 5 * kSec, sc::capture::kRst | sc::capture::kAck);
  ASSERT_EQ(sink.closed.size(), 1u);
  EXPECT_EQ(sink.conns.begin()->second.close_ts, 5 * kSec);
  EXPECT_EQ(imp.live_flows(), 0u);
  // Data still in flight from the client after the reset is a straggler, not a new connection.
  c.c2s(filler(100), 5 * kSec + 1000);
  EXPECT_EQ(imp.live_flows(), 0u);
  imp.finish();
  EXPECT_EQ(imp.stats().tcp_connections, 1u);
  EXPECT_EQ(sink.opened.size(), 1u);
}

TEST(CaptureFlows, IdleFlowsCloseAfterTheTimeoutAtTheirLastPacket) {
  RecordingSink sink;
  ImportOptions o;
  o.idle_timeout_ns = 10 * kSec;
  Importer imp(sink, o);
  TcpPeer a{imp, ep4(10, 0, 0, 2, 40002), ep4(10, 0, 0, 1, 5900)};
  TcpPeer b{imp, ep4(10, 0, 0, 3, 40003), ep4(10, 0, 0, 1, 5900)};
  a.handshake(1 * kSec);
  a.c2s(redq_link(), 1 * kSec);
  b.handshake(5 * kSec);
  b.c2s(redq_link(), 5 * kSec);
  b.c2s(filler(10), 11 * kSec);  // 10 s after a's last packet: not yet more
  EXPECT_TRUE(sink.closed.empty());
  b.c2s(filler(10), 12 * kSec);
  ASSERT_EQ(sink.closed.size(), 1u);
  EXPECT_EQ(sink.conns[sink.closed[0]].info.client, a.client);
  EXPECT_EQ(sink.conns[sink.closed[0]].close_ts, 1 * kSec);
  EXPECT_EQ(imp.live_flows(), 1u);
  imp.finish();
  EXPECT_EQ(sink.closed.size(), 2u);
  EXPECT_EQ(imp.live_flows(), 0u);
}

TEST(CaptureFlows, ManyConnectionsOneAfterTheOtherKeepTheFlowTableSmall) {
  RecordingSink sink;
  Importer imp(sink, {});
  uint64_t t = kSec;
  for (int i = 0; i < 3000; ++i) {
    TcpPeer c{imp, ep4(10, 0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 40000), ep4(10, 0, 0, 1, 5900)};
    c.handshake(t);
    c.c2s(redq_link(), t + 1);
    c.s2c(filler(40), t + 2);
    c.fin_c(t + 3);
    c.fin_s(t + 4);
    t += 1000;
    ASSERT_EQ(imp.live_flows(), 0u) << "after connection " << i;
  }
  EXPECT_EQ(sink.closed.size(), 3000u);
  EXPECT_LE(imp.stats().peak_live_flows, 1u);
  imp.finish();
  EXPECT_EQ(sink.closed.size(), 3000u);
}

TEST(CaptureFlows, FlowsThatNeverEndAreBoundedInNumber) {
  RecordingSink sink;
  ImportOptions o;
  o.max_live_flows = 100;
  Importer imp(sink, o);
  for (int i = 0; i < 1000; ++i) {
    TcpPeer c{imp, ep4(10, 1, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 40000), ep4(10, 0, 0, 1, 5900)};
    c.handshake(kSec + i);  // a SYN flood: nothing ever closes
    ASSERT_LE(imp.live_flows(), 100u);
  }
  EXPECT_EQ(imp.stats().tcp_connections, 1000u);
  EXPECT_EQ(imp.stats().peak_live_flows, 100u);
}

TEST(CaptureFlows, NewSynOnAClosedFourTupleIsANewConnection) {
  RecordingSink sink;
  Importer imp(sink, {});
  TcpPeer c{imp, ep4(10, 0, 0, 2, 40004), ep4(10, 0, 0, 1, 5900)};
  c.handshake(1 * kSec);
  c.c2s(redq_link(), 1 * kSec);
  c.fin_c(2 * kSec);
  c.fin_s(2 * kSec);
  c.cseq += 100000;
  c.handshake(3 * kSec);
  c.c2s(redq_link(), 3 * kSec);
  EXPECT_EQ(sink.opened.size(), 2u);
  imp.finish();
  EXPECT_EQ(sink.closed.size(), 2u);
}

// A consumer of the reassembler alone, to see the bytes and the caps.
struct Streams : sc::capture::StreamConsumer {
  std::map<uint32_t, std::string> data[2];
  uint64_t gap_bytes = 0;
  std::vector<sc::capture::Overflow> overflows;
  std::vector<std::pair<uint32_t, uint64_t>> closes;
  void on_open(uint32_t, const Endpoint&, const Endpoint&, bool, uint64_t) override {}
  void on_data(uint32_t f, int side, std::span<const uint8_t> b, uint64_t) override {
    data[side][f].append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  void on_gap(uint32_t f, int side, uint64_t n, uint64_t) override {
    gap_bytes += n;
    data[side][f].append("<gap>");
  }
  void on_close(uint32_t f, uint64_t ts) override { closes.emplace_back(f, ts); }
  void on_overflow(uint32_t, int, const sc::capture::Overflow& o, uint64_t) override { overflows.push_back(o); }
};

struct Segments {
  std::vector<uint8_t> storage;
  Endpoint a = ep4(10, 0, 0, 2, 40000), b = ep4(10, 0, 0, 1, 5900);
  TcpSegment seg(uint32_t seq, std::span<const uint8_t> payload, uint8_t flags = sc::capture::kAck, bool reverse = false) {
    TcpSegment s;
    s.src = reverse ? b : a;
    s.dst = reverse ? a : b;
    s.seq = seq;
    s.flags = flags;
    storage.assign(payload.begin(), payload.end());
    s.payload = storage;
    return s;
  }
};

TEST(CaptureReassembly, BothFinsWithAHoleWaitForTheLateCopy) {
  Streams c;
  TcpReassembler r(c);
  Segments s;
  r.add(s.seg(100, bytes_of("abc")), 1);
  r.add(s.seg(106, bytes_of("ghi"), sc::capture::kAck | sc::capture::kFin), 2);  // "def" not yet here
  r.add(s.seg(5000, {}, sc::capture::kAck | sc::capture::kFin, true), 3);
  EXPECT_TRUE(c.closes.empty());
  r.add(s.seg(103, bytes_of("def")), 4);  // the late copy
  ASSERT_EQ(c.closes.size(), 1u);
  EXPECT_EQ(c.closes[0].second, 4u);
  EXPECT_EQ(c.data[0].begin()->second, "abcdefghi");
  EXPECT_EQ(r.live_flows(), 0u);
}

TEST(CaptureReassembly, BothFinsWithAHoleThatStaysCloseAfterTheLinger) {
  Streams c;
  sc::capture::ReassemblyOptions o;
  o.fin_linger_ns = 2 * kSec;
  TcpReassembler r(c, o);
  Segments s;
  r.add(s.seg(100, bytes_of("abc")), 1 * kSec);
  r.add(s.seg(106, bytes_of("ghi"), sc::capture::kAck | sc::capture::kFin), 1 * kSec);
  r.add(s.seg(5000, {}, sc::capture::kAck | sc::capture::kFin, true), 1 * kSec);
  s.a.port = 40001;  // another connection's packets move the clock on
  r.add(s.seg(1, bytes_of("x")), 2 * kSec);
  EXPECT_TRUE(c.closes.empty());
  r.add(s.seg(2, bytes_of("y")), 3 * kSec + 1);
  ASSERT_EQ(c.closes.size(), 1u);
  EXPECT_EQ(c.data[0][0], "abc<gap>ghi");
}

TEST(CaptureReassembly, PerDirectionCapGivesUpTheHoleAndBoundsHeldBytes) {
  Streams c;
  sc::capture::ReassemblyOptions o;
  o.max_held_per_direction = 64u << 10;
  TcpReassembler r(c, o);
  Segments s;
  const auto chunk = filler(1000);
  r.add(s.seg(1000, chunk), 1);
  // The segment at 2000 is lost; everything after it waits until the cap.
  size_t delivered_max_held = 0;
  for (uint32_t i = 2; i < 300; ++i) {
    r.add(s.seg(1000 + i * 1000, chunk), i);
    delivered_max_held = std::max(delivered_max_held, r.held_bytes());
    EXPECT_LE(r.held_bytes() + (r.held_bytes() / 1000) * TcpReassembler::kSegmentOverhead, o.max_held_per_direction);
  }
  ASSERT_GE(c.overflows.size(), 1u);
  const auto& first = c.overflows[0];
  EXPECT_EQ(first.hole_offset, 1000u);  // stream offset of the lost segment
  EXPECT_EQ(first.lost_bytes, 1000u);
  EXPECT_FALSE(first.total_cap);
  EXPECT_GT(first.held_bytes, 50000u);
  EXPECT_GT(delivered_max_held, 50000u);
  r.finish(400);
  // Every byte but the lost ones came out, in order, after one gap.
  const std::string& out = c.data[0].begin()->second;
  EXPECT_EQ(c.gap_bytes, 1000u);
  EXPECT_EQ(out.size(), 299u * 1000 + 5);
  EXPECT_EQ(out.substr(1000, 5), "<gap>");
}

TEST(CaptureReassembly, TotalCapBoundsAllFlowsTogether) {
  Streams c;
  sc::capture::ReassemblyOptions o;
  o.max_held_per_direction = 64u << 10;
  o.max_held_total = 256u << 10;
  TcpReassembler r(c, o);
  Segments s;
  const auto chunk = filler(1000);
  for (uint16_t flow = 0; flow < 40; ++flow) {
    s.a.port = static_cast<uint16_t>(41000 + flow);
    r.add(s.seg(1000, chunk), 1);
    for (uint32_t i = 2; i < 30; ++i) {  // 28 KB held per flow, under the per-direction cap
      r.add(s.seg(1000 + i * 1000, chunk), 2);
      ASSERT_LE(r.held_bytes(), o.max_held_total);
    }
  }
  ASSERT_FALSE(c.overflows.empty());
  for (const auto& ov : c.overflows) EXPECT_TRUE(ov.total_cap);
  EXPECT_LE(r.held_bytes(), o.max_held_total);
  EXPECT_EQ(r.live_flows(), 40u);
  r.finish(3);
  EXPECT_EQ(r.held_bytes(), 0u);
  EXPECT_EQ(r.live_flows(), 0u);
}

TEST(CaptureImport, CapHitIsALocatedReassemblyCapProblem) {
  RecordingSink sink;
  ImportOptions o;
  o.max_held_per_direction = 32u << 10;
  Importer imp(sink, o);
  TcpPeer c{imp, ep4(10, 0, 0, 2, 40010), ep4(10, 0, 0, 1, 5900)};
  c.handshake(1 * kSec);
  c.c2s(redq_link(), 1 * kSec);
  c.s2c(filler(500), 1 * kSec);
  c.sseq += 1400;  // a server segment of 1400 bytes never captured
  for (int i = 0; i < 60; ++i) {
    c.s2c(filler(1000, static_cast<uint8_t>(i)), 2 * kSec);
    EXPECT_LE(imp.reassembler().held_bytes(), o.max_held_per_direction);
  }
  ASSERT_GE(sink.count("reassembly_cap"), 1u);
  const RecordedProblem* cap = nullptr;
  for (const auto& p : sink.problems) {
    if (p.code == "reassembly_cap" && !cap) cap = &p;
  }
  ASSERT_NE(cap, nullptr);
  EXPECT_EQ(cap->dir, sc::schema::Direction::S2C);
  EXPECT_EQ(cap->stream_offset, 500u);
  EXPECT_NE(cap->text.find("1400 missing bytes"), std::string::npos) << cap->text;
  EXPECT_GE(imp.stats().reassembly_caps, 1u);
  imp.finish();
}

TEST(CaptureImport, SkippedConnectionsHoldNothing) {
  RecordingSink sink;
  Importer imp(sink, {});
  TcpPeer c{imp, ep4(10, 0, 0, 2, 40011), ep4(10, 0, 0, 9, 80)};
  c.handshake(1 * kSec);
  c.c2s(bytes_of("GET / HTTP/1.1\r\n\r\n"), 1 * kSec);
  c.sseq += 1400;
  for (int i = 0; i < 50; ++i) c.s2c(filler(1000), 2 * kSec);
  EXPECT_EQ(imp.reassembler().held_bytes(), 0u);
  EXPECT_EQ(imp.live_flows(), 1u);
  c.fin_c(3 * kSec);
  c.fin_s(3 * kSec);
  EXPECT_EQ(imp.live_flows(), 0u);
  imp.finish();
  EXPECT_TRUE(sink.opened.empty());
  EXPECT_EQ(imp.stats().skipped_tcp_connections, 1u);
  ASSERT_EQ(imp.stats().skipped_ports.size(), 1u);
  EXPECT_EQ(imp.stats().skipped_ports[0], (sc::capture::PortCount{80, 1}));
}

// The same packets, fed to a first importer and, for what it defers, to a second one.
struct TwoPasses {
  RecordingSink sink;
  std::vector<std::pair<std::vector<uint8_t>, uint64_t>> packets;
  struct Recorder {
    TwoPasses& t;
    capture::Endpoint client, server;
    uint32_t cseq = 1000, sseq = 70000;
    void c2s(std::span<const uint8_t> b, uint64_t ts) {
      t.packets.emplace_back(tcp_frame(client, server, cseq, sseq, capture::kAck, b), ts);
      cseq += static_cast<uint32_t>(b.size());
    }
    void s2c(std::span<const uint8_t> b, uint64_t ts) {
      t.packets.emplace_back(tcp_frame(server, client, sseq, cseq, capture::kAck, b), ts);
      sseq += static_cast<uint32_t>(b.size());
    }
    void fins(uint64_t ts) {
      t.packets.emplace_back(tcp_frame(client, server, cseq++, sseq, capture::kAck | capture::kFin, {}), ts);
      t.packets.emplace_back(tcp_frame(server, client, sseq++, cseq, capture::kAck | capture::kFin, {}), ts);
    }
  };
  void feed(Importer& imp) {
    for (const auto& [f, ts] : packets) {
      capture::Packet p;
      p.ts_ns = ts;
      p.data = f;
      imp.add_packet(DLT_RAW, p);
    }
    imp.finish();
  }
};

TEST(CaptureImport, ConnectionsToASpiceServerSeenLaterAreDeferredToASecondPass) {
  TwoPasses t;
  const auto server = ep4(10, 0, 0, 1, 5900);
  TwoPasses::Recorder early{t, ep4(10, 0, 0, 2, 40020), server};  // before any REDQ: no handshake captured
  TwoPasses::Recorder redq{t, ep4(10, 0, 0, 3, 40021), server};
  TwoPasses::Recorder late{t, ep4(10, 0, 0, 4, 40022), server};   // after the REDQ one
  TwoPasses::Recorder other{t, ep4(10, 0, 0, 5, 40023), ep4(10, 0, 0, 1, 22)};
  early.s2c(filler(300), 1 * kSec);
  other.c2s(bytes_of("SSH-2.0-x\r\n"), 1 * kSec);
  redq.c2s(redq_link(), 2 * kSec);
  late.s2c(filler(300), 3 * kSec);
  early.s2c(filler(300), 4 * kSec);

  Importer first(t.sink, {});
  t.feed(first);
  EXPECT_EQ(first.stats().inferred_midstream, 1u);  // `late`: its server was known already
  EXPECT_EQ(first.stats().skipped_tcp_connections, 2u);
  auto deferred = first.take_deferred();
  ASSERT_EQ(deferred.size(), 1u);
  EXPECT_EQ(deferred[0].first_ts_ns, 1 * kSec);
  EXPECT_EQ(first.stats().skipped_tcp_connections, 1u);
  ASSERT_EQ(first.stats().skipped_ports.size(), 1u);
  EXPECT_EQ(first.stats().skipped_ports[0].port, 22);

  const size_t before = t.sink.opened.size();
  Importer second(t.sink, {}, deferred, first.next_connection_id());
  t.feed(second);
  EXPECT_EQ(second.stats().inferred_midstream, 1u);
  ASSERT_EQ(t.sink.opened.size(), before + 1);
  const auto& rec = t.sink.conns[t.sink.opened.back()];
  EXPECT_EQ(rec.info.client, early.client);
  EXPECT_EQ(rec.info.server, server);
  EXPECT_TRUE(rec.info.midstream);
  EXPECT_TRUE(rec.info.inferred);
  EXPECT_TRUE(rec.closed);
  EXPECT_GT(rec.frames[1] + t.sink.count("midstream") + t.sink.count("resync"), 0u);
  // Ids stay unique over both passes.
  std::set<uint32_t> ids(t.sink.opened.begin(), t.sink.opened.end());
  EXPECT_EQ(ids.size(), t.sink.opened.size());
}

TEST(CaptureImport, TlsBeforeAnyPlainSpiceIsSettledAtTheEnd) {
  TwoPasses t;
  TwoPasses::Recorder tls{t, ep4(10, 0, 0, 2, 40030), ep4(10, 0, 0, 1, 5901)};
  TwoPasses::Recorder plain{t, ep4(10, 0, 0, 2, 40031), ep4(10, 0, 0, 1, 5900)};
  TwoPasses::Recorder web{t, ep4(10, 0, 0, 2, 40032), ep4(10, 0, 0, 7, 443)};
  const auto ch = client_hello({.sni = "spice.test", .versions = {0x0304, 0x0303}});
  const auto sh = server_hello(0x0303, 0x0304);
  tls.c2s(ch, 1 * kSec);
  tls.s2c(sh, 1 * kSec);
  tls.c2s(filler(200), 2 * kSec);
  tls.fins(2 * kSec + 1);  // over before anything showed its server to be SPICE
  web.c2s(client_hello({.sni = "www.test"}), 2 * kSec);
  web.s2c(server_hello(0x0303, 0), 2 * kSec);
  plain.c2s(redq_link(), 3 * kSec);

  Importer imp(t.sink, {});
  t.feed(imp);
  EXPECT_EQ(imp.stats().tls_connections, 1u);
  EXPECT_EQ(imp.stats().spice_connections, 2u);
  ASSERT_EQ(imp.stats().tls_ports.size(), 1u);
  EXPECT_EQ(imp.stats().tls_ports[0], (sc::capture::PortCount{443, 1}));
  EXPECT_EQ(imp.stats().skipped_tcp_connections, 1u);
  const RecordedConnection* rec = nullptr;
  for (const auto& [id, r] : t.sink.conns) {
    if (r.info.tls) rec = &r;
  }
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->info.client, tls.client);
  EXPECT_EQ(rec->info.server.port, 5901);
  EXPECT_EQ(rec->order, (std::vector<std::string>{"open", "tls", "close"}));
  EXPECT_EQ(rec->tls.version, "TLS 1.3");
  EXPECT_TRUE(rec->tls.negotiated);
  EXPECT_EQ(rec->tls.sni, "spice.test");
  EXPECT_EQ(rec->tls.bytes[0], ch.size() + 200);
  EXPECT_EQ(rec->tls.bytes[1], sh.size());
  EXPECT_EQ(t.sink.count("tls"), 1u);
}

TEST(CaptureImport, TlsOnlyNeedsThePortAndSaysWhichOnes) {
  for (bool with_port : {false, true}) {
    TwoPasses t;
    TwoPasses::Recorder a{t, ep4(10, 0, 0, 2, 40040), ep4(10, 0, 0, 1, 5901)};
    TwoPasses::Recorder b{t, ep4(10, 0, 0, 2, 40041), ep4(10, 0, 0, 1, 5901)};
    a.c2s(client_hello({.legacy_version = 0x0303}), 1 * kSec);  // TLS 1.2, no ServerHello captured
    b.c2s(client_hello({.versions = {0x0304}}), 1 * kSec);
    ImportOptions o;
    if (with_port) o.ports = {5901};
    Importer imp(t.sink, o);
    t.feed(imp);
    if (!with_port) {
      EXPECT_EQ(imp.stats().spice_connections, 0u);
      ASSERT_EQ(imp.stats().tls_ports.size(), 1u);
      EXPECT_EQ(imp.stats().tls_ports[0], (sc::capture::PortCount{5901, 2}));
      continue;
    }
    EXPECT_EQ(imp.stats().tls_connections, 2u);
    EXPECT_TRUE(imp.stats().tls_ports.empty());
    std::set<std::string> versions;
    for (const auto& [id, r] : t.sink.conns) {
      EXPECT_EQ(r.tls_calls, 1);
      EXPECT_FALSE(r.tls.negotiated);
      versions.insert(r.tls.version);
    }
    EXPECT_EQ(versions, (std::set<std::string>{"TLS 1.2", "TLS 1.3"}));
  }
}

}  // namespace
