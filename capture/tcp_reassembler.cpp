#include "capture/tcp_reassembler.hpp"

#include <algorithm>

namespace sc::capture {

size_t TcpReassembler::KeyHash::operator()(const Key& k) const {
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
  expire(ts);
  const Key key{seg.src, seg.dst}, rkey{seg.dst, seg.src};
  auto found = by_key_.find(key);
  if (found == by_key_.end()) found = by_key_.find(rkey);
  std::optional<FlowList::iterator> at;
  if (found != by_key_.end()) at = found->second;

  const bool pure_syn = (seg.flags & kSyn) && !(seg.flags & kAck);
  // A new SYN on a 4-tuple that already carried data is a new connection (port reuse).
  if (at && pure_syn && (*at)->had_payload) {
    close(*at, ts, CloseReason::PortReuse);
    at.reset();
  }
  if (!at) {
    if (seg.flags & kRst) return;  // a reset for a connection we never saw (or already closed)
    if (pure_syn) {
      closed_.erase(key);
      closed_.erase(rkey);
    } else if (!closed_.empty() && (closed_.count(key) || closed_.count(rkey))) {
      return;  // a straggler of a connection that ended
    }
    // A bare ACK or FIN says nothing a flow could use: only handshakes and data start one.
    if (!(seg.flags & kSyn) && seg.payload.empty()) return;
    if (options_.max_live_flows > 0 && flows_.size() >= options_.max_live_flows) {
      close(flows_.begin(), ts, CloseReason::Evicted);
    }
    Flow flow;
    flow.id = next_id_++;
    // A lone SYN-ACK means we missed the SYN: the sender is the responder.
    const bool from_responder = (seg.flags & kSyn) && (seg.flags & kAck);
    flow.ends[0] = from_responder ? seg.dst : seg.src;
    flow.ends[1] = from_responder ? seg.src : seg.dst;
    flow.last_ts = ts;
    flows_.push_back(std::move(flow));
    at = std::prev(flows_.end());
    by_key_[Key{(*at)->ends[0], (*at)->ends[1]}] = *at;
    by_id_[(*at)->id] = *at;
    consumer_.on_open((*at)->id, (*at)->ends[0], (*at)->ends[1], (seg.flags & kSyn) != 0, ts);
  }
  const FlowList::iterator it = *at;
  Flow& f = *it;
  f.last_ts = std::max(f.last_ts, ts);
  flows_.splice(flows_.end(), flows_, it);  // most recently active last

  const int side = seg.src == f.ends[0] ? 0 : 1;
  Side& s = f.sides[side];
  if (seg.flags & kSyn) {
    if (!s.started) {
      s.started = true;
      s.base = seg.seq + 1;
    }
    return;  // SYNs carry no data in practice
  }
  if (!s.started && (!seg.payload.empty() || (seg.flags & kFin))) {
    s.started = true;
    s.base = seg.seq;
  }
  if (!seg.payload.empty()) {
    f.had_payload = true;
    const int64_t pos = offset_of(s, seg.seq);
    if (pos >= 0) deliver(f, side, static_cast<uint64_t>(pos), seg.payload, ts);
  }
  if (seg.flags & kFin) {
    const int64_t end = offset_of(s, seg.seq) + static_cast<int64_t>(seg.payload.size());
    if (end >= 0) s.fin_at = static_cast<uint64_t>(end);
  }
  // The peer's acknowledgements tell how far this side's stream reached.
  if ((seg.flags & kAck) && f.sides[1 - side].started) {
    const int64_t acked = offset_of(f.sides[1 - side], seg.ack);
    if (acked > 0) f.sides[1 - side].acked = std::max(f.sides[1 - side].acked, static_cast<uint64_t>(acked));
  }
  for (int d = 0; d < 2; ++d) give_up_acked_holes(f, d, ts);
  after_segment(it, seg.flags, ts);
}

void TcpReassembler::after_segment(FlowList::iterator it, uint8_t flags, uint64_t ts) {
  Flow& f = *it;
  if (flags & kRst) {
    close(it, ts, CloseReason::Reset);
    return;
  }
  if (!f.sides[0].fin_at || !f.sides[1].fin_at) return;
  const bool complete =
      f.ignored || (f.sides[0].next >= *f.sides[0].fin_at && f.sides[1].next >= *f.sides[1].fin_at);
  if (complete) {
    close(it, ts, CloseReason::Fin);
  } else if (!f.lingering) {
    // Bytes before a FIN are still missing: a late copy may yet come (capture
    // reordering, a retransmission), so wait a little before giving them up.
    f.lingering = true;
    f.linger_until = ts + options_.fin_linger_ns;
    lingering_.push_back(f.id);
  }
}

// A sequence number as a 64-bit stream offset, relative to what the side expects next.
int64_t TcpReassembler::offset_of(const Side& s, uint32_t seq) {
  const auto delta = static_cast<int32_t>(seq - static_cast<uint32_t>(s.base + s.next));
  return static_cast<int64_t>(s.next) + delta;
}

void TcpReassembler::deliver(Flow& f, int side, uint64_t at, std::span<const uint8_t> bytes, uint64_t ts) {
  if (f.ignored) return;
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
    hold(f, side, at, bytes, ts);
    return;
  }
  consumer_.on_data(f.id, side, bytes, ts);
  s.next += bytes.size();
  drain(f, side, ts);
}

