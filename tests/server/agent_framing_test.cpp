// The vdagent stream framing: chunking, reassembly across arbitrary splits,
// messages spanning chunks, several ports interleaved, and hostile headers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "qxl-sim/agent.hpp"
#include "qxl-sim/agent_framing.hpp"

namespace sc::qxl {
namespace {

std::vector<uint8_t> bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t(seed + i * 7);
  return v;
}

TEST(AgentFraming, LargeMessageIsCutIntoChunksAndReassembledAtAnySplit) {
  const auto data = bytes(5000, 3);
  const auto wire = frame_agent_message(VD_AGENT_FILE_XFER_DATA, data);
  // 5000 + 20 header bytes in 2040-byte chunk payloads: 3 chunks.
  EXPECT_EQ(wire.size(), 5020u + 3 * sizeof(VDIChunkHeader));
  for (size_t split : {size_t(1), size_t(3), size_t(8), size_t(9), size_t(2047), size_t(4000)}) {
    AgentDeframer d;
    std::vector<AgentMessage> out;
    for (size_t off = 0; off < wire.size(); off += split)
      ASSERT_TRUE(d.feed(std::span(wire).subspan(off, std::min(split, wire.size() - off)), out));
    ASSERT_EQ(out.size(), 1u) << "split " << split;
    EXPECT_EQ(out[0].type, uint32_t(VD_AGENT_FILE_XFER_DATA));
    EXPECT_EQ(out[0].port, uint32_t(VDP_CLIENT_PORT));
    EXPECT_EQ(out[0].data, data);
  }
}

TEST(AgentFraming, SeveralMessagesAndPortsInOneBuffer) {
  auto a = frame_agent_message(VD_AGENT_CLIPBOARD, bytes(10, 1), VDP_CLIENT_PORT);
  auto b = frame_agent_message(VD_AGENT_MOUSE_STATE, bytes(13, 2), VDP_SERVER_PORT);
  auto c = frame_agent_message(VD_AGENT_REPLY, {}, VDP_CLIENT_PORT);
  std::vector<uint8_t> all;
  for (auto* v : {&a, &b, &c}) all.insert(all.end(), v->begin(), v->end());
  AgentDeframer d;
  std::vector<AgentMessage> out;
  ASSERT_TRUE(d.feed(all, out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].port, uint32_t(VDP_SERVER_PORT));
  EXPECT_EQ(out[1].data.size(), 13u);
  EXPECT_TRUE(out[2].data.empty());
}

TEST(AgentFraming, BadProtocolAndOversizeAreReportedNotFatal) {
  auto wire = frame_agent_message(VD_AGENT_CLIPBOARD, bytes(4, 0));
  wire[sizeof(VDIChunkHeader)] = 7;  // protocol field
  AgentDeframer d;
  std::vector<AgentMessage> out;
  EXPECT_FALSE(d.feed(wire, out));
  EXPECT_NE(d.error().find("protocol 7"), std::string::npos);
  // The stream goes on: the next good message still decodes.
  auto good = frame_agent_message(VD_AGENT_CLIPBOARD, bytes(4, 0));
  EXPECT_TRUE(d.feed(good, out));
  EXPECT_EQ(out.size(), 1u);

  AgentDeframer small(100);
  auto big = frame_agent_message(VD_AGENT_CLIPBOARD, bytes(500, 0));
  EXPECT_FALSE(small.feed(big, out));
  EXPECT_NE(small.error().find("exceeds"), std::string::npos);
}

// The guest agent answers a capability announcement and reports a file.
TEST(GuestAgent, AnswersCapabilitiesAndReceivesAFile) {
  std::vector<uint8_t> sent;
  std::vector<std::string> events;
  GuestAgent::Options o;
  o.files_dir = testing::TempDir() + "/agent-files";
  GuestAgent agent(o, [&](const char* e, Json) { events.push_back(e); },
                   [&](std::vector<uint8_t> b) { sent.insert(sent.end(), b.begin(), b.end()); });
  std::vector<uint8_t> caps(8, 0);
  caps[0] = 1;                                                  // request
  caps[4] = uint8_t(1u << VD_AGENT_CAP_FILE_XFER_DETAILED_ERRORS % 8);
  agent.on_bytes(frame_agent_message(VD_AGENT_ANNOUNCE_CAPABILITIES, caps));
  AgentDeframer d;
  std::vector<AgentMessage> replies;
  d.feed(sent, replies);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, uint32_t(VD_AGENT_ANNOUNCE_CAPABILITIES));

  const std::string key = "[vdagent-file-xfer]\nname=../evil/name.txt\nsize=3\n";
  std::vector<uint8_t> start(4, 0);
  start[0] = 9;
  start.insert(start.end(), key.begin(), key.end());
  start.push_back(0);
  agent.on_bytes(frame_agent_message(VD_AGENT_FILE_XFER_START, start));
  std::vector<uint8_t> data(sizeof(VDAgentFileXferDataMessage), 0);
  data[0] = 9;
  data[4] = 3;
  data.insert(data.end(), {'a', 'b', 'c'});
  agent.on_bytes(frame_agent_message(VD_AGENT_FILE_XFER_DATA, data));
  EXPECT_NE(std::find(events.begin(), events.end(), "agent.file_saved"), events.end());
  // The name lost its directory part: nothing escapes files_dir.
  EXPECT_TRUE(std::filesystem::exists(o.files_dir + "/name.txt"));
  std::filesystem::remove_all(o.files_dir);
}

}  // namespace
}  // namespace sc::qxl
