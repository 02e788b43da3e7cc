#pragma once
// Agent messages out of one direction of the agent byte stream.
//
// The stream is a sequence of VDAgentMessage headers (protocol, type, opaque,
// size: 20 bytes, little-endian) each followed by `size` bytes of body. On the
// main channel it arrives as the bodies of main.agent_data messages (the
// "carriers", at most 2048 bytes each); inside the guest it arrives in
// VDIChunks (see chunk_stream.hpp). Either way a message may span many pieces
// and a piece may end mid-header.
//
// Losing bytes (a capture gap, a capture that starts mid-session) leaves the
// stream position unknown. Every agent sends each message starting at a fresh
// carrier, so after a loss reassembly resumes at the first carrier that starts
// with a plausible header (protocol 1, a known message type, a size within the
// limit), and reports what it dropped.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sc::agent {

inline constexpr size_t kHeaderSize = 20;
inline constexpr uint32_t kProtocol = 1;

struct Header {
  uint32_t protocol = 0;
  uint32_t type = 0;
  uint64_t opaque = 0;
  uint32_t size = 0;
};
std::optional<Header> parse_header(std::span<const uint8_t> bytes);
void append_header(std::vector<uint8_t>& out, const Header& h);

// Where a message's bytes came from: carrier ids are the caller's (store message
// ids, Wireshark frame numbers, chunk counters).
struct Span {
  uint64_t first_carrier = 0;
  uint32_t first_offset = 0;  // where the header starts in the first carrier
  uint64_t last_carrier = 0;
};

struct Message {
  Header header;
  std::vector<uint8_t> body;  // empty when the body was larger than the limit (body_kept = false)
  bool body_kept = true;
  Span span;
};

struct StreamProblem {
  enum class Code : uint8_t {
    Lost,        // bytes lost mid-message: that message is dropped
    BadHeader,   // a header that cannot be one (wrong protocol): skipped up to the next trusted header
    Oversized,   // a message larger than the limit: its body is skipped, not kept
    Unsynced,    // carriers skipped while looking for a trusted header
  };
  Code code;
  uint64_t carrier = 0;
  uint32_t offset = 0;
  uint64_t bytes = 0;  // how many bytes the problem concerns
  std::string text;
};
std::string_view problem_code_name(StreamProblem::Code c);

class AgentStream {
 public:
  struct Options {
    size_t max_body = 64u << 20;  // bodies above this are skipped, not kept
    uint32_t known_types = 17;    // message types below this are plausible when resynchronising
  };
  AgentStream() : AgentStream(Options{}) {}
  explicit AgentStream(Options options) : options_(options) {}

  struct Output {
    std::vector<Message> messages;
    std::vector<StreamProblem> problems;
    void clear() {
      messages.clear();
      problems.clear();
    }
  };

  // One carrier's bytes, in order. Completed messages and problems are appended to `out`.
  void feed(std::span<const uint8_t> bytes, uint64_t carrier, Output& out);
  // Bytes were lost before the next carrier: drop the partial message and resynchronise.
  void lose(uint64_t carrier, Output& out);
  // Start without knowing where messages begin (mid-session capture).
  void start_unsynced() { synced_ = false; }
  // The stream ended: a message still open is reported as lost (returned bytes held).
  void finish(uint64_t carrier, Output& out);

  bool synced() const { return synced_; }
  // Bytes of the message being assembled (header included).
  size_t pending() const { return header_.size() + (have_header_ ? received_ : 0); }

 private:
  bool plausible(const Header& h) const;
  void drop_partial(uint64_t carrier, Output& out, const char* why);

  Options options_;
  bool synced_ = true;
  std::vector<uint8_t> header_;  // header bytes gathered so far
  bool have_header_ = false;
  Header current_;
  Message building_;
  uint64_t received_ = 0;         // body bytes of the current message seen
  uint64_t unsynced_carriers_ = 0;
  uint64_t unsynced_bytes_ = 0;
  uint64_t unsynced_first_ = 0;
};

}  // namespace sc::agent
