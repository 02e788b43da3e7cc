#include "wireshark-plugin/connection.hpp"

#include <algorithm>

namespace sc::wsplugin {

Connection::Connection(bool midstream, framing::FramerOptions options)
    : midstream_(midstream), framer_(*this, midstream, options) {
  caps_.emplace_back();  // index 0: nothing negotiated (link stage)
}

int64_t Connection::offset_of(Direction dir, uint32_t seq) {
  Dir& d = dirs_[idx(dir)];
  if (!d.started) {
    d.started = true;
    d.last_seq = seq;
    d.last_offset = 0;
    return 0;
  }
  // Sequence numbers wrap every 4 GiB: step from the last one seen.
  const int64_t off = d.last_offset + static_cast<int32_t>(seq - d.last_seq);
  if (off >= 0) {
    d.last_seq = seq;
    d.last_offset = off;
  }
  return off;
}

void Connection::on_frame(const framing::Frame& f, const framing::ChannelState& s) {
  const auto& last = caps_.back();
  if (last.common.words != s.negotiated.common.words || last.channel.words != s.negotiated.channel.words) {
    caps_.push_back(s.negotiated);
  }
  FrameRecord r;
  r.offset = f.stream_offset;
  r.wire_size = static_cast<uint32_t>(f.wire.size());
  r.header_size = static_cast<uint8_t>(f.wire.size() - f.body.size());
  r.sub_list = f.sub_list;
  r.serial = f.serial.value_or(0);
  r.has_serial = f.serial.has_value();
  r.def = f.def;
  r.caps = static_cast<uint32_t>(caps_.size() - 1);
  r.type = f.type;
  r.channel_type = s.channel_type;
  r.undecodable = f.undecodable;
  dirs_[idx(f.dir)].frames.push_back(r);
}

void Connection::on_problem(const framing::Problem& p, const framing::ChannelState&) { pending_.push_back(p); }

CallRecord& Connection::stale(Direction dir) {
  CallRecord& rec = records_.emplace_back();
  rec.dir = dir;
  rec.seen_before = true;
  rec.channel_type = framer_.state().channel_type;
  rec.channel_id = framer_.state().channel_id;
  rec.header = framer_.state().header;
  return rec;
}

CallRecord& Connection::on_segment(Direction dir, uint64_t base, std::span<const uint8_t> bytes, uint64_t reported,
                                   bool can_desegment, uint64_t ts_ns, Desegment& request) {
  Dir& d = dirs_[idx(dir)];
  CallRecord& rec = records_.emplace_back();
  rec.dir = dir;
  rec.base = base;
  request = {};
  const uint64_t end = base + reported;

  // Only bytes the framer has not had yet go in; bytes TCP never handed over are a gap.
  if (base > d.fed) {
    framer_.gap(dir, base - d.fed, ts_ns);
    d.fed = base;
  }
  if (end > d.fed) {
    const uint64_t from = d.fed - base;
    if (from < bytes.size()) framer_.feed(dir, bytes.subspan(from), ts_ns);
    const uint64_t captured_end = base + std::max<uint64_t>(bytes.size(), from);
    if (end > captured_end) framer_.gap(dir, end - captured_end, ts_ns);  // cut short by the snap length
    d.fed = end;
  } else {
    rec.seen_before = true;
  }
  rec.channel_type = framer_.state().channel_type;
  rec.channel_id = framer_.state().channel_id;
  rec.header = framer_.state().header;

  // The frames that lie completely inside this tvb and were not shown before.
  auto& frames = d.frames;
  const uint64_t from = std::max(base, d.shown);
  const auto first = std::lower_bound(frames.begin(), frames.end(), from,
                                      [](const FrameRecord& f, uint64_t at) { return f.offset < at; });
  uint32_t count = 0;
  for (auto it = first; it != frames.end() && it->end() <= end; ++it) ++count;

  // Bytes of this tvb the framer still holds: TCP keeps them and presents them
  // again once `wanted` more have arrived (or with the next segment).
  const framing::Backlog backlog = framer_.backlog(dir);
  bool all_handed_back = false;
  if (backlog.bytes > 0 && backlog.stream_offset >= base && backlog.stream_offset < end) {
    rec.held_from = static_cast<int64_t>(backlog.stream_offset - base);
    if (can_desegment) {
      // TCP presents a reassembly that still ends inside a message again from its
      // start, extended: show its frames then, not twice.
      if (count > 0 && d.holding && d.hold_start == base && rec.held_from > 0) {
        count = 0;
        rec.held_from = 0;
      }
      request.wanted = true;
      request.offset = static_cast<uint32_t>(rec.held_from);
      request.more = static_cast<uint32_t>(std::min<size_t>(backlog.wanted, UINT32_MAX - 1));
      rec.handed_back = true;
      d.holding = true;
      d.hold_start = base + static_cast<uint64_t>(rec.held_from);
      all_handed_back = rec.held_from == 0 && count == 0;
    } else {
      d.holding = false;
    }
  } else {
    d.holding = false;
  }

  rec.first_frame = static_cast<uint32_t>(first - frames.begin());
  rec.frame_count = count;
  if (count > 0) d.shown = frames[rec.first_frame + count - 1].end();
  // Problems wait for a record that shows something.
  if (!all_handed_back || rec.seen_before) rec.problems = std::move(pending_), pending_.clear();
  return rec;
}

}  // namespace sc::wsplugin
