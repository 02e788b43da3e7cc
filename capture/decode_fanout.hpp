#pragma once
// The decode stage of import: every frame a capture yields is decoded once
// (decode::decode_frame) and handed, decoded, to each consumer in turn (the store
// writer, benchmarks, later the display, agent and latency consumers). A session
// tracker runs in front of them, so consumers find a frame's session already known.
#include <vector>

#include "capture/importer.hpp"
#include "dissect/decode/frame_decode.hpp"
#include "dissect/session/session_tracker.hpp"

namespace sc::capture {

class FrameConsumer {
 public:
  virtual ~FrameConsumer() = default;
  virtual void on_open(const ConnectionInfo&) {}
  virtual void on_frame(const ConnectionInfo&, const framing::Frame&, const framing::ChannelState&,
                        const decode::DecodedFrame&) {}
  virtual void on_problem(const ConnectionInfo&, const framing::Problem&, const framing::ChannelState&) {}
  virtual void on_channel_known(const ConnectionInfo&, const framing::ChannelState&) {}
  virtual void on_tls(const ConnectionInfo&, const TlsInfo&) {}
  virtual void on_close(const ConnectionInfo&, const framing::ChannelState&, uint64_t /*ts_ns*/) {}
  // The session tracker's events, in stream order with the frames.
  virtual void on_channel_joined(uint32_t /*connection*/, session::Session&) {}
  virtual void on_session_end(session::Session&) {}
};

class DecodeFanout : public ConnectionSink, private session::SessionListener {
 public:
  // With decode = false frames are framed and named only (consumers get an empty decode).
  explicit DecodeFanout(std::vector<FrameConsumer*> consumers, bool decode = true)
      : consumers_(std::move(consumers)), decode_(decode), tracker_(this) {}

  void on_open(const ConnectionInfo& c) override;
  void on_frame(const ConnectionInfo& c, const framing::Frame& f, const framing::ChannelState& s) override;
  void on_problem(const ConnectionInfo& c, const framing::Problem& p, const framing::ChannelState& s) override;
  void on_channel_known(const ConnectionInfo& c, const framing::ChannelState& s) override;
  void on_tls(const ConnectionInfo& c, const TlsInfo& t) override;
  void on_close(const ConnectionInfo& c, const framing::ChannelState& s, uint64_t ts_ns) override;
  // Ends the sessions still open; call after the capture's last packet.
  void finish() { tracker_.finish(); }

  session::SessionTracker& tracker() { return tracker_; }

 private:
  void on_channel_joined(uint32_t connection, session::Session& s) override;
  void on_session_end(session::Session& s) override;

  std::vector<FrameConsumer*> consumers_;
  bool decode_;
  session::SessionTracker tracker_;
  decode::DecodedFrame decoded_;
};

}  // namespace sc::capture
