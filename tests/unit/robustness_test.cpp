// Hostile input never crashes, reads out of bounds (the ASan tree runs this) or
// loses bytes: random and mutated streams through the framer, random bodies
// through every message's decoder. Seeds are fixed, so failures reproduce.
#include <gtest/gtest.h>

#include <random>

#include "dissect/decode/decoder.hpp"
#include "dissect/decode/json.hpp"
#include "dissect/decode/sub_messages.hpp"
#include "dissect/framing/connection_framer.hpp"
#include "frame_recorder.hpp"
#include "wire_builder.hpp"

namespace {

using namespace sc::test;
using sc::framing::ConnectionFramer;
using sc::schema::Direction;

Bytes random_bytes(std::mt19937& rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

size_t total(const Recorder& r, Direction d) {
  size_t sum = 0;
  for (const auto& f : r.frames) if (f.dir == d) sum += f.size;
  return sum;
}

TEST(Robustness, EveryMessageDecoderSurvivesRandomBodies) {
  std::mt19937 rng(1234);
  sc::decode::DecodedMessage m;
  std::string json;
  for (const auto& def : sc::schema::Registry::spice().messages()) {
    for (int i = 0; i < 200; ++i) {
      const Bytes body = random_bytes(rng, rng() % 96);
      sc::decode::decode_message(def, body, {}, m);
      json.clear();
      sc::decode::append_json(m, body, json);
      ASSERT_FALSE(json.empty()) << def.full_name;
      for (const auto& v : m.values) ASSERT_LE(v.offset, body.size()) << def.full_name;
    }
  }
}

TEST(Robustness, SubMessageListsSurviveRandomBodies) {
  std::mt19937 rng(99);
  for (int i = 0; i < 20000; ++i) {
    const Bytes body = random_bytes(rng, 8 + rng() % 64);
    auto subs = sc::decode::decode_sub_messages(SPICE_CHANNEL_DISPLAY, Direction::S2C, body,
                                                static_cast<uint32_t>(rng() % body.size()), {});
    for (const auto& s : subs.items) ASSERT_LE(s.offset + s.body.size(), body.size());
  }
}

TEST(Robustness, FramerAccountsForEveryByteOfRandomStreams) {
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    Recorder r;
    ConnectionFramer fr(r, round % 3 == 0);
    Bytes c2s, s2c;
    if (round % 3 == 1) {  // a valid link stage, then garbage in the data stage
      c2s = client_link(SPICE_CHANNEL_DISPLAY, 1, {kAllCommon});
      s2c = server_reply(SPICE_LINK_ERR_OK, {kAllCommon});
      append(c2s, u32(SPICE_COMMON_CAP_AUTH_SPICE));
      append(c2s, Bytes(128, 1));
      append(s2c, u32(SPICE_LINK_ERR_OK));
    }
    append(c2s, random_bytes(rng, rng() % 3000));
    append(s2c, random_bytes(rng, rng() % 3000));
    // Fed in random slices, interleaved, with an occasional gap.
    size_t at[2] = {0, 0};
    uint64_t gaps[2] = {0, 0};
    const Bytes* streams[2] = {&c2s, &s2c};
    while (at[0] < c2s.size() || at[1] < s2c.size()) {
      const int d = (at[0] < c2s.size() && (at[1] >= s2c.size() || rng() % 2)) ? 0 : 1;
      const Bytes& b = *streams[d];
      const size_t n = std::min<size_t>(1 + rng() % 700, b.size() - at[d]);
      if (rng() % 40 == 0) {
        fr.gap(static_cast<Direction>(d), n, 1);
        gaps[d] += n;
      } else {
        fr.feed(static_cast<Direction>(d), {b.begin() + static_cast<std::ptrdiff_t>(at[d]),
                                            b.begin() + static_cast<std::ptrdiff_t>(at[d] + n)}, 1);
      }
      at[d] += n;
    }
    fr.finish(2);
    EXPECT_EQ(total(r, Direction::C2S) + gaps[0], c2s.size()) << "round " << round;
    EXPECT_EQ(total(r, Direction::S2C) + gaps[1], s2c.size()) << "round " << round;
  }
}

}  // namespace
