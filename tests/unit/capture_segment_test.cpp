// From frames to TCP segments: IPv6 extension headers are walked within the
// packet, never past it (a fuzzer found the walk reading beyond a snapped frame).
// Endpoints read back from the strings to_string() writes (export-pcap reads the
// store's client/server columns that way).
#include <gtest/gtest.h>

#include "capture/tcp_segment.hpp"
#include "capture_test_packets.hpp"

namespace {

using namespace sc::test;

// Raw IPv6: header, one hop-by-hop options header of `hbh_units` 8-byte units
// beyond the first, then a 20-byte TCP header and `payload` bytes; `cut` bytes
// are dropped from the end, as a snap length would.
std::vector<uint8_t> ipv6_frame(uint8_t hbh_units, size_t payload, size_t cut = 0) {
  const size_t hbh = (hbh_units + 1u) * 8;
  std::vector<uint8_t> f = {0x60, 0, 0, 0};
  put16(f, static_cast<uint16_t>(hbh + 20 + payload));
  f.push_back(0);   // next: hop-by-hop
  f.push_back(64);  // hop limit
  for (int i = 0; i < 16; ++i) f.push_back(i == 15 ? 1 : 0);  // ::1
  for (int i = 0; i < 16; ++i) f.push_back(i == 15 ? 2 : 0);  // ::2
  f.push_back(6);  // next: TCP
  f.push_back(hbh_units);
  f.resize(f.size() + hbh - 2, 0);
  put16(f, 40000);
  put16(f, 5900);
  put32(f, 1000);
  put32(f, 0);
  f.push_back(0x50);
  f.push_back(sc::capture::kAck);
  put16(f, 65535);
  put32(f, 0);
  for (size_t i = 0; i < payload; ++i) f.push_back(static_cast<uint8_t>(i));
  f.resize(f.size() - cut);
  return f;
}

TEST(CaptureSegment, Ipv6WithAHopByHopHeaderParses) {
  const auto f = ipv6_frame(2, 10);
  const auto seg = sc::capture::parse_tcp(DLT_RAW, f);
  ASSERT_TRUE(seg.has_value());
  EXPECT_TRUE(seg->src.v6);
  EXPECT_EQ(seg->src.port, 40000);
  EXPECT_EQ(seg->dst.port, 5900);
  EXPECT_EQ(seg->payload.size(), 10u);
}

TEST(CaptureSegment, Ipv6ExtensionHeaderReachingPastTheFrameIsNotTcp) {
  // A hop-by-hop header announcing 8 * 201 bytes in a frame that holds far fewer.
  auto f = ipv6_frame(200, 0);
  f.resize(40 + 8 + 20);
  const std::vector<uint8_t> exact(f.begin(), f.end());  // no slack for ASan to miss
  EXPECT_FALSE(sc::capture::parse_tcp(DLT_RAW, exact).has_value());
  // Cut short at every length: never a crash, never a segment past the end.
  const auto whole = ipv6_frame(3, 30);
  for (size_t n = 0; n <= whole.size(); ++n) {
    const std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(n));
    const auto seg = sc::capture::parse_tcp(DLT_RAW, cut);
    if (seg) {
      EXPECT_GE(cut.data() + cut.size(), seg->payload.data() + seg->payload.size());
    }
  }
}

TEST(CaptureSegment, EndpointParsesWhatToStringWrites) {
  using sc::capture::Endpoint;
  const auto v4 = Endpoint::parse("192.168.1.20:5900");
  ASSERT_TRUE(v4.has_value());
  EXPECT_FALSE(v4->v6);
  EXPECT_EQ(v4->addr[0], 192);
  EXPECT_EQ(v4->addr[3], 20);
  EXPECT_EQ(v4->port, 5900);
  EXPECT_EQ(v4->to_string(), "192.168.1.20:5900");

  const auto v6 = Endpoint::parse("[2001:db8::7]:65535");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(v6->addr[0], 0x20);
  EXPECT_EQ(v6->addr[1], 0x01);
  EXPECT_EQ(v6->addr[15], 7);
  EXPECT_EQ(v6->port, 65535);
  EXPECT_EQ(v6->to_string(), "[2001:db8::7]:65535");

  for (const char* s : {"127.0.0.1:1", "[::1]:5930", "[::ffff:10.0.0.1]:443", "0.0.0.0:40000"}) {
    const auto e = Endpoint::parse(s);
    ASSERT_TRUE(e.has_value()) << s;
    EXPECT_EQ(e->to_string(), s);
    EXPECT_EQ(Endpoint::parse(e->to_string()), e) << s;
  }
}

TEST(CaptureSegment, EndpointRefusesAnythingElse) {
  using sc::capture::Endpoint;
  for (const char* s : {"", ":", "1.2.3.4", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:100000",
                        "1.2.3.4:+80", "1.2.3.4:-1", "1.2.3.4:80 ", " 1.2.3.4:80", "1.2.3:80", "1.2.3.256:80",
                        "localhost:5900", "::1:5900", "::1", "[::1]", "[::1]:", "[::1]5900", "[::1:5900",
                        "[1.2.3.4]:80", "[::g]:80", "[]:80", "garbage", "[::1]:0x50", "\xff\xfe:1"}) {
    EXPECT_FALSE(Endpoint::parse(s).has_value()) << '"' << s << '"';
  }
  // Not NUL-terminated where the view ends: only the view is read.
  const std::string longer = "10.0.0.1:5900999";
  const auto e = Endpoint::parse(std::string_view(longer).substr(0, 13));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->port, 5900);
}

}  // namespace
