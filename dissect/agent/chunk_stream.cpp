#include "dissect/agent/chunk_stream.hpp"

#include <algorithm>

namespace sc::agent {
namespace {

void put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back(uint8_t(x >> (8 * i)));
}

}  // namespace

void ChunkStream::feed(std::span<const uint8_t> bytes, Output& out) {
  size_t at = 0;
  while (at < bytes.size()) {
    if (left_ == 0) {
      const size_t take = std::min(bytes.size() - at, kChunkHeaderSize - chunk_header_.size());
      chunk_header_.insert(chunk_header_.end(), bytes.begin() + ptrdiff_t(at), bytes.begin() + ptrdiff_t(at + take));
      at += take;
      if (chunk_header_.size() < kChunkHeaderSize) break;
      const uint8_t* h = chunk_header_.data();
      port_ = uint32_t(h[0]) | uint32_t(h[1]) << 8 | uint32_t(h[2]) << 16 | uint32_t(h[3]) << 24;
      left_ = uint32_t(h[4]) | uint32_t(h[5]) << 8 | uint32_t(h[6]) << 16 | uint32_t(h[7]) << 24;
      chunk_header_.clear();
      ++chunks_;
      continue;
    }
    const size_t take = std::min<size_t>(bytes.size() - at, left_);
    auto [it, fresh] = ports_.try_emplace(port_, options_);
    scratch_.clear();
    it->second.feed(bytes.subspan(at, take), chunks_, scratch_);
    for (auto& m : scratch_.messages) out.messages.emplace_back(port_, std::move(m));
    for (auto& p : scratch_.problems) out.problems.push_back(std::move(p));
    at += take;
    left_ -= static_cast<uint32_t>(take);
  }
}

std::vector<uint8_t> frame_message(uint32_t type, std::span<const uint8_t> body, uint32_t port, size_t max_payload) {
  std::vector<uint8_t> message;
  message.reserve(kHeaderSize + body.size());
  append_header(message, Header{kProtocol, type, 0, static_cast<uint32_t>(body.size())});
  message.insert(message.end(), body.begin(), body.end());
  std::vector<uint8_t> out;
  out.reserve(message.size() + (message.size() / max_payload + 1) * kChunkHeaderSize);
  for (size_t off = 0; off < message.size(); off += max_payload) {
    const size_t len = std::min(max_payload, message.size() - off);
    put32(out, port);
    put32(out, static_cast<uint32_t>(len));
    out.insert(out.end(), message.begin() + ptrdiff_t(off), message.begin() + ptrdiff_t(off + len));
  }
  return out;
}

}  // namespace sc::agent
