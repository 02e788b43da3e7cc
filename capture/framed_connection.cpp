#include "capture/framed_connection.hpp"

namespace sc::capture {

namespace {
const framing::ChannelState kNoState;
}

FramedConnection::FramedConnection(ConnectionSink& sink, ConnectionInfo info, const framing::FramerOptions& options)
    : sink_(sink), info_(std::move(info)) {
  if (!info_.tls) framer_ = std::make_unique<framing::ConnectionFramer>(static_cast<framing::FrameSink&>(*this), info_.midstream, options);
}

FramedConnection::~FramedConnection() = default;

const framing::ChannelState& FramedConnection::state() const { return framer_ ? framer_->state() : kNoState; }

void FramedConnection::close(uint64_t ts_ns) {
  if (framer_) framer_->finish(ts_ns);
  sink_.on_close(info_, state(), ts_ns);
}

}  // namespace sc::capture
