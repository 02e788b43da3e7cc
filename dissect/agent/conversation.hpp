#pragma once
// The agent conversation of one session, followed from its main channel.
//
// Feed it every main-channel message (decoded with the main channel's
// description) in stream order; it tracks what the main channel says about the
// agent (connected or not, the token flow each way, who started it), reassembles
// main.agent_data into agent messages (agent_stream.hpp), decodes each one with
// the agent layer of the description (dissect/proto/agent.cpp) under the
// capabilities both agents announced, and follows the clipboard and file
// transfers they carry. What it finds goes to a Listener: the store, the CLI and
// the Wireshark plugin each implement one.
//
// Directions are the main channel's: C2S is client to guest, S2C guest to client.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "dissect/agent/agent_stream.hpp"
#include "dissect/decode/frame_decode.hpp"
#include "dissect/framing/frame.hpp"

namespace sc::agent {

using schema::Direction;

// One reassembled agent message with its decoded fields.
struct AgentMessageEvent {
  Direction dir;
  const Message& message;
  const schema::MessageDef* def;          // agent.* for known types, null otherwise
  const decode::DecodedMessage& decoded;  // empty when def is null
  uint64_t ts_ns;                         // when its last byte arrived
};

// One clipboard transfer (a VD_AGENT_CLIPBOARD message with its data).
struct ClipboardItem {
  Direction dir;
  uint64_t ts_ns = 0;
  std::optional<uint32_t> selection;  // with the selection capability
  uint32_t type = 0;                  // VD_AGENT_CLIPBOARD_* (utf8_text, image_png, ...)
  std::span<const uint8_t> data;
  std::optional<uint32_t> serial;     // serial of the grab that offered it (grab-serial capability)
  std::string sha256;                 // hex
  Span span;
};

struct FileTransfer {
  enum class Status : uint8_t {
    InProgress, Success, Cancelled, Error, NotEnoughSpace, SessionLocked, AgentNotConnected, Disabled,
    Incomplete,  // the stream ended (or lost bytes) before a final status
  };
  uint32_t id = 0;
  Direction dir = Direction::C2S;     // the direction the file's bytes travel
  std::string name;
  std::optional<uint64_t> declared_size;
  uint64_t bytes_seen = 0;
  std::string sha256;                 // hex, of the bytes seen (final when the transfer ends)
  Status status = Status::InProgress;
  Direction status_from = Direction::S2C;  // who sent the final status
  std::string error;                  // detail of a failure, in words
  uint64_t start_ns = 0, end_ns = 0, last_data_ns = 0;
  uint64_t first_carrier = 0, last_carrier = 0;
  bool bytes_lost = false;            // a capture gap fell inside it
};
std::string_view status_name(FileTransfer::Status s);

struct AgentDiagnostic {
  decode::Severity severity = decode::Severity::Warning;
  std::string code;  // stable: agent_not_connected, agent_tokens_exhausted, clipboard_release_not_owner, ...
  Direction dir;
  uint64_t carrier = 0;  // the main-channel message that showed it
  uint64_t ts_ns = 0;
  std::string text;
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual void on_agent_message(const AgentMessageEvent&) {}
  virtual void on_clipboard(const ClipboardItem&) {}
  // A transfer's file bytes as they arrive (in order; after a loss the rest is missing).
  virtual void on_file_data(const FileTransfer&, std::span<const uint8_t>) {}
  // A transfer ended (status final), or the conversation finished with it open.
  virtual void on_transfer_end(const FileTransfer&) {}
  virtual void on_diagnostic(const AgentDiagnostic&) {}
};

class Conversation {
 public:
  struct Options {
    size_t max_body = 64u << 20;          // agent messages above this are not kept
    uint64_t stall_ns = 10'000'000'000;   // a transfer without data this long is reported stalled
    uint64_t race_ns = 100'000'000;       // clipboard grabs from both sides this close together race
  };
  explicit Conversation(Listener& listener) : Conversation(listener, Options{}) {}
  Conversation(Listener& listener, Options options);
  ~Conversation();
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  // One main-channel message. `carrier` identifies it for the listener (a store
  // stream offset, a Wireshark frame number); body is the message body.
  void on_main_message(Direction dir, const decode::DecodedMessage& decoded, std::span<const uint8_t> body,
                       uint64_t carrier, uint64_t ts_ns);
  // Bytes of the main channel were lost in `dir` before the next message.
  void on_gap(Direction dir, uint64_t carrier, uint64_t ts_ns);
  // The same, for consumers behind a ConnectionFramer (the store writer, the
  // Wireshark plugin): each frame as the framer cut it, with its decode (read only
  // for frames of the description), and every framing problem. The carrier is the
  // frame's stream offset; undecodable bytes and capture gaps are losses.
  void on_frame(const framing::Frame& f, const decode::DecodedFrame& d);
  void on_framing_problem(const framing::Problem& p);
  // The channel was picked up mid-session: positions and states are unknown.
  void start_midstream();
  // The channel closed: open messages and transfers are reported.
  void finish(uint64_t ts_ns);

  // The agent capabilities each side announced, and those both have.
  const decode::CapSet& announced(Direction dir) const { return caps_[static_cast<int>(dir)]; }
  const decode::NegotiatedCaps& negotiated() const { return negotiated_; }
  std::optional<bool> agent_connected() const { return connected_; }

 private:
  struct Side;
  void on_agent_data(Direction dir, std::span<const uint8_t> payload, uint64_t carrier, uint64_t ts_ns);
  void handle(Direction dir, const Message& m, uint64_t ts_ns);
  void use_token(Direction dir, uint64_t carrier, uint64_t ts_ns);
  void grant(Direction dir, uint64_t tokens, bool absolute);
  void diagnose(decode::Severity sev, std::string code, Direction dir, uint64_t carrier, uint64_t ts_ns,
                std::string text);
  void clipboard_control(Direction dir, const Message& m, const decode::DecodedMessage& d, uint64_t ts_ns);
  void clipboard_data(Direction dir, const Message& m, const decode::DecodedMessage& d, uint64_t ts_ns);
  void transfer_start(Direction dir, const Message& m, const decode::DecodedMessage& d, uint64_t ts_ns);
  void transfer_status(Direction dir, const Message& m, const decode::DecodedMessage& d, uint64_t ts_ns);
  void transfer_data(Direction dir, const Message& m, const decode::DecodedMessage& d, uint64_t ts_ns);
  void end_transfer(uint32_t id, FileTransfer::Status status, Direction from, std::string error, uint64_t ts_ns);
  void check_stalls(uint64_t ts_ns, uint64_t carrier);

  Listener& listener_;
  Options options_;
  std::unique_ptr<Side> sides_[2];
  std::optional<bool> connected_;
  decode::CapSet caps_[2];
  decode::NegotiatedCaps negotiated_;
  decode::DecodedMessage decoded_;
  AgentStream::Output out_;
  // Clipboard owner per selection: the side that grabbed it last.
  struct Owner {
    Direction side;
    uint64_t since_ns;
    std::optional<uint32_t> serial;
  };
  std::map<uint32_t, Owner> owners_;
  std::optional<uint32_t> last_serial_[2];
  std::optional<int32_t> max_clipboard_[2];  // what each side said it accepts
  struct Transfer;
  std::map<uint32_t, std::unique_ptr<Transfer>> transfers_;
  std::set<uint32_t> ended_;  // ids of transfers that ended (late messages for them are explained)
  std::set<uint32_t> unknown_data_;  // ids data arrived for without a start (reported once each)
  uint64_t last_ts_ = 0;
};

}  // namespace sc::agent