void TcpReassembler::hold(Flow& f, int side, uint64_t at, std::span<const uint8_t> bytes, uint64_t ts) {
  Side& s = f.sides[side];
  auto& slot = s.waiting[at];
  if (slot.size() < bytes.size()) {
    const size_t added = bytes.size() - slot.size() + (slot.empty() ? kSegmentOverhead : 0);
    s.waiting_bytes += bytes.size() - slot.size();
    held_payload_ += bytes.size() - slot.size();
    s.waiting_cost += added;
    held_cost_ += added;
    slot.assign(bytes.begin(), bytes.end());
  }
  if (s.waiting_cost > options_.max_held_per_direction) {
    // Keep the newest half: the holes closest to the stream's front are the ones
    // least likely to be filled now.
    flush_holes(f, side, ts, options_.max_held_per_direction / 2, true);
  }
  if (held_cost_ > options_.max_held_total) relieve_total(ts);
}

// The cap over all flows: the directions holding most give up their holes
// first, until a quarter of the cap is free again (so this does not run per segment).
void TcpReassembler::relieve_total(uint64_t ts) {
  struct Held {
    size_t cost;
    uint32_t id;
    int side;
  };
  std::vector<Held> all;
  for (const Flow& f : flows_) {
    for (int side = 0; side < 2; ++side) {
      if (f.sides[side].waiting_cost > 0) all.push_back({f.sides[side].waiting_cost, f.id, side});
    }
  }
  std::sort(all.begin(), all.end(), [](const Held& a, const Held& b) { return a.cost > b.cost; });
  const size_t target = options_.max_held_total / 4 * 3;
  for (const Held& h : all) {
    if (held_cost_ <= target) break;
    auto found = by_id_.find(h.id);
    if (found == by_id_.end()) continue;
    flush_holes(*found->second, h.side, ts, 0, true, true);
  }
}

void TcpReassembler::give_up_acked_holes(Flow& f, int side, uint64_t ts) {
  Side& s = f.sides[side];
  const auto acked_past_hole = [&] {
    return !f.ignored && !s.waiting.empty() && s.waiting.begin()->first > s.next && s.acked >= s.waiting.begin()->first;
  };
  if (!acked_past_hole()) {
    s.hole_acked_since = 0;
    return;
  }
  if (s.hole_acked_since == 0) {
    s.hole_acked_since = ts ? ts : 1;
    return;
  }
  if (ts < s.hole_acked_since + options_.acked_hole_linger_ns) return;
  while (acked_past_hole()) {
    const uint64_t first = s.waiting.begin()->first;
    consumer_.on_gap(f.id, side, first - s.next, ts);
    s.next = first;
    drain(f, side, ts);
  }
  s.hole_acked_since = 0;
}

