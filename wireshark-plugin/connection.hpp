#pragma once
// One SPICE connection as the Wireshark plugin sees it: the bytes TCP hands the
// dissector, cut into messages by the project's ConnectionFramer (the one framing
// state machine), and what each dissector call shows.
//
// Nothing here includes Wireshark: plugin.cpp turns tvbs and packet_info into
// calls of on_segment() and turns the records back into trees and columns.
//
// First pass (packets in capture order): on_segment() feeds the bytes that are new
// in the stream to the framer, picks the frames that lie completely inside the
// segment, and says which trailing bytes TCP must keep and present again (with how
// many more). The CallRecord is stored with the packet, so later visits (GUI
// random access, tshark -2) show exactly what the first pass showed.
//
// A main channel also runs the agent conversation (dissect/agent/conversation.hpp)
// over its frames, as the store does, in the same first pass: every main-channel
// frame goes to it as the framer cuts it (carrier id: the frame's stream offset,
// the store's), and what it reports (reassembled agent messages with their bytes,
// diagnostics) is kept here, attached to the frame being cut when it was reported.
//
// A display channel likewise runs its decoded frames through its session's
// DisplayState (images.hpp) as the framer cuts them, and keeps an ImageRecord per
// image reported, with the frame that carried it.
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dissect/agent/conversation.hpp"
#include "dissect/decode/frame_decode.hpp"
#include "dissect/framing/connection_framer.hpp"
#include "wireshark-plugin/images.hpp"

namespace sc::wsplugin {

using schema::Direction;

// One message, or a run of bytes that could not be framed, as the framer cut it.
struct FrameRecord {
  uint64_t offset = 0;   // stream offset of its first byte
  uint32_t wire_size = 0;
  uint32_t sub_list = 0;  // full header: offset of the sub-message list, 0 = none
  uint64_t serial = 0;
  const schema::MessageDef* def = nullptr;  // null: unknown type or undecodable bytes
  uint32_t caps = 0;       // index of the negotiated capabilities in force (Connection::caps)
  uint16_t type = 0;       // wire type; 0 for link steps and undecodable bytes
  uint8_t header_size = 0;
  uint8_t channel_type = 0;  // as known when the frame was cut
  bool undecodable : 1 = false;
  bool has_serial : 1 = false;
  bool has_images : 1 = false;  // its decoding reported images (Connection::images_of)
  uint16_t agent_items = 0;  // agent messages and diagnostics reported while it was cut (Connection::agent_items)
  uint32_t shown_in = 0;     // the packet (frame number) whose tree shows it; 0 = none
  uint64_t end() const { return offset + wire_size; }
};

// What the agent conversation of a main channel reported: one reassembled agent
// message, or one diagnostic.
struct AgentItem {
  bool is_message = false;
  Direction dir = Direction::C2S;  // the agent message's (or diagnostic's) direction
  // A message: its header and bytes (header + body, as reassembled; the header
  // alone when the body was too large to keep), decoded later with caps.
  agent::Header header;
  const schema::MessageDef* def = nullptr;  // agent.* for a known type whose body was kept
  uint32_t caps = 0;                        // index into Connection::agent_caps
  agent::Span span;                         // carriers: main.agent_data stream offsets
  std::vector<uint8_t> bytes;
  // A diagnostic.
  decode::Severity severity = decode::Severity::Info;
  std::string code, text;
  uint64_t carrier = 0;     // stream offset of the main-channel message that showed it (0: none)
  bool in_fields = false;   // a decoder diagnostic of the message before it: shown with its fields
};

// What one dissector call (one tvb of one direction) shows.
struct CallRecord {
  Direction dir = Direction::C2S;
  uint64_t base = 0;             // stream offset of the tvb's first byte
  uint32_t first_frame = 0;      // frames [first_frame, first_frame + frame_count) of `dir`
  uint32_t frame_count = 0;
  int64_t held_from = -1;        // tvb offset of bytes not framed yet (-1: none)
  bool handed_back = false;      // ... and TCP was asked to present them again
  bool seen_before = false;      // nothing new: every byte had reached the framer already
  std::vector<framing::Problem> problems;  // framing problems noticed since the last record shown
  std::vector<uint32_t> agent_notes;       // agent diagnostics reported outside any frame (capture gaps), likewise
  // Frames of the other direction the framer cut during this call or an earlier one
  // (it waited for this direction: mid-session inference, link steps) and that were
  // not shown since; their bytes went past in earlier tvbs, so the record shows them
  // from a copy (Connection::cross_bytes).
  uint32_t cross_first = 0, cross_count = 0, cross_bytes = 0;
  uint8_t channel_type = 0;                // the connection as known after this call
  uint8_t channel_id = 0;
  framing::HeaderKind header = framing::HeaderKind::Unknown;

