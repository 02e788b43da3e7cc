// Fuzzes every message decoder of the description, both directions of every
// channel and the link steps, plus what consumes decoded messages: JSON and text
// rendering, wire redaction, sub-message lists and the encoder round trip.
//
// Why: a message body is the most hostile input the dissector sees (sizes, counts
// and pointers all come from the peer), and decode_message must hold the promise
// of decoder.hpp: never crash, keep every value inside the body, stop with a
// located diagnostic. append_json must give valid JSON for any decoded message,
// and a complete decode must encode back (the replayer depends on it).
//
// Input: a 16-byte selector, then the message body.
//   [0]      channel type (0 = link stage: [2..3] is then a LinkStep)
//   [1]      bit 0 direction (0 c2s, 1 s2c), bit 1 common caps on, bit 2 channel caps on
//   [2..3]   message type, little-endian
//   [4..7]   common capability word 0      [8..11] channel capability word 0
//   [12..15] sub-message list offset (0 = none)
// A selector that names no message picks one by its bytes, so every input decodes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "dissect/decode/decoder.hpp"
#include "dissect/decode/encoder.hpp"
#include "dissect/decode/json.hpp"
#include "dissect/decode/sub_messages.hpp"
#include "dissect/framing/frame.hpp"

namespace {

using sc::decode::DecodedMessage;
using sc::schema::Direction;
using sc::schema::Kind;
using sc::schema::MessageDef;
using sc::schema::Registry;

constexpr size_t kSelector = 16;
constexpr size_t kRoundTripMax = 16u << 10;  // larger bodies skip the (JSON-heavy) round trip

uint32_t le(const uint8_t* p, int width) {
  uint32_t v = 0;
  for (int i = 0; i < width; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

[[noreturn]] void broken(const MessageDef& def, const std::string& what) {
  std::fprintf(stderr, "fuzz_messages: %s: %s\n", def.full_name.c_str(), what.c_str());
  std::abort();
}

const MessageDef& pick_message(const Registry& reg, const uint8_t* sel) {
  const uint8_t channel = sel[0];
  const auto dir = (sel[1] & 1) ? Direction::S2C : Direction::C2S;
  const uint16_t type = static_cast<uint16_t>(le(sel + 2, 2));
  const MessageDef* def = channel == 0 ? reg.link(static_cast<sc::schema::LinkStep>(type))
                                       : reg.find(channel, dir, type);
  if (def) return *def;
  const auto all = reg.messages();
  return all[(channel * 131u + type * 7u + (sel[1] & 1)) % all.size()];
}

// What every consumer of DecodedMessage relies on (json.cpp indexes the body with these).
void check_values(const MessageDef& def, const DecodedMessage& m, std::span<const uint8_t> body) {
  const auto& reg = Registry::spice();
  for (size_t i = 0; i < m.values.size(); ++i) {
    const auto& v = m.values[i];
    if (v.end <= i || v.end > m.values.size()) broken(def, "value " + std::to_string(i) + " has a bad subtree end");
    if (v.parent != sc::decode::kNoValue && v.parent >= i) broken(def, "value " + std::to_string(i) + " precedes its parent");
    const Kind k = reg.node(v.node).type->kind;
    if ((k == Kind::Int || k == Kind::Bytes || k == Kind::Pointer) && (v.offset > body.size() || v.size > body.size() - v.offset)) {
      broken(def, reg.node(v.node).path + " lies outside the " + std::to_string(body.size()) + "-byte body");
    }
  }
}

nlohmann::json parse_or_die(const MessageDef& def, const std::string& text, const char* what) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) broken(def, std::string(what) + " is not valid JSON: " + text.substr(0, 200));
  return j;
}

// Text fields are JSON strings, and some text does not survive that (append_json
// drops a C string's NULs; bytes that are not UTF-8 may be replaced): such
// messages are left out of the round trip.
bool text_survives_json(const DecodedMessage& m, std::span<const uint8_t> body) {
  const auto& reg = Registry::spice();
  for (const auto& v : m.values) {
    const auto& t = *reg.node(v.node).type;
    if (t.kind != Kind::Bytes || !t.text) continue;
    const std::string raw(reinterpret_cast<const char*>(body.data()) + v.offset, v.size);
    if (raw.find('\0') != std::string::npos) return false;
    std::string quoted;
    sc::decode::append_json_string(quoted, raw);
    auto back = nlohmann::json::parse(quoted, nullptr, false);
    if (!back.is_string() || back.get_ref<const std::string&>() != raw) return false;
  }
  return true;
}

// A complete decode re-encodes, and the re-encoded bytes decode to the same fields.
void round_trip(const MessageDef& def, const nlohmann::json& fields, const sc::decode::NegotiatedCaps& caps) {
  auto bytes = sc::decode::encode_message(def, fields, caps);
  if (!bytes.ok()) broken(def, "a complete decode does not encode: " + bytes.error().message);
  DecodedMessage again;
  sc::decode::decode_message(def, *bytes, caps, again);
  if (!again.complete) broken(def, "the encoder's output does not decode completely");
  std::string text;
  sc::decode::append_json(again, *bytes, text, {.bytes_inline_limit = UINT32_MAX});
  if (parse_or_die(def, text, "re-decoded JSON") != fields) broken(def, "fields changed through encode and decode");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kSelector) return 0;
  const auto& reg = Registry::spice();
  const MessageDef& def = pick_message(reg, data);
  sc::decode::NegotiatedCaps caps;
  if (data[1] & 2) caps.common.words.push_back(le(data + 4, 4));
  if (data[1] & 4) caps.channel.words.push_back(le(data + 8, 4));
  const uint32_t sub_list = le(data + 12, 4);
  const std::span<const uint8_t> body(data + kSelector, size - kSelector);

  DecodedMessage m;
  sc::decode::decode_message(def, body, caps, m);
  check_values(def, m, body);

  std::string text;
  sc::decode::append_json(m, body, text);
  parse_or_die(def, text, "append_json");
  text.clear();
  sc::decode::append_json(m, body, text, {.bytes_inline_limit = 0, .redact = sc::schema::kSecretAll});
  parse_or_die(def, text, "redacted append_json");
  (void)sc::decode::to_text(m, body);

  // Redaction writes into a copy of the wire bytes (a mini header, then the body).
  std::vector<uint8_t> wire(sc::framing::kMiniHeaderSize, 0);
  wire.insert(wire.end(), body.begin(), body.end());
  sc::decode::redact_wire(m, wire, sc::framing::kMiniHeaderSize);

  if (!def.is_link() && sub_list != 0) {
    const auto subs = sc::decode::decode_sub_messages(def.channel_type, def.direction, body, sub_list, caps);
    for (const auto& s : subs.items) {
      if (s.offset > body.size() || s.body.size() > body.size() - s.offset) broken(def, "a sub-message lies outside the body");
      if (s.def) check_values(*s.def, s.decoded, s.body);
    }
    text.clear();
    sc::decode::append_sub_messages_json(subs, text, {});
    parse_or_die(def, text, "sub-message JSON");
  }

  if (m.complete && body.size() <= kRoundTripMax && text_survives_json(m, body)) {
    text.clear();
    sc::decode::append_json(m, body, text, {.bytes_inline_limit = UINT32_MAX});
    round_trip(def, parse_or_die(def, text, "inline append_json"), caps);
  }
  return 0;
}
