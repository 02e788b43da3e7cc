// Fuzzes stream framing: both directions of one connection, cut into chunks in
// any order and with gaps, through framing::ConnectionFramer, from the link stage
// or mid-session; every framed message is then decoded as the importer would.
//
// Why: the framer is the state machine that must never lose its place. Beyond
// "no crash", this checks frame.hpp's promise: every byte of a direction lies in
// exactly one frame, in order, with the bytes that were fed, except the bytes of
// a gap; the backlog it reports to the Wireshark plugin is what it still holds.
//
// Input: one options byte, then records.
//   options  bit 0 mid-session; bits 1-2 sniff window (64 KiB, 256, 2 KiB, 16 KiB);
//            bit 3 max message size 4 KiB instead of the default
//   record   control byte: bit 7 direction (1 = s2c), bit 6 gap, bits 0-5 length n,
//            where n = 63 means a 16-bit little-endian length follows; a data record
//            is followed by its n bytes, a gap record says n bytes were never captured
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "dissect/decode/decoder.hpp"
#include "dissect/decode/sub_messages.hpp"
#include "dissect/framing/connection_framer.hpp"

namespace {

using sc::framing::Direction;

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "fuzz_framing: %s\n", what.c_str());
  std::abort();
}

// One direction as fed: its bytes by stream offset (gaps hold nothing).
struct Stream {
  struct Piece {
    uint64_t at;
    std::vector<uint8_t> bytes;
  };
  std::deque<Piece> pieces;  // from the first byte not framed yet
  uint64_t end = 0;     // stream offset after everything fed and every gap
  uint64_t framed = 0;  // stream offset after the last frame

  bool matches(uint64_t at, std::span<const uint8_t> wire) const {
    for (const auto& p : pieces) {
      if (wire.empty()) return true;
      if (at < p.at) return false;  // the frame covers bytes of a gap
      if (at >= p.at + p.bytes.size()) continue;
      const size_t from = at - p.at;
      const size_t n = std::min(wire.size(), p.bytes.size() - from);
      if (!std::equal(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n), p.bytes.begin() + static_cast<std::ptrdiff_t>(from))) {
        return false;
      }
      wire = wire.subspan(n);
      at += n;
    }
    return wire.empty();
  }
};

class CheckingSink : public sc::framing::FrameSink {
 public:
  Stream streams[2];

  void on_frame(const sc::framing::Frame& f, const sc::framing::ChannelState& s) override {
    Stream& st = streams[static_cast<size_t>(f.dir)];
    if (f.stream_offset != st.framed) {
      broken("a frame starts at " + std::to_string(f.stream_offset) + ", the previous one ended at " +
             std::to_string(st.framed));
    }
    if (f.wire.empty()) broken("an empty frame");
    if (f.body.data() < f.wire.data() || f.body.data() + f.body.size() > f.wire.data() + f.wire.size()) {
      broken("a frame's body lies outside its wire bytes");
    }
    if (!st.matches(f.stream_offset, f.wire)) {
      broken("frame at " + std::to_string(f.stream_offset) + " does not hold the bytes fed there");
    }
    st.framed = f.stream_offset + f.wire.size();
    while (!st.pieces.empty() && st.pieces.front().at + st.pieces.front().bytes.size() <= st.framed) st.pieces.pop_front();
    if (!f.def) return;
    // Decoding as the importer does: with the state the framer negotiated.
    sc::decode::decode_message(*f.def, f.body, s.negotiated, decoded_);
    if (f.sub_list != 0 && !f.def->is_link()) {
      (void)sc::decode::decode_sub_messages(s.channel_type, f.dir, f.body, f.sub_list, s.negotiated);
    }
  }
  void on_problem(const sc::framing::Problem&, const sc::framing::ChannelState&) override {}

 private:
  sc::decode::DecodedMessage decoded_;
};

void check_backlog(const sc::framing::ConnectionFramer& framer, const CheckingSink& sink) {
  for (Direction d : {Direction::C2S, Direction::S2C}) {
    const auto b = framer.backlog(d);
    const Stream& st = sink.streams[static_cast<size_t>(d)];
    if (b.stream_offset != st.framed || b.stream_offset + b.bytes != st.end) {
      broken("backlog of " + std::string(sc::schema::direction_name(d)) + " says " + std::to_string(b.bytes) +
             " bytes from " + std::to_string(b.stream_offset) + "; framed up to " + std::to_string(st.framed) +
             ", fed up to " + std::to_string(st.end));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t opt = data[0];
  sc::framing::FramerOptions options;
  static constexpr size_t kSniff[4] = {64u << 10, 256, 2u << 10, 16u << 10};
  options.sniff_bytes = kSniff[(opt >> 1) & 3];
  if (opt & 8) options.max_message_size = 4096;

  CheckingSink sink;
  sc::framing::ConnectionFramer framer(sink, (opt & 1) != 0, options);
  size_t at = 1;
  uint64_t ts = 1'000'000;
  while (at < size) {
    const uint8_t c = data[at++];
    const Direction dir = (c & 0x80) ? Direction::S2C : Direction::C2S;
    size_t n = c & 0x3f;
    if (n == 63) {
      if (size - at < 2) break;
      n = data[at] | static_cast<size_t>(data[at + 1]) << 8;
      at += 2;
    }
    Stream& st = sink.streams[static_cast<size_t>(dir)];
    ts += 1000;
    if (c & 0x40) {
      if (n == 0) continue;
      framer.gap(dir, n, ts);
      if (st.framed != st.end) broken("bytes before a gap were left unframed");
      st.end += n;
      st.framed = st.end;
    } else {
      n = std::min(n, size - at);
      st.pieces.push_back({st.end, std::vector<uint8_t>(data + at, data + at + n)});
      st.end += n;
      framer.feed(dir, {data + at, n}, ts);
      at += n;
    }
    check_backlog(framer, sink);
  }
  framer.finish(ts + 1000);
  for (const auto& st : sink.streams) {
    if (st.framed != st.end) {
      broken("after finish, framed up to " + std::to_string(st.framed) + " of " + std::to_string(st.end) + " bytes");
    }
  }
  return 0;
}
