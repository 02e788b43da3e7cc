#pragma once
// One made-up TCP connection carrying recorded stream bytes, as raw IPv4/IPv6
// packets (LINKTYPE_RAW), for export-pcap: a three-way handshake, data segments
// with consistent sequence and acknowledgement numbers and valid checksums, pure
// ACKs often enough that no receive window ever fills, and FIN both ways.
//
// The packets have to read back as the same byte streams in three places that
// reassemble TCP their own way (Wireshark, tshark with our plugin, our importer),
// so they are deliberately plain: no options beyond MSS and window scale in the
// handshake, a constant window, no retransmissions. A hole in a recorded stream
// (bytes the original capture lost) advances the sequence number without
// carrying bytes, and the peer acknowledges across it, as it did on the wire:
// readers then see a lost segment at the same stream offset as the original.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "capture/tcp_segment.hpp"
#include "util/result.hpp"

namespace sc::capture {

inline constexpr int kLinktypeRaw = 101;  // LINKTYPE_RAW: the frame is the IP packet
inline constexpr size_t kSyntheticMaxSegment = 16 * 1024;
// The most one segment can carry at all (65535 - IPv4 header - TCP header).
inline constexpr size_t kSyntheticMaxPayload = 65495;
// A snapshot length that cuts no frame this makes (IPv6 header + TCP header +
// kSyntheticMaxPayload is just over 65535).
inline constexpr uint32_t kSyntheticSnaplen = 262144;

class SyntheticTcp {
 public:
  // Receives each packet as it is made; the frame is valid during the call only.
  using Sink = std::function<Result<void>(uint64_t ts_ns, std::span<const uint8_t> frame)>;

  // client and server must be of one family (both IPv4 or both IPv6). `seed` picks
  // the initial sequence numbers, so the same export is the same file every time.
  SyntheticTcp(const Endpoint& client, const Endpoint& server, uint64_t seed, Sink sink);

  // SYN, SYN-ACK, ACK.
  Result<void> open(uint64_t ts_ns);
  // `bytes` from one side (0 client to server, 1 server to client), all sent at
  // ts_ns, cut into segments of at most max_segment (itself at most
  // kSyntheticMaxPayload).
  Result<void> send(int dir, uint64_t ts_ns, std::span<const uint8_t> bytes,
                    size_t max_segment = kSyntheticMaxSegment);
  // `bytes` of that side's stream were never captured: the sequence number moves on.
  void skip(int dir, uint64_t bytes);
  // FIN from the client, FIN from the server, the client's last ACK.
  Result<void> close(uint64_t ts_ns);

  uint64_t packets() const { return packets_; }
  uint64_t stream_bytes(int dir) const { return sides_[dir & 1].next; }

 private:
  struct Side {
    Endpoint ep;
    uint32_t isn = 0;
    uint64_t next = 0;    // stream offset of the next byte this side sends
    uint64_t acked = 0;   // how far into the peer's stream this side has acknowledged
    bool fin_sent = false;
    bool hole_unacked = false;  // skipped bytes the peer has not acknowledged yet
    uint16_t ip_id = 0;
  };

  // A segment from `dir` with its current seq/ack; `fin` also counts one sequence number.
  Result<void> segment(int dir, uint64_t ts_ns, uint8_t flags, std::span<const uint8_t> payload, bool handshake);
  Result<void> ack_from(int dir, uint64_t ts_ns);
  uint32_t seq_of(int dir) const;
  uint32_t ack_of(int dir) const;

  Side sides_[2];
  Sink sink_;
  bool opened_ = false;
  uint64_t packets_ = 0;
  std::vector<uint8_t> frame_;
};

}  // namespace sc::capture
