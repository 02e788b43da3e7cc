// Fuzzes the display state: a sequence of display-channel messages, decoded by the
// description and applied as `render` applies them (surfaces made and destroyed,
// every draw command with hostile rectangles, clips, masks, glyphs and paths,
// images through every codec and the caches, streams).
//
// Why: coordinates, sizes and counts in draw commands come from a server (or a
// capture) that can say anything; the canvas turns them into loops and
// allocations. Every one must stay within the surfaces and the budgets.
//
// Input: records of [dir u8][type u16 LE][length u16 LE][body]. dir bit 0: 1 server
// to client, 0 client to server (display.init names the caches); the type is
// the message type in that direction, taken modulo the known ones when unknown.
#include <spice/enums.h>

#include <cstdint>
#include <span>

#include "dissect/decode/decoder.hpp"
#include "dissect/display/display_state.hpp"

namespace {

using sc::schema::Direction;

const sc::schema::MessageDef* pick(uint8_t dir, uint16_t type) {
  const auto& reg = sc::schema::Registry::spice();
  const Direction d = (dir & 1) ? Direction::S2C : Direction::C2S;
  if (const auto* def = reg.find(SPICE_CHANNEL_DISPLAY, d, type)) return def;
  std::vector<const sc::schema::MessageDef*> all;
  for (const auto& m : reg.messages()) {
    if (m.channel_type == SPICE_CHANNEL_DISPLAY && m.direction == d) all.push_back(&m);
  }
  return all.empty() ? nullptr : all[type % all.size()];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sc::display::DisplayOptions options;
  // Small caps keep each run quick; the budgets scale with them.
  options.limits.max_side = 2048;
  options.limits.max_pixels = 1u << 20;
  sc::display::DisplayState state(options);
  sc::decode::DecodedMessage message;
  const sc::decode::NegotiatedCaps caps;
  uint64_t ts = 0;
  size_t at = 0;
  while (at + 5 <= size) {
    const uint8_t dir = data[at];
    const auto type = static_cast<uint16_t>(data[at + 1] | data[at + 2] << 8);
    size_t len = static_cast<size_t>(data[at + 3] | data[at + 4] << 8);
    at += 5;
    if (len > size - at) len = size - at;
    const std::span<const uint8_t> body(data + at, len);
    at += len;
    const auto* def = pick(dir, type);
    if (!def) continue;
    message.clear();
    sc::decode::decode_message(*def, body, caps, message);
    state.apply(dir >> 1 & 1, ts += 1000, message, body);
  }
  for (const auto& s : state.surfaces()) {
    if (s.surface->pixels().data.size() != size_t{s.surface->width()} * s.surface->height()) __builtin_trap();
  }
  return 0;
}
