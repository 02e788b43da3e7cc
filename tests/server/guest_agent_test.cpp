// The simulated guest agent on its virtio port (chunked agent stream; the
// stream itself is tested with dissect/agent in tests/unit/agent_stream_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "qxl-sim/agent.hpp"
#include "dissect/agent/chunk_stream.hpp"

namespace sc::qxl {
namespace {

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
  agent.on_bytes(agent::frame_message(VD_AGENT_ANNOUNCE_CAPABILITIES, caps));
  agent::ChunkStream d;
  agent::ChunkStream::Output replies;
  d.feed(sent, replies);
  ASSERT_EQ(replies.messages.size(), 1u);
  EXPECT_EQ(replies.messages[0].second.header.type, uint32_t(VD_AGENT_ANNOUNCE_CAPABILITIES));

  const std::string key = "[vdagent-file-xfer]\nname=../evil/name.txt\nsize=3\n";
  std::vector<uint8_t> start(4, 0);
  start[0] = 9;
  start.insert(start.end(), key.begin(), key.end());
  start.push_back(0);
  agent.on_bytes(agent::frame_message(VD_AGENT_FILE_XFER_START, start));
  std::vector<uint8_t> data(sizeof(VDAgentFileXferDataMessage), 0);
  data[0] = 9;
  data[4] = 3;
  data.insert(data.end(), {'a', 'b', 'c'});
  agent.on_bytes(agent::frame_message(VD_AGENT_FILE_XFER_DATA, data));
  EXPECT_NE(std::find(events.begin(), events.end(), "agent.file_saved"), events.end());
  // The name lost its directory part: nothing escapes files_dir.
  EXPECT_TRUE(std::filesystem::exists(o.files_dir + "/name.txt"));
  std::filesystem::remove_all(o.files_dir);
}

}  // namespace
}  // namespace sc::qxl
