#include "capture/decode_fanout.hpp"

namespace sc::capture {

void DecodeFanout::on_open(const ConnectionInfo& c) {
  tracker_.channel_opened(c.id, c.client.address_string(), c.server.address_string(), c.server.to_string(),
                          c.first_ts_ns);
  for (auto* k : consumers_) k->on_open(c);
  if (c.tls) tracker_.tls_channel_opened(c.id, c.first_ts_ns);
}

void DecodeFanout::on_frame(const ConnectionInfo& c, const framing::Frame& f, const framing::ChannelState& s) {
  const decode::FrameRef ref{.def = decode_ ? f.def : nullptr,
                             .channel_type = s.channel_type,
                             .dir = f.dir,
                             .body = f.body,
                             .sub_list = f.sub_list};
  decode::decode_frame(ref, s.negotiated, decoded_);
  tracker_.frame(c.id, f, s, decoded_);
  for (auto* k : consumers_) k->on_frame(c, f, s, decoded_);
}

void DecodeFanout::on_problem(const ConnectionInfo& c, const framing::Problem& p, const framing::ChannelState& s) {
  for (auto* k : consumers_) k->on_problem(c, p, s);
}

void DecodeFanout::on_channel_known(const ConnectionInfo& c, const framing::ChannelState& s) {
  for (auto* k : consumers_) k->on_channel_known(c, s);
  tracker_.channel_known(c.id, s);
}

void DecodeFanout::on_tls(const ConnectionInfo& c, const TlsInfo& t) {
  for (auto* k : consumers_) k->on_tls(c, t);
}

void DecodeFanout::on_close(const ConnectionInfo& c, const framing::ChannelState& s, uint64_t ts_ns) {
  for (auto* k : consumers_) k->on_close(c, s, ts_ns);
  tracker_.channel_closed(c.id, ts_ns);
}

void DecodeFanout::on_channel_joined(uint32_t connection, session::Session& s) {
  for (auto* k : consumers_) k->on_channel_joined(connection, s);
}

void DecodeFanout::on_session_end(session::Session& s) {
  for (auto* k : consumers_) k->on_session_end(s);
}

}  // namespace sc::capture
