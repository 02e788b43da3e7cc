#include "dissect/decode/frame_decode.hpp"

#include <algorithm>

#include "dissect/decode/decoder.hpp"

namespace sc::decode {

void decode_frame(const FrameRef& frame, const NegotiatedCaps& caps, DecodedFrame& out) {
  out.has_subs = false;
  out.subs.items.clear();
  out.subs.diagnostics.clear();
  if (!frame.def) {
    out.own.clear();
    out.own_body = {};
    return;
  }
  static const NegotiatedCaps kNone;
  const NegotiatedCaps& used = frame.def->is_link() ? kNone : caps;
  out.own_body = frame.sub_list ? frame.body.first(std::min<size_t>(frame.sub_list, frame.body.size())) : frame.body;
  decode_message(*frame.def, out.own_body, used, out.own);
  if (frame.sub_list == 0) return;
  out.has_subs = true;
  out.subs = decode_sub_messages(frame.channel_type, frame.dir, frame.body, frame.sub_list, used);
}

void append_frame_json(const DecodedFrame& frame, std::string& out, const JsonOptions& options) {
  if (!frame.own.def) {
    out += "null";
    return;
  }
  const size_t start = out.size();
  append_json(frame.own, frame.own_body, out, options);
  if (!frame.has_subs) return;
  if (out.size() - start > 2) {
    out.pop_back();
    out += ",\"sub_messages\":";
  } else {
    out.resize(start);
    out += "{\"sub_messages\":";
  }
  append_sub_messages_json(frame.subs, out, options);
  out += '}';
}

void redact_frame(const DecodedFrame& frame, std::span<uint8_t> wire, size_t header_size,
                  schema::SecretMask classes) {
  redact_wire(frame.own, wire, header_size, classes);
  for (const auto& m : frame.subs.items) redact_wire(m.decoded, wire, header_size + m.offset, classes);
}

}  // namespace sc::decode