void TcpReassembler::drain(Flow& f, int side, uint64_t ts) {
  Side& s = f.sides[side];
  while (!f.ignored && !s.waiting.empty() && s.waiting.begin()->first <= s.next) {
    auto node = s.waiting.extract(s.waiting.begin());
    const size_t n = node.mapped().size();
    s.waiting_bytes -= n;
    s.waiting_cost -= n + kSegmentOverhead;
    held_payload_ -= n;
    held_cost_ -= n + kSegmentOverhead;
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

Overflow TcpReassembler::flush_holes(Flow& f, int side, uint64_t ts, size_t keep_cost, bool report,
                                     bool total_cap) {
  Side& s = f.sides[side];
  Overflow o;
  o.hole_offset = s.next;
  o.held_bytes = s.waiting_bytes;
  o.total_cap = total_cap;
  // What the loop below will give up, worked out first so the consumer hears of
  // the cap before the gaps it causes.
  {
    uint64_t pos = s.next;
    size_t cost = s.waiting_cost;
    for (const auto& [key, bytes] : s.waiting) {
      if (key > pos && cost <= keep_cost) break;
      if (key > pos) {
        o.lost_bytes += key - pos;
        pos = key;
      }
      pos = std::max<uint64_t>(pos, key + bytes.size());
      cost -= bytes.size() + kSegmentOverhead;
    }
  }
  if (!f.ignored && keep_cost < s.waiting_cost && report) consumer_.on_overflow(f.id, side, o, ts);
  while (!f.ignored && !s.waiting.empty() && s.waiting_cost > keep_cost) {
    const uint64_t first = s.waiting.begin()->first;
    if (first > s.next) {
      consumer_.on_gap(f.id, side, first - s.next, ts);
      s.next = first;
    }
    drain(f, side, ts);
  }
  return o;
}

void TcpReassembler::release(Side& s) {
  held_payload_ -= s.waiting_bytes;
  held_cost_ -= s.waiting_cost;
  s.waiting.clear();
  s.waiting_bytes = s.waiting_cost = 0;
}

void TcpReassembler::ignore(uint32_t flow) {
  auto found = by_id_.find(flow);
  if (found == by_id_.end()) return;
  Flow& f = *found->second;
  f.ignored = true;
  release(f.sides[0]);
  release(f.sides[1]);
}

void TcpReassembler::close(FlowList::iterator it, uint64_t ts, CloseReason why) {
  Flow& f = *it;
  if (!f.ignored) {
    for (int side = 0; side < 2; ++side) {
      flush_holes(f, side, ts, 0, false);
      // Bytes at the very end that never arrived leave no hole behind them: only
      // the FIN or the peer's acknowledgement shows they existed.
      Side& s = f.sides[side];
      const uint64_t end = s.fin_at ? *s.fin_at : s.acked;
      if (!f.ignored && end > s.next) {
        consumer_.on_gap(f.id, side, end - s.next, ts);
        s.next = end;
      }
    }
  }
  release(f.sides[0]);
  release(f.sides[1]);
  const Key key{f.ends[0], f.ends[1]};
  const uint32_t id = f.id;
  by_key_.erase(key);
  by_id_.erase(id);
  flows_.erase(it);
  if (why == CloseReason::Fin || why == CloseReason::Reset) remember_closed(key, ts);
  consumer_.on_close(id, ts);
}

void TcpReassembler::remember_closed(const Key& k, uint64_t ts) {
  if (options_.max_closed_remembered == 0) return;
  closed_[k] = ts;
  closed_order_.emplace_back(ts, k);
  while (closed_order_.size() > options_.max_closed_remembered) {
    const auto& [when, key] = closed_order_.front();
    if (auto c = closed_.find(key); c != closed_.end() && c->second == when) closed_.erase(c);
    closed_order_.pop_front();
  }
}

void TcpReassembler::expire(uint64_t ts) {
  if (options_.idle_timeout_ns > 0) {
    while (!flows_.empty() && flows_.front().last_ts + options_.idle_timeout_ns < ts) {
      const uint64_t last = flows_.front().last_ts;
      close(flows_.begin(), last, CloseReason::Idle);
    }
  }
  for (size_t i = 0; i < lingering_.size();) {
    auto found = by_id_.find(lingering_[i]);
    if (found == by_id_.end() || ts >= found->second->linger_until) {
      lingering_[i] = lingering_.back();
      lingering_.pop_back();
      if (found != by_id_.end()) close(found->second, ts, CloseReason::Fin);
      continue;
    }
    ++i;
  }
  while (!closed_order_.empty() && closed_order_.front().first + options_.closed_memory_ns < ts) {
    const auto& [when, key] = closed_order_.front();
    if (auto c = closed_.find(key); c != closed_.end() && c->second == when) closed_.erase(c);
    closed_order_.pop_front();
  }
}

void TcpReassembler::finish(uint64_t ts) {
  while (!flows_.empty()) close(flows_.begin(), ts, CloseReason::End);
  lingering_.clear();
}

}  // namespace sc::capture
