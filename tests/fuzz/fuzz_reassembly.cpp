// Fuzzes TCP reassembly: synthetic segments of up to four connections (one of
// them IPv6), in any order, overlapping, retransmitted, lost, with SYN/FIN/RST/ACK
// in any combination, sequence numbers anywhere (wrapping included) and capture
// time jumping, through capture::TcpReassembler with small caps and timers, and
// with flows the consumer stops caring about (ignore(), also from a callback).
//
// Why: every byte the importer stores went through the reassembler. The payload of
// a segment is not taken from the input but computed from its sequence number, so
// the consumer can check what tcp_reassembler.hpp promises: each direction arrives
// in order, each byte once, in its place (stream offset 0 being the SYN + 1 or the
// first data or FIN segment), with a gap wherever bytes never arrived; an overflow
// announces exactly the gaps that follow it; events come in open / data+gaps /
// close order, nothing arrives for an ignored flow, and finish() closes every flow.
// A record may ask for a payload of garbage instead; its direction is then no
// longer checked for content.
//
// Input: an options byte, a u32 that sets the initial sequence numbers, then
// 6-byte records.
//   options  bits 0-2 per-direction cap (0 = default, else 128 << n bytes), bits 3-4
//            cap over all flows (0 = default, else 512 << n), bit 5 short timers (idle
//            100 ms, FIN linger 20 ms, closed 4-tuples remembered 200 ms), bit 6 only
//            one closed 4-tuple remembered, bit 7 no idle timeout
//   [0]      bits 0-1 connection, bit 2 direction (1 = server to client), bit 3
//            garbage payload, bit 4 SYN, bit 5 FIN, bit 6 RST, bit 7 ACK
//   [1..2]   sequence number, as a signed 16-bit distance from the highest one sent so far
//   [3]      payload length
//   [4]      acknowledgement, as a signed distance (x16) from the peer's highest sequence
//   [5]      bits 0-5 capture time step (1 ms + n * 4 ms), bit 6 ignore the connection's
//            flow after this segment, bit 7 ignore it from inside its next on_data
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "capture/tcp_reassembler.hpp"

namespace {

using sc::capture::Endpoint;
using sc::capture::TcpSegment;

constexpr int kConnections = 4;
constexpr size_t kRecord = 6;

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "fuzz_reassembly: %s\n", what.c_str());
  std::abort();
}

uint32_t le32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24; }

// The byte every copy of sequence number `seq` carries, in one direction of one connection.
uint8_t content(int conn, int dir, uint32_t seq) {
  uint32_t h = seq * 0x9e3779b1u ^ static_cast<uint32_t>(conn * 2 + dir) * 0x85ebca6bu;
  h ^= h >> 15;
  h *= 0xc2b2ae35u;
  return static_cast<uint8_t>(h >> 24);
}

Endpoint endpoint(int conn, bool server) {
  Endpoint e;
  e.v6 = conn == 3;
  if (e.v6) {
    e.addr[15] = server ? 2 : 1;
  } else {
    e.addr = {10, 0, 0, static_cast<uint8_t>(server ? 2 : 1)};
  }
  e.port = static_cast<uint16_t>(server ? 5900 : 40000 + conn);
  return e;
}

// What the generator sent in one direction of one connection.
struct Sent {
  uint32_t high = 0;            // highest sequence number sent (one past the last byte)
  std::vector<uint32_t> bases;  // where stream offset 0 may have been put
  bool garbage = false;         // some payload did not follow content()
};

class CheckingConsumer : public sc::capture::StreamConsumer {
 public:
  CheckingConsumer(const Sent (&sent)[kConnections][2]) : sent_(sent) {}
  sc::capture::TcpReassembler* reassembler = nullptr;

  void on_open(uint32_t flow, const Endpoint& initiator, const Endpoint& responder, bool, uint64_t) override {
    if (flow != flows_.size()) broken("flow " + std::to_string(flow) + " opened; expected " + std::to_string(flows_.size()));
    Flow f;
    const Endpoint& client = initiator.port == 5900 ? responder : initiator;
    f.conn = client.port - 40000;
    if (f.conn < 0 || f.conn >= kConnections || !(client == endpoint(f.conn, false))) broken("a flow of unknown endpoints");
    f.side0_dir = initiator == client ? 0 : 1;
    flows_.push_back(std::move(f));
    latest_[flows_.back().conn] = flow;
  }

