// ConnectionFramer::backlog(): what the plugin asks Wireshark's TCP reassembly for.
// The framer is the one place that knows where a message ends; backlog() tells a
// consumer that reassembles TCP itself where the unframed bytes begin and how
// many more would complete the next frame.
#include <gtest/gtest.h>

#include "frame_recorder.hpp"
#include "wire_builder.hpp"
#include "dissect/framing/connection_framer.hpp"

namespace {

using namespace sc::test;
using sc::framing::ConnectionFramer;
using sc::framing::HeaderKind;
using sc::schema::Direction;


Bytes slice(const Bytes& b, size_t from, size_t to) { return {b.begin() + from, b.begin() + to}; }

TEST(Backlog, LinkStageAndDataStageAnnounceWhatTheyNeed) {
  Recorder sink;
  ConnectionFramer fr(sink, false);
  const Bytes mess = client_link(SPICE_CHANNEL_INPUTS, 7, {kAllCommon});
  // Half a link header: the rest of the 16 bytes first.
  fr.feed(Direction::C2S, slice(mess, 0, 10), 1);
  auto b = fr.backlog(Direction::C2S);
  EXPECT_EQ(b.stream_offset, 0u);
  EXPECT_EQ(b.bytes, 10u);
  EXPECT_EQ(b.wanted, 6u);
  // The header is there: the whole link message is known.
  fr.feed(Direction::C2S, slice(mess, 10, 20), 2);
  b = fr.backlog(Direction::C2S);
  EXPECT_EQ(b.bytes, 20u);
  EXPECT_EQ(b.wanted, mess.size() - 20);
  fr.feed(Direction::C2S, slice(mess, 20, mess.size()), 3);
  EXPECT_EQ(fr.backlog(Direction::C2S).bytes, 0u);
  EXPECT_EQ(fr.backlog(Direction::C2S).stream_offset, mess.size());

  fr.feed(Direction::S2C, server_reply(SPICE_LINK_ERR_OK, {kAllCommon}), 4);
  Bytes auth = u32(SPICE_COMMON_CAP_AUTH_SPICE);
  append(auth, Bytes(128, 0x5a));
  fr.feed(Direction::C2S, auth, 5);
  // Two bytes of the link result: two more.
  fr.feed(Direction::S2C, slice(u32(SPICE_LINK_ERR_OK), 0, 2), 6);
  EXPECT_EQ(fr.backlog(Direction::S2C).wanted, 2u);
  fr.feed(Direction::S2C, slice(u32(SPICE_LINK_ERR_OK), 2, 4), 7);
  ASSERT_EQ(fr.state().header, HeaderKind::Mini);

  // Data stage: a partial mini header, then a header announcing its body.
  const Bytes key = data_message(HeaderKind::Mini, SPICE_MSGC_INPUTS_KEY_DOWN, u32(0x1e));
  const uint64_t at = fr.backlog(Direction::C2S).stream_offset;
  fr.feed(Direction::C2S, slice(key, 0, 4), 8);
  b = fr.backlog(Direction::C2S);
  EXPECT_EQ(b.stream_offset, at);
  EXPECT_EQ(b.wanted, 2u);
  fr.feed(Direction::C2S, slice(key, 4, 7), 9);
  EXPECT_EQ(fr.backlog(Direction::C2S).wanted, key.size() - 7);
  const int before = static_cast<int>(sink.frames.size());
  fr.feed(Direction::C2S, slice(key, 7, key.size()), 10);
  EXPECT_EQ(static_cast<int>(sink.frames.size()), before + 1);
  EXPECT_EQ(fr.backlog(Direction::C2S).bytes, 0u);
}

TEST(Backlog, UnknownWhileInferringAMidSessionChannel) {
  Recorder sink;
  ConnectionFramer fr(sink, true);
  fr.feed(Direction::C2S, data_message(HeaderKind::Mini, SPICE_MSGC_INPUTS_KEY_DOWN, u32(0x1e)), 1);
  const auto b = fr.backlog(Direction::C2S);
  EXPECT_GT(b.bytes, 0u);
  EXPECT_EQ(b.wanted, 0u);  // only more bytes (up to sniff_bytes) will tell
}

}  // namespace
