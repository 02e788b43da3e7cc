// Stream framing: the link stage in both directions, both header kinds, gaps,
// resynchronisation and mid-session inference.
#include <gtest/gtest.h>

#include "dissect/framing/connection_framer.hpp"
#include "frame_recorder.hpp"
#include "wire_builder.hpp"

namespace {

using namespace sc::test;
using sc::framing::ConnectionFramer;
using sc::framing::HeaderKind;
using sc::schema::Direction;

Bytes inputs_key_down(uint32_t code) { return u32(code); }

// A whole inputs connection: link, auth selection, ticket, result, then messages.
void run_handshake(ConnectionFramer& fr, uint32_t client_common, uint32_t server_common) {
  fr.feed(Direction::C2S, client_link(SPICE_CHANNEL_INPUTS, 42, {client_common}), 1);
  fr.feed(Direction::S2C, server_reply(SPICE_LINK_ERR_OK, {server_common}), 2);
  Bytes auth = u32(SPICE_COMMON_CAP_AUTH_SPICE);
  append(auth, Bytes(128, 0x5a));
  fr.feed(Direction::C2S, auth, 3);
  fr.feed(Direction::S2C, u32(SPICE_LINK_ERR_OK), 4);
}

TEST(Framing, LinkStageThenMiniHeaders) {
  Recorder r;
  ConnectionFramer fr(r, false);
  run_handshake(fr, kAllCommon, kAllCommon);
  EXPECT_EQ(fr.state().header, HeaderKind::Mini);
  EXPECT_EQ(fr.state().connection_id, 42u);
  EXPECT_EQ(fr.state().channel_type, SPICE_CHANNEL_INPUTS);
  EXPECT_TRUE(fr.state().linked);
  EXPECT_EQ(fr.state().auth, "spice");
  // Two messages in one segment, then one split over two.
  Bytes two = data_message(HeaderKind::Mini, SPICE_MSGC_INPUTS_KEY_DOWN, inputs_key_down(0x1e));
  append(two, data_message(HeaderKind::Mini, SPICE_MSGC_INPUTS_KEY_UP, inputs_key_down(0x9e)));
  fr.feed(Direction::C2S, two, 5);
  Bytes split = data_message(HeaderKind::Mini, SPICE_MSGC_INPUTS_MOUSE_POSITION, Bytes(11, 0));
  fr.feed(Direction::C2S, {split.begin(), split.begin() + 3}, 6);
  fr.feed(Direction::C2S, {split.begin() + 3, split.end()}, 7);
  fr.finish(8);
  EXPECT_EQ(r.names(Direction::C2S),
            (std::vector<std::string>{"link.mess", "link.auth_mechanism", "link.ticket", "inputs.key_down",
                                      "inputs.key_up", "inputs.mouse_position"}));
  EXPECT_EQ(r.names(Direction::S2C), (std::vector<std::string>{"link.reply", "link.result"}));
  EXPECT_TRUE(r.problems.empty());
  // Every byte in exactly one frame: offsets are contiguous.
  uint64_t next = 0;
  for (const auto& f : r.frames) {
    if (f.dir != Direction::C2S) continue;
    EXPECT_EQ(f.offset, next);
    next += f.size;
  }
}

TEST(Framing, FullHeaderWhenOnlyOneSideOffersMini) {
  Recorder r;
  ConnectionFramer fr(r, false);
  run_handshake(fr, kAllCommon, kAllCommon & ~(1u << SPICE_COMMON_CAP_MINI_HEADER));
  EXPECT_EQ(fr.state().header, HeaderKind::Full);
  fr.feed(Direction::S2C, data_message(HeaderKind::Full, SPICE_MSG_INPUTS_INIT, Bytes{0, 0}, 1), 5);
  fr.finish(6);
  EXPECT_EQ(r.names(Direction::S2C).back(), "inputs.init");
}

TEST(Framing, NoAuthSelectionMeansTicketDirectly) {
  Recorder r;
  ConnectionFramer fr(r, false);
  const uint32_t no_select = 1u << SPICE_COMMON_CAP_AUTH_SPICE;
  fr.feed(Direction::C2S, client_link(SPICE_CHANNEL_MAIN, 0, {no_select}), 1);
  fr.feed(Direction::S2C, server_reply(SPICE_LINK_ERR_OK, {kAllCommon}), 2);
  fr.feed(Direction::C2S, Bytes(128, 1), 3);
  fr.feed(Direction::S2C, u32(SPICE_LINK_ERR_OK), 4);
  fr.finish(5);
  EXPECT_EQ(r.names(Direction::C2S), (std::vector<std::string>{"link.mess", "link.ticket"}));
  EXPECT_EQ(fr.state().header, HeaderKind::Full);
}

TEST(Framing, RefusedLinkStopsDecoding) {
  Recorder r;
  ConnectionFramer fr(r, false);
  fr.feed(Direction::C2S, client_link(SPICE_CHANNEL_DISPLAY, 7, {kAllCommon}), 1);
  fr.feed(Direction::S2C, server_reply(SPICE_LINK_ERR_BAD_CONNECTION_ID, {}), 2);
  fr.finish(3);
  ASSERT_TRUE(fr.state().link_error.has_value());
  EXPECT_EQ(*fr.state().link_error, SPICE_LINK_ERR_BAD_CONNECTION_ID);
  EXPECT_FALSE(fr.state().linked);
}

TEST(Framing, WrongPasswordIsAFailedResult) {
  Recorder r;
  ConnectionFramer fr(r, false);
  fr.feed(Direction::C2S, client_link(SPICE_CHANNEL_MAIN, 0, {kAllCommon}), 1);
  fr.feed(Direction::S2C, server_reply(SPICE_LINK_ERR_OK, {kAllCommon}), 2);
  Bytes auth = u32(SPICE_COMMON_CAP_AUTH_SPICE);
  append(auth, Bytes(128, 0));
  fr.feed(Direction::C2S, auth, 3);
  fr.feed(Direction::S2C, u32(SPICE_LINK_ERR_PERMISSION_DENIED), 4);
  fr.finish(5);
  EXPECT_EQ(*fr.state().link_error, SPICE_LINK_ERR_PERMISSION_DENIED);
  EXPECT_FALSE(fr.state().linked);
}

TEST(Framing, SaslExchangeIsFramed) {
  Recorder r;
  ConnectionFramer fr(r, false);
  const uint32_t sasl = kAllCommon | (1u << SPICE_COMMON_CAP_AUTH_SASL);
  fr.feed(Direction::C2S, client_link(SPICE_CHANNEL_MAIN, 0, {sasl}), 1);
  fr.feed(Direction::S2C, server_reply(SPICE_LINK_ERR_OK, {sasl}), 2);
  fr.feed(Direction::C2S, u32(SPICE_COMMON_CAP_AUTH_SASL), 3);
  Bytes mechs = u32(5);
  append(mechs, Bytes{'P', 'L', 'A', 'I', 'N'});
  fr.feed(Direction::S2C, mechs, 4);
  Bytes start = u32(5);
  append(start, Bytes{'P', 'L', 'A', 'I', 'N'});
  append(start, u32(3));
  append(start, Bytes{'a', 'b', 0});
  fr.feed(Direction::C2S, start, 5);
  Bytes reply = u32(0);
  reply.push_back(1);  // complete
  fr.feed(Direction::S2C, reply, 6);
  fr.feed(Direction::S2C, u32(SPICE_LINK_ERR_OK), 7);
  fr.finish(8);
  EXPECT_EQ(r.names(Direction::C2S), (std::vector<std::string>{"link.mess", "link.auth_mechanism", "link.sasl_start"}));
  EXPECT_EQ(r.names(Direction::S2C),
            (std::vector<std::string>{"link.reply", "link.sasl_mechlist", "link.sasl_start_reply", "link.result"}));
  EXPECT_EQ(fr.state().auth, "sasl");
  EXPECT_TRUE(fr.state().linked);
}

TEST(Framing, GapThenResynchronisation) {
  Recorder r;
  ConnectionFramer fr(r, false);
  run_handshake(fr, kAllCommon, kAllCommon);
  Bytes a = data_message(HeaderKind::Mini, SPICE_MSGC_INPUTS_KEY_DOWN, u32(1));
  Bytes lost = data_message(HeaderKind::Mini, SPICE_MSGC_INPUTS_KEY_UP, u32(1));
  Bytes rest;
  for (int i = 0; i < 4; ++i) append(rest, data_message(HeaderKind::Mini, SPICE_MSGC_INPUTS_KEY_DOWN, u32(i)));
  fr.feed(Direction::C2S, a, 5);
  fr.feed(Direction::C2S, {lost.begin(), lost.begin() + 4}, 6);  // half a message, then the rest is lost
  fr.gap(Direction::C2S, lost.size() - 4, 7);
  fr.feed(Direction::C2S, rest, 8);
  fr.finish(9);
  auto names = r.names(Direction::C2S);
  EXPECT_EQ(std::count(names.begin(), names.end(), "inputs.key_down"), 5);
  EXPECT_EQ(std::count(names.begin(), names.end(), "undecodable"), 1);
  bool saw_gap = false, saw_resync = false;
  for (const auto& p : r.problems) {
    saw_gap |= p.code == "gap";
    saw_resync |= p.code == "resync";
  }
  EXPECT_TRUE(saw_gap);
  EXPECT_TRUE(saw_resync);
}

TEST(Framing, MidSessionInfersChannelAndHeader) {
  Recorder r;
  ConnectionFramer fr(r, true);
  Bytes c2s, s2c;
  append(c2s, Bytes{0x00, 0x01, 0x02});  // the tail of a message cut by the capture start
  for (int i = 0; i < 6; ++i) {
    append(c2s, data_message(HeaderKind::Mini, SPICE_MSGC_INPUTS_MOUSE_MOTION, Bytes(10, 0)));
    append(s2c, data_message(HeaderKind::Mini, SPICE_MSG_INPUTS_MOUSE_MOTION_ACK, {}));
  }
  fr.feed(Direction::C2S, c2s, 1);
  fr.feed(Direction::S2C, s2c, 2);
  fr.finish(3);
  EXPECT_EQ(fr.state().channel_type, SPICE_CHANNEL_INPUTS);
  EXPECT_EQ(fr.state().header, HeaderKind::Mini);
  EXPECT_TRUE(fr.state().midstream);
  auto names = r.names(Direction::C2S);
  EXPECT_EQ(names.front(), "undecodable");
  EXPECT_EQ(std::count(names.begin(), names.end(), "inputs.mouse_motion"), 6);
}

TEST(Framing, GarbageIsKeptAsUndecodableBytes) {
  Recorder r;
  ConnectionFramer fr(r, false);
  Bytes junk(300, 0x41);
  fr.feed(Direction::C2S, junk, 1);
  fr.finish(2);
  size_t total = 0;
  for (const auto& f : r.frames) total += f.size;
  EXPECT_EQ(total, junk.size());
  ASSERT_FALSE(r.problems.empty());
  EXPECT_EQ(r.problems[0].code, "undecodable_stream");
}

// After a gap, a header-like pattern whose size will never arrive must not hold up
// the real messages behind it until the capture ends (a live consumer such as the
// Wireshark plugin never calls finish()).
TEST(Framing, ResynchronisationDoesNotWaitForAnImplausiblyLongMessage) {
  Recorder r;
  ConnectionFramer fr(r, false);
  run_handshake(fr, kAllCommon, kAllCommon);
  fr.feed(Direction::C2S, data_message(HeaderKind::Mini, SPICE_MSGC_INPUTS_KEY_DOWN, u32(1)), 5);
  fr.gap(Direction::C2S, 100, 6);
  Bytes after{0x11, 0x22};
  // migrate_data takes any size: 2 MB announced, a few bytes present.
  put_le(after, SPICE_MSGC_MIGRATE_DATA, 2);
  put_le(after, 2u << 20, 4);
  append(after, Bytes(5, 0x33));
  for (int i = 0; i < 8; ++i) append(after, data_message(HeaderKind::Mini, SPICE_MSGC_INPUTS_KEY_DOWN, u32(i)));
  fr.feed(Direction::C2S, after, 7);
  auto names = r.names(Direction::C2S);
  EXPECT_GE(std::count(names.begin(), names.end(), "inputs.key_down"), 8) << "framed only at finish()";
  fr.finish(8);
  names = r.names(Direction::C2S);
  EXPECT_EQ(std::count(names.begin(), names.end(), "inputs.key_down"), 9);
}

}  // namespace