  void on_data(uint32_t flow, int side, std::span<const uint8_t> bytes, uint64_t) override {
    Side& s = side_of(flow, side, "data");
    Flow& f = flows_[flow];
    const int dir = f.side0_dir ^ side;
    if (!sent_[f.conn][dir].garbage) {
      if (!s.started) {
        s.bases = sent_[f.conn][dir].bases;
        s.started = true;
      }
      std::erase_if(s.bases, [&](uint32_t base) {
        for (size_t i = 0; i < bytes.size(); ++i) {
          if (bytes[i] != content(f.conn, dir, base + static_cast<uint32_t>(s.pos + i))) return true;
        }
        return false;
      });
      if (s.bases.empty()) {
        broken("flow " + std::to_string(flow) + " side " + std::to_string(side) + ": " + std::to_string(bytes.size()) +
               " bytes at stream offset " + std::to_string(s.pos) + " are not the bytes sent there");
      }
    }
    s.pos += bytes.size();
    if (f.ignore_in_callback) {
      f.ignore_in_callback = false;
      f.ignored = true;
      f.overflow_checked = false;  // ignoring stops a flush half-way
      reassembler->ignore(flow);
    }
  }

  void on_gap(uint32_t flow, int side, uint64_t bytes, uint64_t) override {
    if (bytes == 0) broken("a gap of 0 bytes");
    Side& s = side_of(flow, side, "a gap");
    s.pos += bytes;
    // An overflow's own gaps come right after it and add up to what it announced.
    // Gaps after those are holes the peer acknowledged past, given up by the
    // same segment: not the overflow's.
    if (s.overflow_announced > s.overflow_gaps) {
      if (bytes > s.overflow_announced - s.overflow_gaps) {
        broken("flow " + std::to_string(flow) + ": a gap of " + std::to_string(bytes) + " bytes after an overflow that " +
               "had " + std::to_string(s.overflow_announced - s.overflow_gaps) + " lost bytes left to announce");
      }
      s.overflow_gaps += bytes;
    }
  }

  void on_overflow(uint32_t flow, int side, const sc::capture::Overflow& o, uint64_t) override {
    Side& s = side_of(flow, side, "an overflow");
    if (o.hole_offset != s.pos) {
      broken("overflow of flow " + std::to_string(flow) + " side " + std::to_string(side) + " at " +
             std::to_string(o.hole_offset) + ", stream is at " + std::to_string(s.pos));
    }
    if (!s.overflow_announced) s.overflow_gaps = 0;
    s.overflow_announced += o.lost_bytes;
  }

  void on_close(uint32_t flow, uint64_t) override {
    if (flow >= flows_.size() || !flows_[flow].open) broken("flow " + std::to_string(flow) + " closed twice or never opened");
    flows_[flow].open = false;
  }

  // Between two add() calls: each overflow announced exactly the gaps that came
  // right after it.
  void settle() {
    for (size_t id = 0; id < flows_.size(); ++id) {
      Flow& f = flows_[id];
      for (Side& s : f.sides) {
        if (f.open && f.overflow_checked && s.overflow_announced != 0 && s.overflow_gaps != s.overflow_announced) {
          broken("flow " + std::to_string(id) + ": an overflow announced " + std::to_string(s.overflow_announced) +
                 " lost bytes, the gaps after it hold " + std::to_string(s.overflow_gaps));
        }
        s.overflow_announced = s.overflow_gaps = 0;
      }
      f.overflow_checked = true;
    }
  }

  // The newest flow of a connection, if it is open and not ignored yet.
  int live_flow(int conn) const {
    const int id = latest_[conn];
    return id >= 0 && flows_[id].open && !flows_[id].ignored ? id : -1;
  }
  void ignore_now(int id) {
    flows_[id].ignored = true;
    reassembler->ignore(static_cast<uint32_t>(id));
  }
  void ignore_on_next_data(int id) { flows_[id].ignore_in_callback = true; }

  void check_all_closed() const {
    for (size_t i = 0; i < flows_.size(); ++i) {
      if (flows_[i].open) broken("flow " + std::to_string(i) + " still open after finish()");
    }
  }

 private:
  struct Side {
    uint64_t pos = 0;
    bool started = false;
    std::vector<uint32_t> bases;  // candidates for the sequence number of offset 0
    uint64_t overflow_announced = 0, overflow_gaps = 0;
  };
  struct Flow {
    int conn = 0;
    int side0_dir = 0;
    bool open = true;
    bool ignored = false;
    bool ignore_in_callback = false;
    bool overflow_checked = true;
    Side sides[2];
  };

