#pragma once
// Turns the two byte streams of one SPICE connection into frames.
//
// A state machine per direction walks the link stage (link message and reply,
// auth mechanism, ticket or SASL exchange, link result) and then the data stage
// with the header the peers negotiated (mini when both advertise MINI_HEADER).
// The client's and server's steps depend on each other (the client sends an auth
// mechanism only if the server offered selection), so a direction may wait for
// the other; feed bytes in capture order and call finish() at the end.
//
// After a gap, or for a connection captured mid-session, framing resynchronises
// on plausible headers (a known type and a sane size, confirmed by the header that
// follows) and reports what it skipped. It never guesses inside a message.
#include <array>
#include <memory>
#include <vector>

#include "dissect/framing/frame.hpp"

namespace sc::framing {

// What one direction holds back: bytes received but not framed yet.
struct Backlog {
  uint64_t stream_offset = 0;  // of the first byte not framed yet
  size_t bytes = 0;            // bytes held from there on
  size_t wanted = 0;           // more bytes needed before the next frame can be cut, when a header or the
                               // link step tells (a lower bound until a header is complete); 0 = unknown
};

struct FramerOptions {
  uint32_t max_message_size = 128u << 20;  // larger sizes are treated as garbage
  uint32_t max_link_size = 64u << 10;
  size_t sniff_bytes = 64u << 10;          // mid-session: bytes per direction to infer the channel from
};

class ConnectionFramer {
 public:
  // midstream: the capture starts after the link stage; infer channel type and header.
  ConnectionFramer(FrameSink& sink, bool midstream, FramerOptions options = {});
  ~ConnectionFramer();
  ConnectionFramer(const ConnectionFramer&) = delete;
  ConnectionFramer& operator=(const ConnectionFramer&) = delete;

  void feed(Direction dir, std::span<const uint8_t> bytes, uint64_t ts_ns);
  // `bytes` bytes of this direction were never captured.
  void gap(Direction dir, uint64_t bytes, uint64_t ts_ns);
  // End of capture: flushes partial messages as undecodable frames.
  void finish(uint64_t ts_ns);

  const ChannelState& state() const;
  // For consumers that reassemble TCP themselves (the Wireshark plugin): where the
  // unframed bytes of `dir` begin and how many more would complete the next frame.
  Backlog backlog(Direction dir) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sc::framing
