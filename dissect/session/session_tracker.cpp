#include "dissect/session/session_tracker.hpp"

#include <spice/enums.h>

namespace sc::session {

void SessionTracker::channel_opened(uint32_t connection, std::string client_ip, std::string server_ip,
                                    std::string server, uint64_t ts_ns) {
  conns_[connection] = Conn{std::move(client_ip), std::move(server_ip), std::move(server), ts_ns, std::nullopt};
}

void SessionTracker::tls_channel_opened(uint32_t connection, uint64_t ts_ns) {
  auto it = conns_.find(connection);
  if (it == conns_.end()) return;
  const Session* best = nullptr;
  for (const auto& [id, s] : sessions_) {
    if (s.client_ip != it->second.client_ip || s.server_ip != it->second.server_ip) continue;
    if (!best || s.first_ts_ns > best->first_ts_ns) best = &s;
  }
  if (best) join(connection, best->session_id, ts_ns);
}

void SessionTracker::channel_known(uint32_t connection, const framing::ChannelState& state) {
  // The main channel learns its session from main.init; the others name it at link time.
  if (state.connection_id == 0 || state.channel_type == SPICE_CHANNEL_MAIN) return;
  auto it = conns_.find(connection);
  if (it == conns_.end()) return;
  join(connection, state.connection_id, it->second.first_ts_ns);
}

void SessionTracker::frame(uint32_t connection, const framing::Frame& f, const framing::ChannelState& state,
                           const decode::DecodedFrame& decoded) {
  if (!f.def || f.def->is_link()) return;
  if (state.channel_type == SPICE_CHANNEL_MAIN && f.def->type == SPICE_MSG_MAIN_INIT &&
      f.dir == schema::Direction::S2C) {
    if (const auto* v = decoded.own.find("main.init.session_id")) {
      join(connection, static_cast<uint32_t>(v->number), f.ts_ns);
    }
  }
  Session* s = session_of(connection);
  if (!s) return;
  s->last_ts_ns = std::max(s->last_ts_ns, f.ts_ns);
  if (state.channel_type == SPICE_CHANNEL_DISPLAY && f.def->type == SPICE_MSGC_DISPLAY_INIT &&
      f.dir == schema::Direction::C2S) {
    DisplayCaches& c = s->display_caches[connection];
    const auto number = [&](std::string_view path) -> std::optional<int64_t> {
      if (const auto* v = decoded.own.find(path)) return static_cast<int64_t>(v->number);
      return std::nullopt;
    };
    if (auto v = number("display.init.pixmap_cache_id")) c.pixmap_cache_id = static_cast<uint8_t>(*v);
    c.pixmap_cache_size = number("display.init.pixmap_cache_size");
    if (auto v = number("display.init.glz_dictionary_id")) c.glz_dictionary_id = static_cast<uint8_t>(*v);
    c.glz_dictionary_window = number("display.init.glz_dictionary_window_size");
  }
}

void SessionTracker::channel_closed(uint32_t connection, uint64_t ts_ns) {
  auto it = conns_.find(connection);
  if (it == conns_.end()) return;
  const auto session = it->second.session;
  conns_.erase(it);
  if (!session) return;
  auto s = sessions_.find(*session);
  if (s == sessions_.end()) return;
  s->second.open_channels.erase(connection);
  s->second.last_ts_ns = std::max(s->second.last_ts_ns, ts_ns);
  if (s->second.open_channels.empty()) end(*session);
}

void SessionTracker::finish() {
  while (!sessions_.empty()) end(sessions_.begin()->first);
  conns_.clear();
}

Session* SessionTracker::session_of(uint32_t connection) {
  auto it = conns_.find(connection);
  if (it == conns_.end() || !it->second.session) return nullptr;
  auto s = sessions_.find(*it->second.session);
  return s == sessions_.end() ? nullptr : &s->second;
}

void SessionTracker::join(uint32_t connection, uint32_t session_id, uint64_t ts_ns) {
  Conn& c = conns_[connection];
  if (c.session == session_id) return;
  c.session = session_id;
  auto [it, fresh] = sessions_.try_emplace(session_id);
  Session& s = it->second;
  if (fresh) {
    s.session_id = session_id;
    s.server = c.server;
    s.client_ip = c.client_ip;
    s.server_ip = c.server_ip;
    s.first_ts_ns = s.last_ts_ns = ts_ns;
  }
  s.first_ts_ns = std::min(s.first_ts_ns, std::min(ts_ns, c.first_ts_ns ? c.first_ts_ns : ts_ns));
  s.last_ts_ns = std::max(s.last_ts_ns, ts_ns);
  s.channels.insert(connection);
  s.open_channels.insert(connection);
  if (listener_) listener_->on_channel_joined(connection, s);
}

void SessionTracker::end(uint32_t session_id) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  if (listener_) listener_->on_session_end(it->second);
  sessions_.erase(it);
}

}  // namespace sc::session
