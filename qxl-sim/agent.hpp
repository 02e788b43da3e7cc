#pragma once
// The simulated guest agent (spice-vdagent) on the "vdagent" char device.
//
// - Announces its capabilities when started and answers the client's
//   announcement: mouse state, monitors config (+ sparse), reply, clipboard by
//   demand, clipboard selection, grab serial, max clipboard, guest line end LF,
//   file-transfer detailed errors.
// - Clipboard, guest to client: grab_clipboard() announces UTF8 text and PNG;
//   the client's requests are answered from the stored text / a generated PNG.
// - Clipboard, client to guest: on a client grab the guest immediately asks for
//   the first type (as a pasting application would) and reports what arrived.
// - File transfer: files land in files_dir (name sanitised, never overwritten);
//   status replies CAN_SEND_DATA / SUCCESS / ERROR; client cancellation deletes
//   the partial file; `fail` forces "not-enough-space", "error", "disabled" or
//   "cancel" (guest cancels after the first data message).
// - Monitors config: the layout's bounding box becomes a resize request.
// - Mouse state (agent mouse): reported and forwarded to on_mouse.
// Bytes toward the server go through the `output` callback. Main thread only.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <spice/vd_agent.h>

#include "dissect/agent/chunk_stream.hpp"
#include "qxl-sim/events.hpp"
#include "qxl-sim/geometry.hpp"

namespace sc::qxl {

class GuestAgent {
 public:
  struct Options {
    std::string files_dir;
    std::string fail;              // "", "not-enough-space", "error", "disabled", "cancel"
    std::string clipboard_text;    // what the guest puts on its clipboard when it grabs
    int32_t max_clipboard = -1;    // announced with VD_AGENT_MAX_CLIPBOARD if >= 0
  };
  using Output = std::function<void(std::vector<uint8_t>)>;

  GuestAgent(Options options, EventSink events, Output output);
  ~GuestAgent();
  GuestAgent(const GuestAgent&) = delete;
  GuestAgent& operator=(const GuestAgent&) = delete;

  // The agent process "starts": announce capabilities (request=1).
  void start();
  void on_bytes(std::span<const uint8_t> bytes);
  // The guest copies: grab the clipboard selection with text and PNG.
  void grab_clipboard();

  std::function<void(Size)> on_resize;
  std::function<void(int32_t x, int32_t y, uint32_t buttons)> on_mouse;

  struct Counters {
    uint64_t messages_in = 0;
    uint64_t messages_out = 0;
    uint64_t files_done = 0;
    uint64_t file_bytes = 0;
    uint64_t clipboard_in = 0;
    uint64_t clipboard_out = 0;
  };
  Counters counters() const { return counters_; }

 private:
  struct Transfer;
  using AgentMessage = agent::Message;
  void handle(const AgentMessage& m);
  void send(uint32_t type, std::span<const uint8_t> data);
  void announce(bool request);
  bool has_client_cap(uint32_t cap) const;
  // Selection prefix of clipboard messages when both sides have the cap.
  size_t selection_header() const;

  void on_announce(const AgentMessage& m);
  void on_monitors(const AgentMessage& m);
  void on_mouse_state(const AgentMessage& m);
  void on_clipboard_grab(const AgentMessage& m);
  void on_clipboard_request(const AgentMessage& m);
  void on_clipboard_data(const AgentMessage& m);
  void on_clipboard_release(const AgentMessage& m);
  void on_file_start(const AgentMessage& m);
  void on_file_status(const AgentMessage& m);
  void on_file_data(const AgentMessage& m);
  void file_status(uint32_t id, uint32_t result, std::span<const uint8_t> detail = {});
  void finish_transfer(uint32_t id, bool keep);

  Options options_;
  EventSink events_;
  Output output_;
  agent::ChunkStream chunks_;
  std::vector<uint32_t> client_caps_;
  uint32_t grab_serial_ = 0;
  std::map<uint32_t, std::unique_ptr<Transfer>> transfers_;
  Counters counters_;
};

// PNG encoding of xRGB pixels (libpng), used for the guest's image clipboard.
std::vector<uint8_t> encode_png(uint32_t width, uint32_t height, const std::vector<uint32_t>& xrgb);

}  // namespace sc::qxl
