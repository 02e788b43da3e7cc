#pragma once
// Small packet and TLS-hello builders for the capture unit tests: raw IPv4/TCP
// frames fed to an Importer, and ClientHello / ServerHello bytes laid out as
// RFC 5246 / RFC 8446 describe them.
#include <pcap/dlt.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capture/importer.hpp"

namespace sc::test {

inline capture::Endpoint ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  capture::Endpoint e;
  e.addr = {a, b, c, d};
  e.port = port;
  return e;
}

inline void put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}
inline void put24(std::vector<uint8_t>& v, uint32_t x) {
  v.push_back(static_cast<uint8_t>(x >> 16));
  put16(v, static_cast<uint16_t>(x));
}
inline void put32(std::vector<uint8_t>& v, uint32_t x) {
  put16(v, static_cast<uint16_t>(x >> 16));
  put16(v, static_cast<uint16_t>(x));
}
inline std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A raw-IP (DLT_RAW) IPv4 frame holding one TCP segment.
inline std::vector<uint8_t> tcp_frame(const capture::Endpoint& src, const capture::Endpoint& dst, uint32_t seq,
                                      uint32_t ack, uint8_t flags, std::span<const uint8_t> payload) {
  std::vector<uint8_t> f;
  f.push_back(0x45);
  f.push_back(0);
  put16(f, static_cast<uint16_t>(40 + payload.size()));
  put16(f, 1);
  put16(f, 0x4000);  // don't fragment
  f.push_back(64);
  f.push_back(6);
  put16(f, 0);
  f.insert(f.end(), src.addr.begin(), src.addr.begin() + 4);
  f.insert(f.end(), dst.addr.begin(), dst.addr.begin() + 4);
  put16(f, src.port);
  put16(f, dst.port);
  put32(f, seq);
  put32(f, ack);
  f.push_back(0x50);
  f.push_back(flags);
  put16(f, 65535);
  put32(f, 0);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

// One TCP connection driven packet by packet into an importer, with sequence
// numbers kept for both sides.
struct TcpPeer {
  capture::Importer& imp;
  capture::Endpoint client, server;
  uint32_t cseq = 1000, sseq = 70000;

  void raw(bool c2s, uint32_t seq, uint8_t flags, std::span<const uint8_t> payload, uint64_t ts) {
    const auto f = c2s ? tcp_frame(client, server, seq, sseq, flags, payload)
                       : tcp_frame(server, client, seq, cseq, flags, payload);
    capture::Packet p;
    p.ts_ns = ts;
    p.data = f;
    p.original_length = static_cast<uint32_t>(f.size());
    imp.add_packet(DLT_RAW, p);
  }
  void handshake(uint64_t ts) {
    raw(true, cseq++, capture::kSyn, {}, ts);
    raw(false, sseq++, capture::kSyn | capture::kAck, {}, ts);
    raw(true, cseq, capture::kAck, {}, ts);
  }
  void c2s(std::span<const uint8_t> b, uint64_t ts, uint8_t flags = capture::kAck) {
    raw(true, cseq, flags, b, ts);
    cseq += static_cast<uint32_t>(b.size()) + ((flags & capture::kFin) ? 1 : 0);
  }
  void s2c(std::span<const uint8_t> b, uint64_t ts, uint8_t flags = capture::kAck) {
    raw(false, sseq, flags, b, ts);
    sseq += static_cast<uint32_t>(b.size()) + ((flags & capture::kFin) ? 1 : 0);
  }
  void fin_c(uint64_t ts) { c2s({}, ts, capture::kFin | capture::kAck); }
  void fin_s(uint64_t ts) { s2c({}, ts, capture::kFin | capture::kAck); }
};

// A SPICE link header + SpiceLinkMess for the main channel, no capabilities.
inline std::vector<uint8_t> redq_link() {
  std::vector<uint8_t> v = {'R', 'E', 'D', 'Q', 2, 0, 0, 0, 2, 0, 0, 0, 18, 0, 0, 0};
  const uint8_t mess[18] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 18, 0, 0, 0};
  v.insert(v.end(), mess, mess + 18);
  return v;
}

struct ClientHelloSpec {
  uint16_t legacy_version = 0x0303;
  std::string sni;                  // no server_name extension when empty
  std::vector<uint16_t> versions;   // no supported_versions extension when empty
};

