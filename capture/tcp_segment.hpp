#pragma once
// From a link-layer frame to a TCP segment: Ethernet (with VLAN tags), Linux
// cooked v1/v2, BSD loopback/null, raw IP; IPv4 and IPv6 (extension headers
// skipped). Anything else is not TCP and is ignored.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sc::capture {

struct Endpoint {
  std::array<uint8_t, 16> addr{};  // IPv4 in the first 4 bytes
  bool v6 = false;
  uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
  std::string address_string() const;
  std::string to_string() const;  // "1.2.3.4:5900" or "[::1]:5900"
  // The reverse of to_string(): "1.2.3.4:5900" or "[::1]:5900" (port 1-65535);
  // nothing for anything else (a host name, no port, a bare IPv6 address).
  static std::optional<Endpoint> parse(std::string_view s);
};

enum TcpFlags : uint8_t { kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10 };

struct TcpSegment {
  Endpoint src, dst;
  uint32_t seq = 0;
  uint32_t ack = 0;  // meaningful when flags has kAck
  uint8_t flags = 0;
  std::span<const uint8_t> payload;
  bool fragment = false;  // an IPv4 fragment: not reassembled
};

// The TCP segment inside a frame of the given DLT link type, if there is one.
std::optional<TcpSegment> parse_tcp(int linktype, std::span<const uint8_t> frame);

}  // namespace sc::capture
