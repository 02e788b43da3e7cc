#pragma once
// One SPICE connection as its source knows it (ConnectionInfo) with the framer
// that cuts its two byte streams into frames, reported to a ConnectionSink under
// that info. Every source of connections uses it: the importer (bytes from TCP
// reassembly) and the recorder (bytes as relayed).
#include <memory>

#include "capture/importer.hpp"

namespace sc::capture {

class FramedConnection : private framing::FrameSink {
 public:
  // A TLS connection of a passive capture (info.tls) has no framer: its bytes are
  // not readable, only counted by whoever owns it.
  FramedConnection(ConnectionSink& sink, ConnectionInfo info, const framing::FramerOptions& options);
  ~FramedConnection() override;

  void feed(framing::Direction dir, std::span<const uint8_t> bytes, uint64_t ts_ns) {
    if (framer_) framer_->feed(dir, bytes, ts_ns);
  }
  void gap(framing::Direction dir, uint64_t bytes, uint64_t ts_ns) {
    if (framer_) framer_->gap(dir, bytes, ts_ns);
  }
  // End of both streams: partial messages are flushed, then the sink hears on_close.
  void close(uint64_t ts_ns);

  const ConnectionInfo& info() const { return info_; }
  const framing::ChannelState& state() const;

 private:
  void on_frame(const framing::Frame& f, const framing::ChannelState& s) override { sink_.on_frame(info_, f, s); }
  void on_problem(const framing::Problem& p, const framing::ChannelState& s) override {
    sink_.on_problem(info_, p, s);
  }
  void on_channel_known(const framing::ChannelState& s) override { sink_.on_channel_known(info_, s); }

  ConnectionSink& sink_;
  ConnectionInfo info_;
  std::unique_ptr<framing::ConnectionFramer> framer_;
};

}  // namespace sc::capture
