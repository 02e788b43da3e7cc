#pragma once
// Decoding one framed message: the single rule every consumer follows (import,
// the SQL functions of the store, the benchmarks, the Wireshark plugin).
//
// A frame's own fields end where its sub-message list begins (full headers only);
// the list's entries are decoded with the same channel and capabilities; link-stage
// steps are decoded without capabilities. Pure: the result depends only on the
// arguments. Diagnostics keep body-relative offsets; wire_offset() adds the header.
#include <span>
#include <string>

#include "dissect/decode/decoded.hpp"
#include "dissect/decode/json.hpp"
#include "dissect/decode/sub_messages.hpp"

namespace sc::decode {

struct FrameRef {
  const schema::MessageDef* def = nullptr;  // null: nothing to decode
  uint8_t channel_type = 0;
  schema::Direction dir = schema::Direction::C2S;
  std::span<const uint8_t> body;
  uint32_t sub_list = 0;  // offset of the sub-message list in the body, 0 = none
};

struct DecodedFrame {
  DecodedMessage own;                 // the message's own fields
  std::span<const uint8_t> own_body;  // the part of the body they were decoded from
  SubMessages subs;                   // only with a sub-message list
  bool has_subs = false;

  // Every diagnostic of the frame, own and sub-messages', with its offset in the body.
  template <typename Fn>
  void for_each_diagnostic(Fn&& fn) const {
    for (const auto& d : own.diagnostics) fn(d, d.offset);
    for (const auto& d : subs.diagnostics) fn(d, d.offset);
    for (const auto& m : subs.items) {
      for (const auto& d : m.decoded.diagnostics) fn(d, m.offset + d.offset);
    }
  }
};

void decode_frame(const FrameRef& frame, const NegotiatedCaps& caps, DecodedFrame& out);

// The frame's fields as one JSON object (sub-messages under "sub_messages").
void append_frame_json(const DecodedFrame& frame, std::string& out, const JsonOptions& options = {});

// Blanks every secret field of `classes` in `wire` (the body starts at header_size).
void redact_frame(const DecodedFrame& frame, std::span<uint8_t> wire, size_t header_size,
                  schema::SecretMask classes = schema::kSecretAll);

}  // namespace sc::decode
