#include "capture/tcp_reassembler.hpp"

#include <algorithm>
#include <cstring>

namespace sc::capture {

size_t TcpReassembler::KeyHash::operator()(const std::pair<Endpoint, Endpoint>& k) const {
  size_t h = 1469598103934665603ull;
  auto mix = [&](const Endpoint& e) {
    for (uint8_t b : e.addr) h = (h ^ b) * 1099511628211ull;
    h = (h ^ e.port) * 1099511628211ull;
  };
  mix(k.first);
  mix(k.second);
  return h;
}

TcpReassembler::TcpReassembler(StreamConsumer& consumer, ReassemblyOptions options)
    : consumer_(consumer), options_(options) {}
TcpReassembler::~TcpReassembler() = default;

void TcpReassembler::add(const TcpSegment& seg, uint64_t ts) {
  auto key = std::make_pair(seg.src, seg.dst);
  auto rkey = std::make_pair(seg.dst, seg.src);
  Flow* f = nullptr;
  if (auto it = by_key_.find(key); it != by_key_.end()) f = flows_[it->second].get();
  else if (auto rit = by_key_.find(rkey); rit != by_key_.end()) f = flows_[rit->second].get();

  const bool pure_syn = (seg.flags & kSyn) && !(seg.flags & kAck);
  // A new SYN on a finished 4-tuple is a new connection (port reuse).
  if (f && pure_syn && (!f->open || f->sides[0].next > 0 || f->sides[1].next > 0)) {
    close(*f, ts);
    by_key_.erase(key);
    by_key_.erase(rkey);
    f = nullptr;
  }
  if (!f) {
    if (seg.flags & kRst) return;  // a reset for a connection we never saw
    auto flow = std::make_unique<Flow>();
    flow->id = static_cast<uint32_t>(flows_.size());
    // A lone SYN-ACK means we missed the SYN: the sender is the responder.
    const bool from_responder = (seg.flags & kSyn) && (seg.flags & kAck);
    flow->ends[0] = from_responder ? seg.dst : seg.src;
    flow->ends[1] = from_responder ? seg.src : seg.dst;
    f = flow.get();
    flows_.push_back(std::move(flow));
    by_key_[std::make_pair(f->ends[0], f->ends[1])] = f->id;
    consumer_.on_open(f->id, f->ends[0], f->ends[1], (seg.flags & kSyn) != 0, ts);
  }
  if (!f->open) return;
  const int side = seg.src == f->ends[0] ? 0 : 1;
  Side& s = f->sides[side];

  if (seg.flags & kSyn) {
    if (!s.started) {
      s.started = true;
      s.base = seg.seq + 1;
    }
    return;  // SYNs carry no data in practice
  }
  if (!seg.payload.empty()) {
    if (!s.started) {
      s.started = true;
      s.base = seg.seq;
    }
    const int64_t at = offset_of(s, seg.seq);
    if (at >= 0) deliver(*f, side, static_cast<uint64_t>(at), seg.payload, ts);
  }
  if ((seg.flags & kFin) && s.started) {
    const int64_t end = offset_of(s, seg.seq) + static_cast<int64_t>(seg.payload.size());
    if (end >= 0) s.fin_at = static_cast<uint64_t>(end);
  }
  // The peer's acknowledgements tell how far this side's stream reached.
  if ((seg.flags & kAck) && f->sides[1 - side].started) {
    const int64_t acked = offset_of(f->sides[1 - side], seg.ack);
    if (acked > 0) f->sides[1 - side].acked = std::max(f->sides[1 - side].acked, static_cast<uint64_t>(acked));
  }
  if (seg.flags & (kFin | kRst)) {
    s.closed = true;
    if (seg.flags & kRst) f->sides[1 - side].closed = true;
  }
}

// A sequence number as a 64-bit stream offset, relative to what the side expects next.
int64_t TcpReassembler::offset_of(const Side& s, uint32_t seq) {
  const auto delta = static_cast<int32_t>(seq - static_cast<uint32_t>(s.base + s.next));
  return static_cast<int64_t>(s.next) + delta;
}

void TcpReassembler::deliver(Flow& f, int side, uint64_t at, std::span<const uint8_t> bytes, uint64_t ts) {
  Side& s = f.sides[side];
  if (at + bytes.size() <= s.next) {
    retransmitted_ += bytes.size();
    return;
  }
  if (at < s.next) {  // overlap: keep only the new tail
    retransmitted_ += s.next - at;
    bytes = bytes.subspan(s.next - at);
    at = s.next;
  }
  if (at > s.next) {
    auto& slot = s.waiting[at];
    if (slot.size() < bytes.size()) {
      s.waiting_bytes += bytes.size() - slot.size();
      slot.assign(bytes.begin(), bytes.end());
    }
    if (s.waiting_bytes > options_.max_out_of_order_bytes) flush_holes(f, side, ts, options_.max_out_of_order_bytes / 2);
    return;
  }
  consumer_.on_data(f.id, side, bytes, ts);
  s.next += bytes.size();
  drain(f, side, ts);
}

void TcpReassembler::drain(Flow& f, int side, uint64_t ts) {
  Side& s = f.sides[side];
  while (!s.waiting.empty() && s.waiting.begin()->first <= s.next) {
    auto node = s.waiting.extract(s.waiting.begin());
    s.waiting_bytes -= node.mapped().size();
    const uint64_t at = node.key();
    std::span<const uint8_t> bytes = node.mapped();
    if (at + bytes.size() <= s.next) {
      retransmitted_ += bytes.size();
      continue;
    }
    bytes = bytes.subspan(s.next - at);
    consumer_.on_data(f.id, side, bytes, ts);
    s.next += bytes.size();
  }
}

// Gives up on holes, oldest first, reporting each as a gap, until at most
// `keep_bytes` wait behind the next one.
void TcpReassembler::flush_holes(Flow& f, int side, uint64_t ts, size_t keep_bytes) {
  Side& s = f.sides[side];
  while (!s.waiting.empty() && s.waiting_bytes > keep_bytes) {
    const uint64_t first = s.waiting.begin()->first;
    if (first > s.next) {
      consumer_.on_gap(f.id, side, first - s.next, ts);
      s.next = first;
    }
    drain(f, side, ts);
  }
}

void TcpReassembler::close(Flow& f, uint64_t ts) {
  if (!f.open) return;
  for (int side = 0; side < 2; ++side) {
    flush_holes(f, side, ts, 0);
    // Bytes at the very end that never arrived leave no hole behind them: only
    // the FIN or the peer's acknowledgement shows they existed.
    Side& s = f.sides[side];
    const uint64_t end = s.fin_at ? *s.fin_at : s.acked;
    if (end > s.next) {
      consumer_.on_gap(f.id, side, end - s.next, ts);
      s.next = end;
    }
  }
  f.open = false;
  consumer_.on_close(f.id, ts);
}

void TcpReassembler::finish(uint64_t ts) {
  for (auto& f : flows_) close(*f, ts);
}

}  // namespace sc::capture
