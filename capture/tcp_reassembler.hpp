#pragma once
// TCP stream reassembly: segments in, ordered byte streams out, per direction.
//
// Out-of-order segments wait in a bounded buffer; retransmissions and overlaps are
// trimmed (the first copy of a byte wins); when bytes never arrive, the stream
// carries on after an explicit gap. Sequence numbers are tracked as 64-bit
// offsets, so streams longer than 4 GiB wrap correctly.
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "capture/tcp_segment.hpp"

namespace sc::capture {

struct ReassemblyOptions {
  size_t max_out_of_order_bytes = 32u << 20;  // per direction, before a gap is declared
};

class StreamConsumer {
 public:
  virtual ~StreamConsumer() = default;
  // side 0 is the connection's initiator (the SYN sender, or else the first sender).
  virtual void on_open(uint32_t flow, const Endpoint& initiator, const Endpoint& responder, bool saw_syn,
                       uint64_t ts_ns) = 0;
  virtual void on_data(uint32_t flow, int side, std::span<const uint8_t> bytes, uint64_t ts_ns) = 0;
  virtual void on_gap(uint32_t flow, int side, uint64_t bytes, uint64_t ts_ns) = 0;
  virtual void on_close(uint32_t flow, uint64_t ts_ns) = 0;
};

class TcpReassembler {
 public:
  explicit TcpReassembler(StreamConsumer& consumer, ReassemblyOptions options = {});
  ~TcpReassembler();

  void add(const TcpSegment& seg, uint64_t ts_ns);
  // End of input: delivers what waits behind holes (with gaps) and closes every flow.
  void finish(uint64_t ts_ns);

  uint64_t retransmitted_bytes() const { return retransmitted_; }

 private:
  struct Side {
    bool started = false;
    uint32_t base = 0;   // sequence number of stream offset 0
    uint64_t next = 0;   // next stream offset expected
    bool closed = false;
    // Where the stream is known to reach even if its last bytes were never
    // captured: the FIN's position, else the furthest the peer acknowledged.
    std::optional<uint64_t> fin_at;
    uint64_t acked = 0;
    std::map<uint64_t, std::vector<uint8_t>> waiting;
    size_t waiting_bytes = 0;
  };
  struct Flow {
    uint32_t id;
    Endpoint ends[2];
    Side sides[2];
    bool open = true;
  };
  struct KeyHash {
    size_t operator()(const std::pair<Endpoint, Endpoint>& k) const;
  };

  void deliver(Flow& f, int side, uint64_t at, std::span<const uint8_t> bytes, uint64_t ts);
  void drain(Flow& f, int side, uint64_t ts);
  void flush_holes(Flow& f, int side, uint64_t ts, size_t keep_bytes);
  static int64_t offset_of(const Side& s, uint32_t seq);
  void close(Flow& f, uint64_t ts);

  StreamConsumer& consumer_;
  ReassemblyOptions options_;
  std::vector<std::unique_ptr<Flow>> flows_;
  std::unordered_map<std::pair<Endpoint, Endpoint>, uint32_t, KeyHash> by_key_;
  uint64_t retransmitted_ = 0;
};

}  // namespace sc::capture
