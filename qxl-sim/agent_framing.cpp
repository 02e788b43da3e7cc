#include "qxl-sim/agent_framing.hpp"

#include <algorithm>
#include <cstring>

namespace sc::qxl {

bool AgentDeframer::take_payload(uint32_t port, const uint8_t* p, size_t n,
                                 std::vector<AgentMessage>& out) {
  PortState& st = ports_[port];
  bool ok = true;
  while (n > 0) {
    // First complete the message header, then the data it announces.
    if (st.buffer.size() < sizeof(VDAgentMessage)) {
      const size_t take = std::min(n, sizeof(VDAgentMessage) - st.buffer.size());
      st.buffer.insert(st.buffer.end(), p, p + take);
      p += take, n -= take;
      if (st.buffer.size() < sizeof(VDAgentMessage)) break;
    }
    VDAgentMessage hdr;
    std::memcpy(&hdr, st.buffer.data(), sizeof hdr);
    if (hdr.protocol != VD_AGENT_PROTOCOL || hdr.size > max_message_) {
      error_ = hdr.protocol != VD_AGENT_PROTOCOL
                   ? "agent message with protocol " + std::to_string(hdr.protocol)
                   : "agent message of " + std::to_string(hdr.size) + " bytes exceeds the limit";
      st.buffer.clear();
      return false;  // the rest of this chunk cannot be trusted
    }
    const size_t want = sizeof hdr + hdr.size;
    const size_t take = std::min(n, want - st.buffer.size());
    st.buffer.insert(st.buffer.end(), p, p + take);
    p += take, n -= take;
    if (st.buffer.size() == want) {
      AgentMessage m;
      m.port = port;
      m.type = hdr.type;
      m.opaque = hdr.opaque;
      m.data.assign(st.buffer.begin() + sizeof hdr, st.buffer.end());
      out.push_back(std::move(m));
      st.buffer.clear();
    }
  }
  return ok;
}

bool AgentDeframer::feed(std::span<const uint8_t> bytes, std::vector<AgentMessage>& out) {
  bool ok = true;
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    if (chunk_left_ == 0) {
      const size_t take = std::min(n, sizeof(VDIChunkHeader) - chunk_header_.size());
      chunk_header_.insert(chunk_header_.end(), p, p + take);
      p += take, n -= take;
      if (chunk_header_.size() < sizeof(VDIChunkHeader)) break;
      VDIChunkHeader h;
      std::memcpy(&h, chunk_header_.data(), sizeof h);
      chunk_header_.clear();
      chunk_port_ = h.port;
      chunk_left_ = h.size;
      continue;
    }
    const size_t take = std::min<size_t>(n, chunk_left_);
    if (!take_payload(chunk_port_, p, take, out)) ok = false;
    p += take, n -= take;
    chunk_left_ -= uint32_t(take);
  }
  return ok;
}

std::vector<uint8_t> frame_agent_message(uint32_t type, std::span<const uint8_t> data,
                                         uint32_t port, size_t max_chunk_payload) {
  VDAgentMessage hdr{};
  hdr.protocol = VD_AGENT_PROTOCOL;
  hdr.type = type;
  hdr.opaque = 0;
  hdr.size = uint32_t(data.size());
  std::vector<uint8_t> message(sizeof hdr + data.size());
  std::memcpy(message.data(), &hdr, sizeof hdr);
  if (!data.empty()) std::memcpy(message.data() + sizeof hdr, data.data(), data.size());

  std::vector<uint8_t> out;
  out.reserve(message.size() + (message.size() / max_chunk_payload + 1) * sizeof(VDIChunkHeader));
  for (size_t off = 0; off < message.size(); off += max_chunk_payload) {
    const size_t len = std::min(max_chunk_payload, message.size() - off);
    VDIChunkHeader ch{port, uint32_t(len)};
    const auto* hp = reinterpret_cast<const uint8_t*>(&ch);
    out.insert(out.end(), hp, hp + sizeof ch);
    out.insert(out.end(), message.begin() + ptrdiff_t(off), message.begin() + ptrdiff_t(off + len));
  }
  return out;
}

}  // namespace sc::qxl
