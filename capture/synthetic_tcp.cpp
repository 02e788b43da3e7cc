#include "capture/synthetic_tcp.hpp"

#include <algorithm>

namespace sc::capture {

namespace {

// A receive window the sender never fills: 65535 << 7 = 8 MiB, and the receiver
// acknowledges every kAckEvery bytes.
constexpr uint8_t kWindowScale = 7;
constexpr uint16_t kWindow = 65535;
constexpr uint64_t kAckEvery = 64 * 1024;
constexpr uint8_t kTtl = 64;

void put16(std::vector<uint8_t>& f, size_t at, uint16_t v) {
  f[at] = static_cast<uint8_t>(v >> 8);
  f[at + 1] = static_cast<uint8_t>(v);
}

void put32(std::vector<uint8_t>& f, size_t at, uint32_t v) {
  put16(f, at, static_cast<uint16_t>(v >> 16));
  put16(f, at + 2, static_cast<uint16_t>(v));
}

// The Internet checksum's running sum, big-endian 16-bit words, odd byte padded.
uint32_t sum_words(std::span<const uint8_t> b, uint32_t sum = 0) {
  size_t i = 0;
  for (; i + 1 < b.size(); i += 2) sum += uint32_t{b[i]} << 8 | b[i + 1];
  if (i < b.size()) sum += uint32_t{b[i]} << 8;
  return sum;
}

uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint32_t mix32(uint64_t x) {
  // splitmix64's finaliser: well-spread initial sequence numbers from small seeds.
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return static_cast<uint32_t>(x ^ (x >> 31));
}

}  // namespace

SyntheticTcp::SyntheticTcp(const Endpoint& client, const Endpoint& server, uint64_t seed, Sink sink)
    : sink_(std::move(sink)) {
  sides_[0].ep = client;
  sides_[1].ep = server;
  sides_[0].isn = mix32(seed * 2);
  sides_[1].isn = mix32(seed * 2 + 1);
  sides_[0].ip_id = static_cast<uint16_t>(mix32(seed * 2 + 7));
  sides_[1].ip_id = static_cast<uint16_t>(mix32(seed * 2 + 8));
}

uint32_t SyntheticTcp::seq_of(int dir) const {
  const Side& s = sides_[dir];
  return static_cast<uint32_t>(s.isn + 1 + s.next + (s.fin_sent ? 1 : 0));
}

uint32_t SyntheticTcp::ack_of(int dir) const { return seq_of(1 - dir); }

Result<void> SyntheticTcp::open(uint64_t ts_ns) {
  opened_ = true;
  if (auto r = segment(0, ts_ns, kSyn, {}, true); !r) return r;
  if (auto r = segment(1, ts_ns, kSyn | kAck, {}, true); !r) return r;
  return segment(0, ts_ns, kAck, {}, false);
}

Result<void> SyntheticTcp::send(int dir, uint64_t ts_ns, std::span<const uint8_t> bytes, size_t max_segment) {
  dir &= 1;
  max_segment = std::clamp<size_t>(max_segment, 1, kSyntheticMaxPayload);
  Side& s = sides_[dir];
  const Side& peer = sides_[1 - dir];
  while (!bytes.empty()) {
    const size_t n = std::min(bytes.size(), max_segment);
    const uint8_t flags = kAck | (n == bytes.size() ? 0x08 /* PSH */ : 0);
    if (auto r = segment(dir, ts_ns, flags, bytes.first(n), false); !r) return r;
    s.next += n;
    bytes = bytes.subspan(n);
    if (s.next - peer.acked >= kAckEvery) {
      if (auto r = ack_from(1 - dir, ts_ns); !r) return r;
    }
  }
  // After a hole the peer acknowledges across it at once, as the real peer did:
  // readers then know the bytes were sent and lost, not merely late.
  if (s.hole_unacked) return ack_from(1 - dir, ts_ns);
  return {};
}

void SyntheticTcp::skip(int dir, uint64_t bytes) {
  if (bytes == 0) return;
  sides_[dir & 1].next += bytes;
  sides_[dir & 1].hole_unacked = true;
}

Result<void> SyntheticTcp::close(uint64_t ts_ns) {
  if (auto r = segment(0, ts_ns, kFin | kAck, {}, false); !r) return r;
  if (auto r = segment(1, ts_ns, kFin | kAck, {}, false); !r) return r;
  return segment(0, ts_ns, kAck, {}, false);
}

Result<void> SyntheticTcp::ack_from(int dir, uint64_t ts_ns) {
  // A pure ACK only when it acknowledges something new: a repeated one would read
  // as a duplicate ACK (a loss signal) to Wireshark.
  if (sides_[dir].acked == sides_[1 - dir].next && !sides_[1 - dir].hole_unacked) return {};
  return segment(dir, ts_ns, kAck, {}, false);
}

Result<void> SyntheticTcp::segment(int dir, uint64_t ts_ns, uint8_t flags, std::span<const uint8_t> payload,
                                   bool handshake) {
  Side& s = sides_[dir];
  Side& peer = sides_[1 - dir];
  const bool v6 = s.ep.v6;
  const size_t ip_len = v6 ? 40 : 20;
  const size_t tcp_len = handshake ? 28 : 20;
  const size_t total = ip_len + tcp_len + payload.size();
  frame_.assign(total, 0);

  if (v6) {
    frame_[0] = 0x60;
    put16(frame_, 4, static_cast<uint16_t>(tcp_len + payload.size()));
    frame_[6] = 6;  // next header: TCP
    frame_[7] = kTtl;
    std::copy_n(s.ep.addr.begin(), 16, frame_.begin() + 8);
    std::copy_n(peer.ep.addr.begin(), 16, frame_.begin() + 24);
  } else {
    frame_[0] = 0x45;
    put16(frame_, 2, static_cast<uint16_t>(total));
    put16(frame_, 4, s.ip_id++);
    frame_[6] = 0x40;  // don't fragment
    frame_[8] = kTtl;
    frame_[9] = 6;
    std::copy_n(s.ep.addr.begin(), 4, frame_.begin() + 12);
    std::copy_n(peer.ep.addr.begin(), 4, frame_.begin() + 16);
    put16(frame_, 10, fold(sum_words(std::span(frame_).first(20))));
  }

  const size_t t = ip_len;
  put16(frame_, t, s.ep.port);
  put16(frame_, t + 2, peer.ep.port);
  // The handshake's SYNs carry the initial sequence numbers themselves.
  const bool syn = (flags & kSyn) != 0;
  put32(frame_, t + 4, syn ? s.isn : seq_of(dir));
  if (flags & kAck) {
    put32(frame_, t + 8, syn ? peer.isn + 1 : ack_of(dir));
    s.acked = peer.next;
    peer.hole_unacked = false;
  }
  frame_[t + 12] = static_cast<uint8_t>((tcp_len / 4) << 4);
  frame_[t + 13] = flags;
  put16(frame_, t + 14, kWindow);
  if (handshake) {
    // MSS, NOP, window scale: the scale only counts when both SYNs carry it.
    frame_[t + 20] = 2;
    frame_[t + 21] = 4;
    put16(frame_, t + 22, static_cast<uint16_t>(kSyntheticMaxSegment));
    frame_[t + 24] = 1;
    frame_[t + 25] = 3;
    frame_[t + 26] = 3;
    frame_[t + 27] = kWindowScale;
  }
  std::copy(payload.begin(), payload.end(), frame_.begin() + static_cast<std::ptrdiff_t>(t + tcp_len));

  // The pseudo-header: addresses, protocol and TCP length, by family.
  const size_t addr_len = v6 ? 16 : 4;
  const size_t src_at = v6 ? 8 : 12;
  uint32_t sum = sum_words(std::span(frame_).subspan(src_at, 2 * addr_len));
  const uint32_t seg_len = static_cast<uint32_t>(tcp_len + payload.size());
  sum += 6 + (seg_len >> 16) + (seg_len & 0xffff);
  sum = sum_words(std::span(frame_).subspan(t), sum);
  put16(frame_, t + 16, fold(sum));

  if (flags & kFin) s.fin_sent = true;
  ++packets_;
  return sink_(ts_ns, frame_);
}

}  // namespace sc::capture
