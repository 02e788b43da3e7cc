#include "capture/tcp_segment.hpp"

#include <arpa/inet.h>
#include <algorithm>
#include <charconv>
#include <pcap/dlt.h>

namespace sc::capture {

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return static_cast<uint32_t>(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

constexpr uint16_t kEtherIPv4 = 0x0800, kEtherIPv6 = 0x86dd, kEtherVlan = 0x8100, kEtherQinQ = 0x88a8;

std::optional<TcpSegment> parse_tcp_header(TcpSegment seg, std::span<const uint8_t> l4) {
  if (l4.size() < 20) return std::nullopt;
  const size_t off = (l4[12] >> 4) * 4u;
  if (off < 20 || off > l4.size()) return std::nullopt;
  seg.src.port = be16(l4.data());
  seg.dst.port = be16(l4.data() + 2);
  seg.seq = be32(l4.data() + 4);
  seg.ack = be32(l4.data() + 8);
  seg.flags = l4[13];
  seg.payload = l4.subspan(off);
  return seg;
}

std::optional<TcpSegment> parse_ipv4(std::span<const uint8_t> p) {
  if (p.size() < 20 || (p[0] >> 4) != 4) return std::nullopt;
  const size_t ihl = (p[0] & 15) * 4u;
  const size_t total = be16(p.data() + 2);
  if (ihl < 20 || total < ihl || p.size() < ihl) return std::nullopt;
  if (p[9] != 6) return std::nullopt;  // not TCP
  // Trailing Ethernet padding is not payload; a snapped frame keeps what it has.
  if (total < p.size()) p = p.first(total);
  TcpSegment seg;
  std::copy_n(p.data() + 12, 4, seg.src.addr.begin());
  std::copy_n(p.data() + 16, 4, seg.dst.addr.begin());
  const uint16_t frag = be16(p.data() + 6);
  if ((frag & 0x1fff) != 0 || (frag & 0x2000) != 0) {
    seg.fragment = true;
    return seg;
  }
  return parse_tcp_header(seg, p.subspan(ihl));
}

std::optional<TcpSegment> parse_ipv6(std::span<const uint8_t> p) {
  if (p.size() < 40 || (p[0] >> 4) != 6) return std::nullopt;
  const size_t payload_len = be16(p.data() + 4);
  if (40 + payload_len < p.size()) p = p.first(40 + payload_len);
  TcpSegment seg;
  seg.src.v6 = seg.dst.v6 = true;
  std::copy_n(p.data() + 8, 16, seg.src.addr.begin());
  std::copy_n(p.data() + 24, 16, seg.dst.addr.begin());
  uint8_t next = p[6];
  size_t at = 40;
  // Hop-by-hop, routing, destination options: skip; a fragment header ends the walk.
  for (int hops = 0; hops < 8; ++hops) {
    // An extension header's length can point past the packet (a snapped or forged one).
    if (at > p.size()) return std::nullopt;
    if (next == 6) return parse_tcp_header(seg, p.subspan(at));
    if (next == 44) {
      seg.fragment = true;
      return seg;
    }
    if (next != 0 && next != 43 && next != 60) return std::nullopt;
    if (p.size() < at + 8) return std::nullopt;
    next = p[at];
    at += (p[at + 1] + 1u) * 8;
  }
  return std::nullopt;
}

std::optional<TcpSegment> parse_ip(std::span<const uint8_t> p) {
  if (p.empty()) return std::nullopt;
  switch (p[0] >> 4) {
    case 4: return parse_ipv4(p);
    case 6: return parse_ipv6(p);
    default: return std::nullopt;
  }
}

std::optional<TcpSegment> by_ethertype(uint16_t type, std::span<const uint8_t> p) {
  // VLAN tags: 4 bytes each, the inner ethertype at their end.
  for (int tags = 0; (type == kEtherVlan || type == kEtherQinQ) && tags < 4; ++tags) {
    if (p.size() < 4) return std::nullopt;
    type = be16(p.data() + 2);
    p = p.subspan(4);
  }
  if (type == kEtherIPv4 || type == kEtherIPv6) return parse_ip(p);
  return std::nullopt;
}

}  // namespace

std::string Endpoint::address_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof buf);
  return buf;
}

std::string Endpoint::to_string() const {
  return v6 ? "[" + address_string() + "]:" + std::to_string(port) : address_string() + ":" + std::to_string(port);
}

std::optional<Endpoint> Endpoint::parse(std::string_view s) {
  Endpoint e;
  std::string_view host, port;
  if (!s.empty() && s[0] == '[') {
    const auto close = s.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    e.v6 = true;
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  if (inet_pton(e.v6 ? AF_INET6 : AF_INET, std::string(host).c_str(), e.addr.data()) != 1) return std::nullopt;
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  unsigned p = 0;
  if (std::from_chars(port.data(), port.data() + port.size(), p).ec != std::errc{} || p == 0 || p > 65535) {
    return std::nullopt;
  }
  e.port = static_cast<uint16_t>(p);
  return e;
}

std::optional<TcpSegment> parse_tcp(int linktype, std::span<const uint8_t> f) {
  switch (linktype) {
    case DLT_EN10MB:
      if (f.size() < 14) return std::nullopt;
      return by_ethertype(be16(f.data() + 12), f.subspan(14));
    case DLT_LINUX_SLL:
      if (f.size() < 16) return std::nullopt;
      return by_ethertype(be16(f.data() + 14), f.subspan(16));
    case DLT_LINUX_SLL2:
      if (f.size() < 20) return std::nullopt;
      return by_ethertype(be16(f.data()), f.subspan(20));
    case DLT_NULL:
    case DLT_LOOP:
      // A 4-byte address family, in host order (NULL) or network order (LOOP);
      // the IP version nibble tells v4 from v6 either way.
      if (f.size() < 4) return std::nullopt;
      return parse_ip(f.subspan(4));
    case DLT_RAW:
    case 14:   // DLT_RAW as OpenBSD numbers it
    case DLT_IPV4:
    case DLT_IPV6:
      return parse_ip(f);
    default:
      return std::nullopt;
  }
}

}  // namespace sc::capture