  // A record whose bytes all went back to TCP, with nothing to report, adds no tree.
  bool shows_something() const {
    return frame_count > 0 || cross_count > 0 || !problems.empty() || !agent_notes.empty() || seen_before ||
           !(held_from == 0 && handed_back);
  }
};

// What the dissector asks of TCP reassembly after a call.
struct Desegment {
  bool wanted = false;
  uint32_t offset = 0;     // tvb offset of the first byte to keep
  uint32_t more = 0;       // bytes needed beyond the tvb; 0 = unknown (one more segment)
};

class Connection : private framing::FrameSink, private agent::Listener, private ImageSink {
 public:
  // `displays` (null: no image decoding) gives a display channel its session's state.
  Connection(bool midstream, framing::FramerOptions options, DisplaySessions* displays = nullptr);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The stream offset of a TCP sequence number in `dir` (the first call of a
  // direction is offset 0); negative for bytes before that.
  int64_t offset_of(Direction dir, uint32_t seq);

  // First pass. `bytes` are the captured bytes of a tvb that starts at stream
  // offset `base` and reports `reported` bytes (more than captured when the
  // capture cut packets short). `packet` is the frame number of the call (the
  // frames it shows remember it). The returned record's address stays valid for
  // the life of the connection.
  CallRecord& on_segment(Direction dir, uint64_t base, std::span<const uint8_t> bytes, uint64_t reported,
                         bool can_desegment, uint64_t ts_ns, uint32_t packet, Desegment& request);

  // First pass, bytes from before the first ones `dir` started with (an old
  // retransmission or reordering): nothing to frame, nothing changes.
  CallRecord& stale(Direction dir);

  const FrameRecord& frame(Direction dir, uint32_t index) const { return dirs_[idx(dir)].frames[index]; }
  uint32_t frame_count(Direction dir) const { return static_cast<uint32_t>(dirs_[idx(dir)].frames.size()); }
  // The first frame of `dir` at or after stream offset `at`.
  uint32_t frame_at(Direction dir, uint64_t at) const;
  // The agent items reported while frame `index` of `dir` was cut: [first, first + count).
  uint32_t first_agent_item(Direction dir, uint32_t index) const;
  const AgentItem& agent_item(uint32_t i) const { return agent_items_[i]; }
  // The wire bytes of a record's cross frames, in stream order (CallRecord::cross_bytes).
  const std::vector<uint8_t>& cross_bytes(uint32_t index) const { return cross_store_[index]; }
  const decode::NegotiatedCaps& agent_caps(uint32_t index) const { return agent_caps_[index]; }
  // The images frame `index` of `dir` carried (empty unless it has_images), in the
  // order its decoding reported them.
  std::span<const ImageRecord> images_of(Direction dir, uint32_t index) const;
  const DisplaySessions* displays() const { return displays_; }
  const decode::NegotiatedCaps& caps(uint32_t index) const { return caps_[index]; }
  const framing::ChannelState& state() const { return framer_.state(); }
  bool midstream() const { return midstream_; }

 private:
  static size_t idx(Direction d) { return static_cast<size_t>(d); }
  void on_frame(const framing::Frame& f, const framing::ChannelState& s) override;
  void on_problem(const framing::Problem& p, const framing::ChannelState& s) override;
  void on_channel_known(const framing::ChannelState& s) override;
  void on_agent_message(const agent::AgentMessageEvent& e) override;
  void on_diagnostic(const agent::AgentDiagnostic& d) override;
  void on_image(const display::ImageInfo& info, const image::Pixels* pixels) override;
  uint32_t add_agent_item(AgentItem item);
  void attach_cross(CallRecord& rec, uint32_t packet);

  struct Dir {
    std::vector<FrameRecord> frames;  // in stream order
    bool started = false;
    uint32_t last_seq = 0;
    int64_t last_offset = 0;
    uint64_t fed = 0;     // bytes of the stream given to the framer (or skipped as a gap)
    uint64_t shown = 0;   // end of the last frame a record shows
    bool holding = false;  // TCP keeps bytes from hold_start for us
    uint64_t hold_start = 0;
    std::vector<std::pair<uint32_t, uint32_t>> agent_index;  // (frame index, first agent item), frames with items
    std::vector<ImageRecord> images;  // by frame, in the order reported
  };

  bool midstream_;
  std::vector<decode::NegotiatedCaps> caps_;
  std::vector<framing::Problem> pending_;  // reported, not yet attached to a shown record
  Dir dirs_[2];
  std::deque<CallRecord> records_;
  // The agent conversation (main channels only), what it reported, and the frame
  // being cut while it reports (-1: none, e.g. a capture gap).
  std::unique_ptr<agent::Conversation> agent_;
  std::deque<AgentItem> agent_items_;
  std::vector<decode::NegotiatedCaps> agent_caps_;
  std::vector<uint32_t> pending_agent_;  // items reported outside a frame, not yet attached to a shown record
  decode::DecodedFrame decoded_;  // scratch: the main-channel frame the conversation is given, or the
                                 // display frame the display state is given
  std::vector<std::string> decode_codes_;  // decoder diagnostics of the last message, still to come as diagnostics
  Direction cutting_dir_ = Direction::C2S;
  int64_t cutting_ = -1;
  // During on_segment: the call's direction, and the other direction's frames'
  // bytes as the framer cuts them.
  bool in_call_ = false;
  Direction calling_dir_ = Direction::C2S;
  struct Cross {
    uint32_t first = 0;          // frames [first, end) of that direction, not shown yet
    std::vector<uint8_t> bytes;  // their wire bytes
  };
  Cross cross_[2];                              // by the frames' direction
  // Display channels: the capture file's display states, this channel's session's
  // state (once the channel is known), its DisplayState connection id.
  DisplaySessions* displays_ = nullptr;
  DisplayFeed* display_ = nullptr;
  uint32_t display_connection_ = 0;
  std::deque<std::vector<uint8_t>> cross_store_;  // what records show (CallRecord::cross_bytes)
  framing::ConnectionFramer framer_;  // last: it reports into the members above
};

}  // namespace sc::wsplugin