inline std::vector<uint8_t> extension(uint16_t type, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> e;
  put16(e, type);
  put16(e, static_cast<uint16_t>(body.size()));
  e.insert(e.end(), body.begin(), body.end());
  return e;
}

inline std::vector<uint8_t> client_hello_body(const ClientHelloSpec& s) {
  std::vector<uint8_t> b;
  put16(b, s.legacy_version);
  for (int i = 0; i < 32; ++i) b.push_back(static_cast<uint8_t>(i * 7));  // random
  b.push_back(32);
  for (int i = 0; i < 32; ++i) b.push_back(static_cast<uint8_t>(0xa0 + i));  // session id
  put16(b, 6);
  put16(b, 0x1301);
  put16(b, 0xc02f);
  put16(b, 0x009c);
  b.push_back(1);
  b.push_back(0);  // compression: null
  std::vector<uint8_t> exts;
  if (!s.sni.empty()) {
    std::vector<uint8_t> list;
    list.push_back(0);  // host_name
    put16(list, static_cast<uint16_t>(s.sni.size()));
    list.insert(list.end(), s.sni.begin(), s.sni.end());
    std::vector<uint8_t> body;
    put16(body, static_cast<uint16_t>(list.size()));
    body.insert(body.end(), list.begin(), list.end());
    const auto e = extension(0, body);
    exts.insert(exts.end(), e.begin(), e.end());
  }
  {
    std::vector<uint8_t> groups;  // supported_groups: x25519, secp256r1
    put16(groups, 4);
    put16(groups, 0x001d);
    put16(groups, 0x0017);
    const auto e = extension(10, groups);
    exts.insert(exts.end(), e.begin(), e.end());
  }
  if (!s.versions.empty()) {
    std::vector<uint8_t> body;
    body.push_back(static_cast<uint8_t>(2 * s.versions.size()));
    for (uint16_t v : s.versions) put16(body, v);
    const auto e = extension(43, body);
    exts.insert(exts.end(), e.begin(), e.end());
  }
  put16(b, static_cast<uint16_t>(exts.size()));
  b.insert(b.end(), exts.begin(), exts.end());
  return b;
}

// selected: the supported_versions extension's value; 0 = no extensions at all.
inline std::vector<uint8_t> server_hello_body(uint16_t legacy_version, uint16_t selected) {
  std::vector<uint8_t> b;
  put16(b, legacy_version);
  for (int i = 0; i < 32; ++i) b.push_back(static_cast<uint8_t>(0x55 ^ i));
  b.push_back(32);
  for (int i = 0; i < 32; ++i) b.push_back(static_cast<uint8_t>(0xa0 + i));
  put16(b, 0x1301);
  b.push_back(0);
  if (selected) {
    std::vector<uint8_t> v;
    put16(v, selected);
    const auto e = extension(43, v);
    put16(b, static_cast<uint16_t>(e.size()));
    b.insert(b.end(), e.begin(), e.end());
  }
  return b;
}

inline std::vector<uint8_t> handshake_message(uint8_t type, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> m = {type};
  put24(m, static_cast<uint32_t>(body.size()));
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

// Handshake bytes cut into records of at most `fragment` bytes each.
inline std::vector<uint8_t> handshake_records(const std::vector<uint8_t>& msg, size_t fragment = 16384,
                                              uint16_t record_version = 0x0301) {
  std::vector<uint8_t> out;
  for (size_t at = 0; at < msg.size(); at += fragment) {
    const size_t n = std::min(fragment, msg.size() - at);
    out.push_back(22);
    put16(out, record_version);
    put16(out, static_cast<uint16_t>(n));
    out.insert(out.end(), msg.begin() + static_cast<ptrdiff_t>(at), msg.begin() + static_cast<ptrdiff_t>(at + n));
  }
  return out;
}

inline std::vector<uint8_t> client_hello(const ClientHelloSpec& s, size_t fragment = 16384) {
  return handshake_records(handshake_message(1, client_hello_body(s)), fragment);
}
inline std::vector<uint8_t> server_hello(uint16_t legacy_version, uint16_t selected) {
  return handshake_records(handshake_message(2, server_hello_body(legacy_version, selected)), 16384, 0x0303);
}

}  // namespace sc::test
