#pragma once
// The vdagent byte stream: a sequence of VDIChunkHeader{port, size} + payload;
// the payloads of one port concatenate into VDAgentMessage{protocol, type,
// opaque, size, data}. A message may span many chunks (file data arrives as
// 64 KiB messages cut into 2 KiB chunks) and a chunk may end mid-header.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <spice/vd_agent.h>

namespace sc::qxl {

struct AgentMessage {
  uint32_t port = 0;
  uint32_t type = 0;
  uint64_t opaque = 0;
  std::vector<uint8_t> data;
};

class AgentDeframer {
 public:
  explicit AgentDeframer(size_t max_message = 64 << 20) : max_message_(max_message) {}

  // Appends every message completed by `bytes`. On a protocol error (wrong
  // protocol number, oversized message) it returns false, sets error() and
  // drops that port's partial message; later input is still parsed.
  bool feed(std::span<const uint8_t> bytes, std::vector<AgentMessage>& out);
  const std::string& error() const { return error_; }

 private:
  struct PortState {
    std::vector<uint8_t> buffer;  // header bytes, then header + data
  };
  bool take_payload(uint32_t port, const uint8_t* p, size_t n, std::vector<AgentMessage>& out);

  size_t max_message_;
  std::vector<uint8_t> chunk_header_;
  uint32_t chunk_port_ = 0;
  uint32_t chunk_left_ = 0;
  std::map<uint32_t, PortState> ports_;
  std::string error_;
};

// Max payload per chunk a guest writes (what the Linux vdagent uses).
inline constexpr size_t kAgentChunkPayload = VD_AGENT_MAX_DATA_SIZE - sizeof(VDIChunkHeader);

// One message as chunks ready for the char device.
std::vector<uint8_t> frame_agent_message(uint32_t type, std::span<const uint8_t> data,
                                         uint32_t port = VDP_CLIENT_PORT,
                                         size_t max_chunk_payload = kAgentChunkPayload);

}  // namespace sc::qxl
