#pragma once
// Frames and channel state: what stream framing hands to its consumers.
//
// A Frame is one message as it sat on the wire (header + body), or a run of bytes
// that could not be framed. Every byte of a stream lies in exactly one frame,
// except bytes a capture never saw (gaps, reported as problems).
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "dissect/decode/decoded.hpp"
#include "dissect/schema/registry.hpp"

namespace sc::framing {

using schema::Direction;

enum class HeaderKind : uint8_t { Unknown, Full, Mini };
std::string_view header_kind_name(HeaderKind k);

inline constexpr size_t kFullHeaderSize = 18;  // serial u64, type u16, size u32, sub_list u32
inline constexpr size_t kMiniHeaderSize = 6;   // type u16, size u32
inline constexpr size_t kLinkHeaderSize = 16;  // magic, major, minor, size

struct Frame {
  Direction dir = Direction::C2S;
  uint64_t ts_ns = 0;              // capture time of the packet that completed the frame
  uint64_t stream_offset = 0;      // position of the first byte in this direction's stream
  std::span<const uint8_t> wire;   // header + body exactly as captured
  std::span<const uint8_t> body;   // the message body (for link steps, the whole wire)
  const schema::MessageDef* def = nullptr;  // null: unknown type, or undecodable bytes
  uint16_t type = 0;               // wire type (0 for link steps and undecodable bytes)
  std::optional<uint64_t> serial;  // full header only
  uint32_t sub_list = 0;           // full header only: offset of the sub-message list, 0 = none
  bool undecodable = false;        // bytes skipped while resynchronising, or after a failed link
};

struct ChannelState {
  uint32_t connection_id = 0;
  uint8_t channel_type = 0;
  uint8_t channel_id = 0;
  bool linked = false;            // link stage finished successfully
  bool midstream = false;         // no link stage seen: type and header kind were inferred
  std::optional<uint32_t> link_error;
  std::string auth;               // "spice", "sasl" or "" (none seen)
  decode::CapSet client_common, client_channel, server_common, server_channel;
  decode::NegotiatedCaps negotiated;
  HeaderKind header = HeaderKind::Unknown;
};

// The code of the problem that says bytes of a direction were lost (a capture gap).
inline constexpr std::string_view kGapCode = "gap";

struct Problem {
  decode::Severity severity = decode::Severity::Error;
  std::string code;
  Direction dir = Direction::C2S;
  uint64_t stream_offset = 0;
  uint64_t ts_ns = 0;
  std::string text;
  bool is_gap() const { return code == kGapCode; }
};

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void on_frame(const Frame& frame, const ChannelState& state) = 0;
  virtual void on_problem(const Problem& problem, const ChannelState& state) = 0;
  // The link stage finished (or the channel type was inferred mid-stream).
  virtual void on_channel_known(const ChannelState&) {}
};

}  // namespace sc::framing
