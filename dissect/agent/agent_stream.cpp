#include "dissect/agent/agent_stream.hpp"

#include <algorithm>
#include <cstring>

namespace sc::agent {
namespace {

uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }
void put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back(uint8_t(x >> (8 * i)));
}

}  // namespace

std::optional<Header> parse_header(std::span<const uint8_t> b) {
  if (b.size() < kHeaderSize) return std::nullopt;
  return Header{le32(b.data()), le32(b.data() + 4), le64(b.data() + 8), le32(b.data() + 16)};
}

void append_header(std::vector<uint8_t>& out, const Header& h) {
  put32(out, h.protocol);
  put32(out, h.type);
  put32(out, uint32_t(h.opaque));
  put32(out, uint32_t(h.opaque >> 32));
  put32(out, h.size);
}

std::string_view problem_code_name(StreamProblem::Code c) {
  switch (c) {
    case StreamProblem::Code::Lost: return "agent_message_lost";
    case StreamProblem::Code::BadHeader: return "agent_bad_header";
    case StreamProblem::Code::Oversized: return "agent_message_oversized";
    case StreamProblem::Code::Unsynced: return "agent_unsynced";
  }
  return "agent_problem";
}

bool AgentStream::plausible(const Header& h) const {
  return h.protocol == kProtocol && h.type > 0 && h.type < options_.known_types && h.size <= options_.max_body;
}

void AgentStream::drop_partial(uint64_t carrier, Output& out, const char* why) {
  if (pending() > 0) {
    StreamProblem p{StreamProblem::Code::Lost, carrier, 0, pending(), ""};
    p.text = have_header_ ? "agent message (type " + std::to_string(current_.type) + ", " +
                                std::to_string(current_.size) + " bytes) " + why + " after " +
                                std::to_string(received_) + " bytes of its body"
                          : std::string("agent message header ") + why + " after " +
                                std::to_string(header_.size()) + " of " + std::to_string(kHeaderSize) + " bytes";
    out.problems.push_back(std::move(p));
  }
  header_.clear();
  have_header_ = false;
  received_ = 0;
  building_ = Message{};
}

void AgentStream::feed(std::span<const uint8_t> bytes, uint64_t carrier, Output& out) {
  size_t at = 0;
  if (!synced_) {
    // Only a whole header at the very start of a carrier is trusted.
    const auto h = parse_header(bytes);
    if (!h || !plausible(*h)) {
      if (unsynced_carriers_++ == 0) unsynced_first_ = carrier;
      unsynced_bytes_ += bytes.size();
      return;
    }
    if (unsynced_carriers_ > 0) {
      out.problems.push_back({StreamProblem::Code::Unsynced, unsynced_first_, 0, unsynced_bytes_,
                              std::to_string(unsynced_bytes_) + " agent bytes in " +
                                  std::to_string(unsynced_carriers_) +
                                  " messages skipped before the first trusted agent message header"});
      unsynced_carriers_ = unsynced_bytes_ = 0;
    }
    synced_ = true;
  }
  while (at < bytes.size()) {
    if (!have_header_) {
      if (header_.empty()) building_.span = Span{carrier, static_cast<uint32_t>(at), carrier};
      const size_t take = std::min(bytes.size() - at, kHeaderSize - header_.size());
      header_.insert(header_.end(), bytes.begin() + ptrdiff_t(at), bytes.begin() + ptrdiff_t(at + take));
      at += take;
      if (header_.size() < kHeaderSize) break;
      current_ = *parse_header(header_);
      header_.clear();
      if (current_.protocol != kProtocol) {
        out.problems.push_back({StreamProblem::Code::BadHeader, building_.span.first_carrier,
                                building_.span.first_offset, bytes.size() - at + kHeaderSize,
                                "agent message header with protocol " + std::to_string(current_.protocol) +
                                    " (expected 1): skipped to the next trusted header"});
        building_ = Message{};
        synced_ = false;
        if (unsynced_carriers_++ == 0) unsynced_first_ = carrier;
        unsynced_bytes_ += bytes.size() - at;
        return;
      }
      have_header_ = true;
      received_ = 0;
      building_.header = current_;
      building_.body_kept = current_.size <= options_.max_body;
      if (!building_.body_kept) {
        out.problems.push_back({StreamProblem::Code::Oversized, building_.span.first_carrier,
                                building_.span.first_offset, current_.size,
                                "agent message of " + std::to_string(current_.size) + " bytes exceeds the " +
                                    std::to_string(options_.max_body) + "-byte limit: its body is not kept"});
      } else {
        building_.body.reserve(current_.size);
      }
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(bytes.size() - at, current_.size - received_));
    if (building_.body_kept) {
      building_.body.insert(building_.body.end(), bytes.begin() + ptrdiff_t(at), bytes.begin() + ptrdiff_t(at + take));
    }
    at += take;
    received_ += take;
    building_.span.last_carrier = carrier;
    if (received_ == current_.size) {
      out.messages.push_back(std::move(building_));
      building_ = Message{};
      have_header_ = false;
      received_ = 0;
    }
  }
}

void AgentStream::lose(uint64_t carrier, Output& out) {
  drop_partial(carrier, out, "cut by lost bytes");
  synced_ = false;
}

void AgentStream::finish(uint64_t carrier, Output& out) {
  drop_partial(carrier, out, "cut by the end of the stream");
  if (unsynced_carriers_ > 0) {
    out.problems.push_back({StreamProblem::Code::Unsynced, unsynced_first_, 0, unsynced_bytes_,
                            std::to_string(unsynced_bytes_) + " agent bytes in " + std::to_string(unsynced_carriers_) +
                                " messages never reached a trusted agent message header"});
    unsynced_carriers_ = unsynced_bytes_ = 0;
  }
}

}  // namespace sc::agent
