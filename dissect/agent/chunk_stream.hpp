#pragma once
// The agent byte stream as the guest's virtio port carries it: VDIChunkHeader
// {port, size} (8 bytes, little-endian) then `size` bytes, the payloads of one
// port concatenating into that port's agent messages (agent_stream.hpp). The
// server strips these headers before main.agent_data, so only the device side
// (the simulated guest in qxl-sim/) sees them.
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "dissect/agent/agent_stream.hpp"

namespace sc::agent {

inline constexpr size_t kChunkHeaderSize = 8;
inline constexpr uint32_t kClientPort = 1;  // VDP_CLIENT_PORT
inline constexpr uint32_t kServerPort = 2;  // VDP_SERVER_PORT
inline constexpr size_t kMaxCarrier = 2048;  // VD_AGENT_MAX_DATA_SIZE: a chunk or agent_data body at most

class ChunkStream {
 public:
  explicit ChunkStream(AgentStream::Options options = {}) : options_(options) {}

  struct Output {
    std::vector<std::pair<uint32_t, Message>> messages;  // (port, message)
    std::vector<StreamProblem> problems;
  };
  // Appends every message completed by `bytes`; chunk headers may be split anywhere.
  void feed(std::span<const uint8_t> bytes, Output& out);

 private:
  AgentStream::Options options_;
  std::vector<uint8_t> chunk_header_;
  uint32_t port_ = 0;
  uint32_t left_ = 0;
  uint64_t chunks_ = 0;
  std::map<uint32_t, AgentStream> ports_;
  AgentStream::Output scratch_;
};

// One message (header + body) as chunks of at most `max_payload` bytes for `port`.
std::vector<uint8_t> frame_message(uint32_t type, std::span<const uint8_t> body, uint32_t port = kClientPort,
                                   size_t max_payload = kMaxCarrier - kChunkHeaderSize);

}  // namespace sc::agent
