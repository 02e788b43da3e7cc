#pragma once
// Builds SPICE wire bytes for unit tests with the project's own encoder, so tests
// state messages by name and fields rather than as hand-counted byte arrays.
#include <spice/enums.h>
#include <spice/protocol.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "dissect/decode/encoder.hpp"
#include "dissect/framing/frame.hpp"

namespace sc::test {

using Bytes = std::vector<uint8_t>;
using nlohmann::json;

inline Bytes encode(const schema::MessageDef* def, const json& fields) {
  if (!def) throw std::logic_error("no such message");
  auto r = decode::encode_message(*def, fields);
  if (!r) throw std::logic_error(r.error().message);
  return *r;
}

inline const schema::MessageDef* msg(uint8_t channel, schema::Direction d, uint16_t type) {
  return schema::Registry::spice().find(channel, d, type);
}

inline void append(Bytes& out, const Bytes& b) { out.insert(out.end(), b.begin(), b.end()); }

inline void put_le(Bytes& out, uint64_t v, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A link message or reply: the header's size is filled in from what follows it.
inline Bytes link(schema::LinkStep step, const json& body) {
  const auto& reg = schema::Registry::spice();
  json j = {{"header", {{"magic", SPICE_MAGIC}, {"major_version", 2}, {"minor_version", 2}, {"size", 0}}}};
  for (auto& [k, v] : body.items()) j[k] = v;
  Bytes b = encode(reg.link(step), j);
  const uint32_t size = static_cast<uint32_t>(b.size() - framing::kLinkHeaderSize);
  for (int i = 0; i < 4; ++i) b[12 + i] = static_cast<uint8_t>(size >> (8 * i));
  return b;
}

inline Bytes client_link(uint8_t channel_type, uint32_t connection_id, std::vector<uint32_t> common,
                         std::vector<uint32_t> channel = {}) {
  return link(schema::LinkStep::Mess,
              {{"mess", {{"connection_id", connection_id}, {"channel_type", channel_type}, {"channel_id", 0},
                         {"num_common_caps", common.size()}, {"num_channel_caps", channel.size()},
                         {"caps", {{"common_caps", common}, {"channel_caps", channel}}}}}});
}

inline Bytes server_reply(uint32_t error, std::vector<uint32_t> common, std::vector<uint32_t> channel = {}) {
  return link(schema::LinkStep::Reply,
              {{"reply", {{"error", error}, {"pub_key", std::string(2 * SPICE_TICKET_PUBKEY_BYTES, 'a')},
                          {"num_common_caps", common.size()}, {"num_channel_caps", channel.size()},
                          {"caps", {{"common_caps", common}, {"channel_caps", channel}}}}}});
}

inline Bytes u32(uint32_t v) {
  Bytes b;
  put_le(b, v, 4);
  return b;
}

// A data-stage message with a mini (6-byte) or full (18-byte) header.
inline Bytes data_message(framing::HeaderKind kind, uint16_t type, const Bytes& body, uint64_t serial = 1) {
  Bytes out;
  if (kind == framing::HeaderKind::Full) {
    put_le(out, serial, 8);
    put_le(out, type, 2);
    put_le(out, body.size(), 4);
    put_le(out, 0, 4);
  } else {
    put_le(out, type, 2);
    put_le(out, body.size(), 4);
  }
  append(out, body);
  return out;
}

constexpr uint32_t kAllCommon = (1u << SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION) | (1u << SPICE_COMMON_CAP_AUTH_SPICE) |
                                (1u << SPICE_COMMON_CAP_MINI_HEADER);

inline std::string hex(const Bytes& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) (s += kHex[c >> 4]) += kHex[c & 15];
  return s;
}

// The body of a display.draw_copy of a 3x2 image onto surface 0 at (0,0): the
// source image is `image_case` (the Image switch's case: "bitmap", "lz_rgb", ...,
// or none for the FROM_CACHE types) of `type`, with `fields` (its payload as
// "data" among them) in that case.
inline Bytes draw_copy(uint8_t type, const std::string& image_case, json fields, uint64_t id = 7,
                       uint8_t image_flags = 0) {
  json image = {{"descriptor", {{"id", id}, {"type", type}, {"flags", image_flags}, {"width", 3}, {"height", 2}}}};
  if (!image_case.empty()) image[image_case] = std::move(fields);
  json j = {
      {"base", {{"surface_id", 0}, {"box", {{"top", 0}, {"left", 0}, {"bottom", 2}, {"right", 3}}}, {"clip", {{"type", 0}}}}},
      {"data",
       {{"src_bitmap", std::move(image)},
        {"src_area", {{"top", 0}, {"left", 0}, {"bottom", 2}, {"right", 3}}},
        {"rop_descriptor", SPICE_ROPD_OP_PUT},
        {"scale_mode", 0},
        {"mask", {{"flags", 0}, {"pos", {{"x", 0}, {"y", 0}}}, {"bitmap", nullptr}}}}}};
  return encode(msg(SPICE_CHANNEL_DISPLAY, schema::Direction::S2C, SPICE_MSG_DISPLAY_DRAW_COPY), j);
}

}  // namespace sc::test