  Side& side_of(uint32_t flow, int side, const char* what) {
    if (flow >= flows_.size() || !flows_[flow].open || (side != 0 && side != 1)) {
      broken(std::string(what) + " for flow " + std::to_string(flow) + " side " + std::to_string(side) +
             ", which is not open");
    }
    if (flows_[flow].ignored) broken(std::string(what) + " for flow " + std::to_string(flow) + ", which is ignored");
    return flows_[flow].sides[side];
  }

  const Sent (&sent_)[kConnections][2];
  std::vector<Flow> flows_;
  int latest_[kConnections] = {-1, -1, -1, -1};
};

sc::capture::ReassemblyOptions options_from(uint8_t b) {
  sc::capture::ReassemblyOptions o;
  if (b & 7) o.max_held_per_direction = 128u << (b & 7);
  if ((b >> 3) & 3) o.max_held_total = 512u << ((b >> 3) & 3);
  if (b & 0x20) {
    o.idle_timeout_ns = 100'000'000;
    o.fin_linger_ns = 20'000'000;
    o.closed_memory_ns = 200'000'000;
  }
  if (b & 0x40) o.max_closed_remembered = 1;
  if (b & 0x80) o.idle_timeout_ns = 0;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  const uint32_t isn_seed = le32(data + 1);

  Sent sent[kConnections][2];
  for (int c = 0; c < kConnections; ++c) {
    for (int d = 0; d < 2; ++d) sent[c][d].high = isn_seed + static_cast<uint32_t>(c) * 0x40000000u + (d ? 0x10000u : 0) + 1;
  }
  CheckingConsumer consumer(sent);
  sc::capture::TcpReassembler reassembler(consumer, options_from(data[0]));
  consumer.reassembler = &reassembler;

  std::vector<uint8_t> payload;
  uint64_t ts = 1'000'000'000;
  uint32_t noise = isn_seed | 1;
  for (size_t at = 5; at + kRecord <= size; at += kRecord) {
    const uint8_t* r = data + at;
    const int conn = r[0] & 3;
    const int dir = (r[0] >> 2) & 1;
    const bool garbage = (r[0] & 8) != 0;
    Sent& me = sent[conn][dir];
    const Sent& peer = sent[conn][1 - dir];

    TcpSegment seg;
    seg.src = endpoint(conn, dir == 1);
    seg.dst = endpoint(conn, dir == 0);
    seg.flags = static_cast<uint8_t>(((r[0] & 0x10) ? sc::capture::kSyn : 0) | ((r[0] & 0x20) ? sc::capture::kFin : 0) |
                                     ((r[0] & 0x40) ? sc::capture::kRst : 0) | ((r[0] & 0x80) ? sc::capture::kAck : 0));
    seg.seq = me.high + static_cast<uint32_t>(static_cast<int16_t>(r[1] | r[2] << 8));
    seg.ack = peer.high + static_cast<uint32_t>(static_cast<int8_t>(r[4]) * 16);
    payload.resize(r[3]);
    for (size_t i = 0; i < payload.size(); ++i) {
      if (garbage) {
        noise = noise * 1103515245u + 12345u;
        payload[i] = static_cast<uint8_t>(noise >> 16);
      } else {
        payload[i] = content(conn, dir, seg.seq + static_cast<uint32_t>(i));
      }
    }
    seg.payload = payload;

    // Offset 0 is the byte after a SYN, or else the first byte of the first data or FIN segment.
    auto may_be_base = [&me](uint32_t seq) {
      if (me.bases.empty() || me.bases.back() != seq) me.bases.push_back(seq);
    };
    if (seg.flags & sc::capture::kSyn) {
      may_be_base(seg.seq + 1);
      if (static_cast<int32_t>(seg.seq + 1 - me.high) > 0) me.high = seg.seq + 1;
    } else if (!payload.empty() || (seg.flags & sc::capture::kFin)) {
      may_be_base(seg.seq);
      me.garbage = me.garbage || (garbage && !payload.empty());
      const uint32_t end = seg.seq + static_cast<uint32_t>(payload.size());
      if (static_cast<int32_t>(end - me.high) > 0) me.high = end;
    }
    ts += 1'000'000 + (r[5] & 0x3f) * 4'000'000ull;
    reassembler.add(seg, ts);
    consumer.settle();
    if (const int id = consumer.live_flow(conn); id >= 0) {
      if (r[5] & 0x40) consumer.ignore_now(id);
      else if (r[5] & 0x80) consumer.ignore_on_next_data(id);
    }
  }
  reassembler.finish(ts + 1'000'000);
  consumer.check_all_closed();
  return 0;
}
