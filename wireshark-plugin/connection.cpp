#include "wireshark-plugin/connection.hpp"

#include <spice/enums.h>

#include <algorithm>
#include <limits>

namespace sc::wsplugin {

// One per frame of every connection: the agent and image fields fit in what was padding.
static_assert(sizeof(FrameRecord) <= 48);

Connection::Connection(bool midstream, framing::FramerOptions options, DisplaySessions* displays)
    : midstream_(midstream), displays_(displays), framer_(*this, midstream, options) {
  caps_.emplace_back();  // index 0: nothing negotiated (link stage)
}

uint32_t Connection::frame_at(Direction dir, uint64_t at) const {
  const auto& frames = dirs_[idx(dir)].frames;
  const auto it = std::lower_bound(frames.begin(), frames.end(), at,
                                   [](const FrameRecord& f, uint64_t o) { return f.offset < o; });
  return static_cast<uint32_t>(it - frames.begin());
}

uint32_t Connection::first_agent_item(Direction dir, uint32_t index) const {
  const auto& list = dirs_[idx(dir)].agent_index;
  const auto it = std::lower_bound(list.begin(), list.end(), index,
                                   [](const std::pair<uint32_t, uint32_t>& e, uint32_t i) { return e.first < i; });
  return it != list.end() && it->first == index ? it->second : 0;
}

std::span<const ImageRecord> Connection::images_of(Direction dir, uint32_t index) const {
  const auto& list = dirs_[idx(dir)].images;
  const auto lo = std::lower_bound(list.begin(), list.end(), index,
                                   [](const ImageRecord& r, uint32_t i) { return r.frame < i; });
  auto hi = lo;
  while (hi != list.end() && hi->frame == index) ++hi;
  return {lo, hi};
}

// The store starts a main channel's conversation when the channel is known, and
// so does the plugin: both see the same frames. A display channel joins its
// session's display state then, the session tracker's moment.
void Connection::on_channel_known(const framing::ChannelState& s) {
  if (s.channel_type == SPICE_CHANNEL_DISPLAY && displays_ && !display_) {
    display_ = &displays_->feed_for(s.connection_id);
    display_connection_ = displays_->new_connection();
    return;
  }
  if (s.channel_type != SPICE_CHANNEL_MAIN || agent_) return;
  agent_ = std::make_unique<agent::Conversation>(static_cast<agent::Listener&>(*this));
  if (s.midstream) agent_->start_midstream();
}

uint32_t Connection::add_agent_item(AgentItem item) {
  const auto i = static_cast<uint32_t>(agent_items_.size());
  agent_items_.push_back(std::move(item));
  if (cutting_ < 0) {
    pending_agent_.push_back(i);
    return i;
  }
  Dir& d = dirs_[idx(cutting_dir_)];
  FrameRecord& f = d.frames[static_cast<size_t>(cutting_)];
  if (f.agent_items == 0) d.agent_index.emplace_back(static_cast<uint32_t>(cutting_), i);
  if (f.agent_items < std::numeric_limits<uint16_t>::max()) ++f.agent_items;
  return i;
}

void Connection::on_agent_message(const agent::AgentMessageEvent& e) {
  AgentItem item;
  item.is_message = true;
  item.dir = e.dir;
  item.header = e.message.header;
  item.def = e.def;
  item.span = e.message.span;
  const auto& caps = agent_->negotiated();  // what the message was decoded with
  if (agent_caps_.empty() || agent_caps_.back().common.words != caps.common.words ||
      agent_caps_.back().channel.words != caps.channel.words) {
    agent_caps_.push_back(caps);
  }
  item.caps = static_cast<uint32_t>(agent_caps_.size() - 1);
  item.bytes.reserve(agent::kHeaderSize + e.message.body.size());
  agent::append_header(item.bytes, e.message.header);
  item.bytes.insert(item.bytes.end(), e.message.body.begin(), e.message.body.end());
  // The conversation reports each decoder diagnostic of the message again
  // ("agent_" + code); the tree shows those with the fields, at their bytes.
  decode_codes_.clear();
  for (auto it = e.decoded.diagnostics.rbegin(); it != e.decoded.diagnostics.rend(); ++it)
    decode_codes_.push_back("agent_" + it->code);
  add_agent_item(std::move(item));
}

void Connection::on_diagnostic(const agent::AgentDiagnostic& d) {
  AgentItem item;
  item.dir = d.dir;
  item.severity = d.severity;
  item.code = d.code;
  item.text = d.text;
  item.carrier = d.carrier;
  if (!decode_codes_.empty() && decode_codes_.back() == d.code) {
    item.in_fields = true;
    decode_codes_.pop_back();
  } else {
    decode_codes_.clear();
  }
  add_agent_item(std::move(item));
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
  auto& frames = dirs_[idx(f.dir)].frames;
  frames.push_back(r);
  if (in_call_ && f.dir != calling_dir_) {
    Cross& c = cross_[idx(f.dir)];
    if (c.bytes.empty()) c.first = static_cast<uint32_t>(frames.size() - 1);
    c.bytes.insert(c.bytes.end(), f.wire.begin(), f.wire.end());
  } else if (!cross_[idx(f.dir)].bytes.empty()) {
    // Cut in its own direction's call: shown there, like every frame after it.
    cross_[idx(f.dir)].bytes.clear();
  }
  if (display_) {
    // Every display message goes to the display state as the store replays it:
    // decoded with the capabilities in force, link steps and unknown types not at all.
    if (!f.def || f.def->is_link()) return;
    cutting_dir_ = f.dir;
    cutting_ = static_cast<int64_t>(frames.size() - 1);
    decode::decode_frame({.def = f.def, .channel_type = s.channel_type, .dir = f.dir, .body = f.body, .sub_list = f.sub_list},
                         s.negotiated, decoded_);
    display_->apply(display_connection_, f.ts_ns, decoded_, *this);
    cutting_ = -1;
    return;
  }
  if (!agent_) return;

  // The main channel's messages go to the agent conversation as the store gives
  // them: decoded with the capabilities in force; bytes that could not be framed
  // are a loss.
  cutting_dir_ = f.dir;
  cutting_ = static_cast<int64_t>(frames.size() - 1);
  decode_codes_.clear();
  if (f.def && !f.def->is_link()) {
    decode::decode_frame({.def = f.def, .channel_type = s.channel_type, .dir = f.dir, .body = f.body, .sub_list = f.sub_list},
                         s.negotiated, decoded_);
  }
  agent_->on_frame(f, decoded_);
  cutting_ = -1;
}

void Connection::on_image(const display::ImageInfo& info, const image::Pixels* pixels) {
  if (cutting_ < 0) return;
  Dir& d = dirs_[idx(cutting_dir_)];
  FrameRecord& f = d.frames[static_cast<size_t>(cutting_)];
  ImageRecord r;
  r.frame = static_cast<uint32_t>(cutting_);
  r.info = info;
  // What `spice-capture images --export` writes: every image that yielded pixels.
  if (pixels) {
    if (const auto png = displays_->keep_png(*pixels, r.png_refused)) r.png = static_cast<int32_t>(*png);
  }
  f.has_images = true;
  d.images.push_back(std::move(r));
}

void Connection::on_problem(const framing::Problem& p, const framing::ChannelState&) {
  pending_.push_back(p);
  if (agent_) agent_->on_framing_problem(p);
}

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
                                   bool can_desegment, uint64_t ts_ns, uint32_t packet, Desegment& request) {
  Dir& d = dirs_[idx(dir)];
  CallRecord& rec = records_.emplace_back();
  rec.dir = dir;
  rec.base = base;
  request = {};
  const uint64_t end = base + reported;
  in_call_ = true;
  calling_dir_ = dir;

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
  in_call_ = false;
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
  for (uint32_t i = 0; i < count; ++i) frames[rec.first_frame + i].shown_in = packet;
  // Problems wait for a record that shows something (TCP does not call the
  // dissector again for a packet whose bytes all went back to it).
  if (!all_handed_back || rec.seen_before) {
    rec.problems = std::move(pending_), pending_.clear();
    rec.agent_notes = std::move(pending_agent_), pending_agent_.clear();
    attach_cross(rec, packet);
  }
  return rec;
}

// The other direction's frames cut during a call of this direction: their bytes
// went past in that direction's earlier tvbs (TCP keeps them, waiting for more),
// and that direction may send nothing more to show them with. The next record
// that shows something shows those not shown by then, once, from a copy.
void Connection::attach_cross(CallRecord& rec, uint32_t packet) {
  const Direction x = schema::opposite(rec.dir);
  Dir& other = dirs_[idx(x)];
  Cross& c = cross_[idx(x)];
  if (c.bytes.empty()) return;
  const uint32_t first = std::max(c.first, frame_at(x, other.shown));
  const auto n = static_cast<uint32_t>(other.frames.size());
  if (first < n) {
    const uint64_t start = other.frames[first].offset - other.frames[c.first].offset;
    rec.cross_first = first;
    rec.cross_count = n - first;
    rec.cross_bytes = static_cast<uint32_t>(cross_store_.size());
    cross_store_.emplace_back(c.bytes.begin() + static_cast<std::ptrdiff_t>(start), c.bytes.end());
    for (uint32_t i = first; i < n; ++i) other.frames[i].shown_in = packet;
    other.shown = std::max(other.shown, other.frames.back().end());
  }
  c.bytes.clear();
}

}  // namespace sc::wsplugin
