// TCP reassembly: ordering, retransmission, overlap, gaps, sequence wrap.
#include <gtest/gtest.h>

#include "capture/tcp_reassembler.hpp"

namespace {

using sc::capture::Endpoint;
using sc::capture::TcpSegment;

struct Collect : sc::capture::StreamConsumer {
  std::string data[2];
  std::vector<uint64_t> gaps;
  int opened = 0, closed = 0;
  void on_open(uint32_t, const Endpoint&, const Endpoint&, bool, uint64_t) override { ++opened; }
  void on_data(uint32_t, int side, std::span<const uint8_t> b, uint64_t) override {
    data[side].append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  void on_gap(uint32_t, int side, uint64_t n, uint64_t) override {
    gaps.push_back(n);
    data[side].append("<gap>");
  }
  void on_close(uint32_t, uint64_t) override { ++closed; }
};

Endpoint ep(uint8_t last, uint16_t port) {
  Endpoint e;
  e.addr = {127, 0, 0, last};
  e.port = port;
  return e;
}

struct Stream {
  std::vector<uint8_t> storage;
  TcpSegment seg(uint32_t seq, std::string_view payload, uint8_t flags = sc::capture::kAck, bool reverse = false) {
    TcpSegment s;
    s.src = reverse ? ep(2, 5900) : ep(1, 40000);
    s.dst = reverse ? ep(1, 40000) : ep(2, 5900);
    s.seq = seq;
    s.flags = flags;
    storage.assign(payload.begin(), payload.end());
    s.payload = storage;
    return s;
  }
};

TEST(Reassembly, OrdersRetransmitsAndTrimsOverlaps) {
  Collect c;
  sc::capture::TcpReassembler r(c);
  Stream s;
  r.add(s.seg(999, "", sc::capture::kSyn), 0);
  r.add(s.seg(1000, "hello "), 1);
  r.add(s.seg(1011, "!"), 2);          // out of order
  r.add(s.seg(1006, "world"), 3);      // fills the hole
  r.add(s.seg(1000, "hello "), 4);     // retransmission
  r.add(s.seg(1009, "ld! again"), 5);  // overlaps the tail
  r.finish(6);
  EXPECT_EQ(c.data[0], "hello world! again");
  EXPECT_TRUE(c.gaps.empty());
  EXPECT_EQ(c.closed, 1);
}

TEST(Reassembly, MissingBytesBecomeAGap) {
  Collect c;
  sc::capture::TcpReassembler r(c);
  Stream s;
  r.add(s.seg(100, "abc"), 1);
  r.add(s.seg(110, "xyz"), 2);
  r.finish(3);
  EXPECT_EQ(c.data[0], "abc<gap>xyz");
  ASSERT_EQ(c.gaps.size(), 1u);
  EXPECT_EQ(c.gaps[0], 7u);
}

TEST(Reassembly, LostLastSegmentIsAGapByFinOrAck) {
  {
    Collect c;
    sc::capture::TcpReassembler r(c);
    Stream s;
    r.add(s.seg(100, "abc"), 1);
    // "defg" at 103 was lost; the FIN after it sits at 107.
    r.add(s.seg(107, "", sc::capture::kAck | sc::capture::kFin), 2);
    r.finish(3);
    EXPECT_EQ(c.data[0], "abc<gap>");
    ASSERT_EQ(c.gaps.size(), 1u);
    EXPECT_EQ(c.gaps[0], 4u);
  }
  {
    Collect c;
    sc::capture::TcpReassembler r(c);
    Stream s;
    r.add(s.seg(100, "abc"), 1);
    // The peer acknowledges 10 bytes it received: 7 of them were never captured.
    TcpSegment ack = s.seg(5000, "x", sc::capture::kAck, true);
    ack.ack = 110;
    r.add(ack, 2);
    r.finish(3);
    EXPECT_EQ(c.data[0], "abc<gap>");
    ASSERT_EQ(c.gaps.size(), 1u);
    EXPECT_EQ(c.gaps[0], 7u);
  }
}

// A segment the capture missed but the peer acknowledged will never be sent again:
// its hole is given up a moment later, not when the connection ends, so the bytes
// behind it reach the consumer in step with the other direction.
TEST(Reassembly, AHoleThePeerAcknowledgedIsGivenUpSoon) {
  Collect c;
  sc::capture::ReassemblyOptions o;
  o.acked_hole_linger_ns = 100;
  sc::capture::TcpReassembler r(c, o);
  Stream s;
  r.add(s.seg(100, "abc"), 1);
  r.add(s.seg(110, "xyz"), 2);  // 103..110 never captured
  TcpSegment ack = s.seg(5000, "", sc::capture::kAck, true);
  ack.ack = 113;  // ... yet the peer has them
  r.add(ack, 3);
  EXPECT_EQ(c.data[0], "abc");  // a reordered copy may still come
  r.add(s.seg(5000, "late", sc::capture::kAck, true), 50);
  EXPECT_EQ(c.data[0], "abc");
  TcpSegment later = s.seg(5004, "", sc::capture::kAck, true);
  later.ack = 113;
  r.add(later, 200);
  EXPECT_EQ(c.data[0], "abc<gap>xyz");  // given up before the connection ends
  ASSERT_EQ(c.gaps.size(), 1u);
  EXPECT_EQ(c.gaps[0], 7u);
  r.finish(300);
  EXPECT_EQ(c.gaps.size(), 1u);

  // Without an acknowledgement past it, a hole waits (a retransmission will come).
  Collect c2;
  sc::capture::TcpReassembler r2(c2, o);
  r2.add(s.seg(100, "abc"), 1);
  r2.add(s.seg(110, "xyz"), 2);
  TcpSegment partial = s.seg(5000, "", sc::capture::kAck, true);
  partial.ack = 103;
  r2.add(partial, 3);
  r2.add(partial, 500);
  EXPECT_EQ(c2.data[0], "abc");
  r2.add(s.seg(103, "defghij"), 600);
  EXPECT_EQ(c2.data[0], "abcdefghijxyz");
  EXPECT_TRUE(c2.gaps.empty());
}

TEST(Reassembly, SequenceNumbersWrap) {
  Collect c;
  sc::capture::TcpReassembler r(c);
  Stream s;
  r.add(s.seg(0xfffffffd, "abc"), 1);
  r.add(s.seg(0x00000000, "def"), 2);
  r.add(s.seg(0x00000003, "g", sc::capture::kAck, true), 3);
  r.finish(4);
  EXPECT_EQ(c.data[0], "abcdef");
  EXPECT_EQ(c.data[1], "g");
}

}  // namespace
