// Fuzzes the audio state: a session's playback, record and main messages,
// decoded by the description and applied as `audio` and `audio export` apply
// them (formats, modes, Opus packets through libopus, CELT as silence, the
// timeline with its gaps and re-anchoring, latency and drift), with capture
// losses between them. Every data body is also decoded as an Opus packet on
// its own, so libopus sees the packets whatever mode the input sets.
//
// Why: sizes, rates, channel counts and timestamps come from a peer (or a
// capture) that can say anything; they turn into allocations, loops and
// silence lengths. Every one must stay within the limits, and what the
// listener is handed must add up to what the streams count.
//
// Input: records of [flags u8][type u16 LE][length u16 LE][body]. flags bits
// 0-1: 0 main, 1 playback, 2 record, 3 a capture loss (the flags byte alone;
// bit 2 picks playback or record); bit 2: server to client; bit 3: the second
// connection of that kind; bits 4-7: capture time passing before it, 1 ms +
// 7 ms each. The type is the message type in that direction, taken modulo the
// known ones when unknown.
#include <spice/enums.h>

#include <cstdint>
#include <map>
#include <span>

#include "dissect/audio/audio_state.hpp"
#include "dissect/decode/decoder.hpp"

namespace {

using sc::schema::Direction;

const sc::schema::MessageDef* pick(uint8_t channel, Direction d, uint16_t type) {
  const auto& reg = sc::schema::Registry::spice();
  if (const auto* def = reg.find(channel, d, type)) return def;
  std::vector<const sc::schema::MessageDef*> all;
  for (const auto& m : reg.messages()) {
    if (m.channel_type == channel && m.direction == d) all.push_back(&m);
  }
  return all.empty() ? nullptr : all[type % all.size()];
}

// Adds up what the state hands on, per stream.
class Totals : public sc::audio::AudioListener {
 public:
  struct Seen {
    uint64_t samples = 0, silence = 0;
    uint32_t channels = 0;
    bool begun = false;
  };
  std::map<std::tuple<uint32_t, int, uint32_t>, Seen> seen;
  static std::tuple<uint32_t, int, uint32_t> key(const sc::audio::Stream& s) {
    return {s.connection, static_cast<int>(s.kind), s.index};
  }
  void on_stream(const sc::audio::Stream& s) override {
    Seen& x = seen[key(s)];
    if (x.begun || s.channels == 0 || s.frequency == 0) __builtin_trap();
    x.begun = true;
    x.channels = s.channels;
  }
  void on_pcm(const sc::audio::Stream& s, std::span<const int16_t> samples) override {
    Seen& x = seen[key(s)];
    if (!x.begun || samples.size() % x.channels) __builtin_trap();
    x.samples += samples.size();
  }
  void on_silence(const sc::audio::Stream& s, uint64_t frames) override {
    Seen& x = seen[key(s)];
    if (!x.begun) __builtin_trap();
    x.silence += frames;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sc::audio::Limits limits;
  limits.max_stream_frames = 48000 * 20;  // small caps keep each run quick
  limits.max_packet_frames = 48000;
  Totals totals;
  sc::audio::AudioState state(limits, &totals);
  auto opus = sc::audio::PcmDecoder::make(sc::audio::Mode::Opus, 2, 48000);
  if (!opus) __builtin_trap();
  std::vector<int16_t> pcm;
  sc::decode::DecodedMessage message;
  const sc::decode::NegotiatedCaps caps;
  uint64_t ts = 0;
  size_t at = 0;
  while (at + 1 <= size) {
    const uint8_t flags = data[at++];
    const uint32_t second = (flags >> 3) & 1;
    ts += 1'000'000 + (flags >> 4) * 7'000'000ull;  // time passes: 1 ms, up to 106 ms
    if ((flags & 3) == 3) {
      state.capture_lost(1 + (flags >> 2 & 1) + 2 * second, ts);
      continue;
    }
    if (at + 4 > size) break;
    const auto type = static_cast<uint16_t>(data[at] | data[at + 1] << 8);
    size_t len = static_cast<size_t>(data[at + 2] | data[at + 3] << 8);
    at += 4;
    if (len > size - at) len = size - at;
    const std::span<const uint8_t> body(data + at, len);
    at += len;
    static constexpr uint8_t kChannels[] = {SPICE_CHANNEL_MAIN, SPICE_CHANNEL_PLAYBACK, SPICE_CHANNEL_RECORD};
    const uint8_t channel = kChannels[flags & 3];
    const auto* def = pick(channel, (flags & 4) ? Direction::S2C : Direction::C2S, type);
    if (!def) continue;
    message.clear();
    sc::decode::decode_message(*def, body, caps, message);
    // Connections: playback 1 and 3, record 2 and 4, main 10 and 11.
    const uint32_t conn = (flags & 3) == 0 ? 10 + second : (flags & 3) + 2 * second;
    state.apply(conn, ts, message, body);
    if (def->name == "data") {
      if (const auto* v = message.find(def->full_name + ".data")) {
        if (v->offset <= body.size() && v->size <= body.size() - v->offset) {
          pcm.clear();
          auto r = opus->decode(body.subspan(v->offset, v->size), pcm, limits.max_packet_frames);
          if (r && pcm.size() != size_t{r->frames} * 2) __builtin_trap();
        }
      }
    }
  }
  state.finish();
  for (const auto& s : state.streams()) {
    if (s.frames() > limits.max_stream_frames) __builtin_trap();
    const auto it = totals.seen.find(Totals::key(s));
    const Totals::Seen none;
    const Totals::Seen& x = it == totals.seen.end() ? none : it->second;
    if (x.samples != s.decoded_frames * (x.begun ? x.channels : 0) && !(s.decoded_frames == 0 && x.samples == 0)) {
      __builtin_trap();
    }
    if (x.silence != s.silence_frames) __builtin_trap();
  }
  return 0;
}
