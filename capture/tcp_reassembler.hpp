#pragma once
// TCP stream reassembly: segments in, ordered byte streams out, per direction.
//
// Out-of-order segments wait in a buffer capped per direction and in all;
// retransmissions and overlaps are trimmed (the first copy of a byte wins); when
// bytes never arrive, the stream carries on after an explicit gap. Sequence
// numbers are tracked as 64-bit offsets, so streams longer than 4 GiB wrap
// correctly.
//
// Memory follows the connections alive at a time, not the length of the capture:
// a flow is closed and freed when both sides sent FIN (once their bytes are in),
// on RST, or after an idle time of capture time. A closed 4-tuple is remembered a
// while so that its stragglers (retransmissions, data in flight past a RST) do not
// open a phantom connection; a new SYN on it starts a new one at once.
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "capture/tcp_segment.hpp"

namespace sc::capture {

struct ReassemblyOptions {
  // Out-of-order bytes held (plus a per-segment overhead, so that tiny segments
  // cannot hide their cost) before the holes in front of them are given up.
  size_t max_held_per_direction = 4u << 20;
  size_t max_held_total = 64u << 20;
  uint64_t idle_timeout_ns = 600'000'000'000ull;  // 0: flows never time out
  // Beyond this many flows the least recently active one is closed.
  size_t max_live_flows = 1u << 18;
  // Both FINs seen but bytes before them still missing: how long to wait for a
  // late copy before closing anyway.
  uint64_t fin_linger_ns = 2'000'000'000ull;
  // The peer acknowledged bytes behind a hole: they reached it and the capture
  // missed them, so no retransmission will come. The hole is given up after this
  // long (a late copy can only come from the capture reordering packets), so the
  // direction's later bytes are not held back behind it until the connection ends.
  uint64_t acked_hole_linger_ns = 10'000'000ull;
  // How long (and how many) closed 4-tuples are remembered.
  uint64_t closed_memory_ns = 120'000'000'000ull;
  size_t max_closed_remembered = 1u << 16;
};

// What was given up when a cap was hit.
struct Overflow {
  uint64_t hole_offset = 0;   // stream offset of the first hole given up
  uint64_t lost_bytes = 0;    // bytes of the holes given up (now gaps)
  uint64_t held_bytes = 0;    // out-of-order payload bytes held when the cap was hit
  bool total_cap = false;     // the cap over all flows, not the per-direction one
};

enum class CloseReason : uint8_t { Fin, Reset, Idle, Evicted, PortReuse, End };

class StreamConsumer {
 public:
  virtual ~StreamConsumer() = default;
  // side 0 is the connection's initiator (the SYN sender, or else the first sender).
  virtual void on_open(uint32_t flow, const Endpoint& initiator, const Endpoint& responder, bool saw_syn,
                       uint64_t ts_ns) = 0;
  virtual void on_data(uint32_t flow, int side, std::span<const uint8_t> bytes, uint64_t ts_ns) = 0;
  virtual void on_gap(uint32_t flow, int side, uint64_t bytes, uint64_t ts_ns) = 0;
  // The flow is gone after this returns (its id is never reused).
  virtual void on_close(uint32_t flow, uint64_t ts_ns) = 0;
  // Called before the gaps of the holes given up (on_gap follows).
  virtual void on_overflow(uint32_t, int /*side*/, const Overflow&, uint64_t /*ts_ns*/) {}
};

class TcpReassembler {
 public:
  explicit TcpReassembler(StreamConsumer& consumer, ReassemblyOptions options = {});
  ~TcpReassembler();
  TcpReassembler(const TcpReassembler&) = delete;
  TcpReassembler& operator=(const TcpReassembler&) = delete;

  void add(const TcpSegment& seg, uint64_t ts_ns);
  // End of input: delivers what waits behind holes (with gaps) and closes every flow.
  void finish(uint64_t ts_ns);
  // The consumer has no use for this flow's bytes: drop what is held and deliver
  // nothing more; the flow is still tracked so that its end is seen and it is freed.
  // Safe to call from inside a callback.
  void ignore(uint32_t flow);

  uint64_t retransmitted_bytes() const { return retransmitted_; }
  size_t live_flows() const { return flows_.size(); }
  size_t held_bytes() const { return held_payload_; }  // out-of-order payload waiting, all flows
  size_t closed_remembered() const { return closed_.size(); }
  static constexpr size_t kSegmentOverhead = 64;  // counted per held segment against the caps

 private:
  struct Side {
    bool started = false;
    uint32_t base = 0;   // sequence number of stream offset 0
    uint64_t next = 0;   // next stream offset expected
    // Where the stream is known to reach even if its last bytes were never
    // captured: the FIN's position, else the furthest the peer acknowledged.
    std::optional<uint64_t> fin_at;
    uint64_t acked = 0;
    uint64_t hole_acked_since = 0;  // when the peer was first seen acknowledging past the first hole
    std::map<uint64_t, std::vector<uint8_t>> waiting;
    size_t waiting_bytes = 0;  // payload
    size_t waiting_cost = 0;   // payload + overhead, what the caps count
  };
  struct Flow {
    uint32_t id = 0;
    Endpoint ends[2];
    Side sides[2];
    uint64_t last_ts = 0;
    bool had_payload = false;
    bool ignored = false;
    bool lingering = false;
    uint64_t linger_until = 0;
  };
  using Key = std::pair<Endpoint, Endpoint>;
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  using FlowList = std::list<Flow>;  // least recently active first

  void deliver(Flow& f, int side, uint64_t at, std::span<const uint8_t> bytes, uint64_t ts);
  void drain(Flow& f, int side, uint64_t ts);
  void give_up_acked_holes(Flow& f, int side, uint64_t ts);
  // Gives up holes, oldest first, until the side's held cost is at most keep_cost;
  // returns what was given up (and tells the consumer first when `report`).
  Overflow flush_holes(Flow& f, int side, uint64_t ts, size_t keep_cost, bool report, bool total_cap = false);
  void hold(Flow& f, int side, uint64_t at, std::span<const uint8_t> bytes, uint64_t ts);
  void relieve_total(uint64_t ts);
  void release(Side& s);
  static int64_t offset_of(const Side& s, uint32_t seq);
  void after_segment(FlowList::iterator it, uint8_t flags, uint64_t ts);
  void close(FlowList::iterator it, uint64_t ts, CloseReason why);
  void expire(uint64_t ts);
  void remember_closed(const Key& k, uint64_t ts);

  StreamConsumer& consumer_;
  ReassemblyOptions options_;
  FlowList flows_;
  std::unordered_map<Key, FlowList::iterator, KeyHash> by_key_;  // (initiator, responder)
  std::unordered_map<uint32_t, FlowList::iterator> by_id_;
  std::vector<uint32_t> lingering_;
  std::unordered_map<Key, uint64_t, KeyHash> closed_;  // 4-tuple -> when it closed
  std::deque<std::pair<uint64_t, Key>> closed_order_;
  uint32_t next_id_ = 0;
  size_t held_cost_ = 0, held_payload_ = 0;
  uint64_t retransmitted_ = 0;
};

}  // namespace sc::capture
